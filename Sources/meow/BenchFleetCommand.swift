import ArgumentParser
import Foundation
import MeowModel
import MeowPlugins

/// `meow bench fleet`: how long the simulator takes to build a large fleet with history, and its memory.
struct BenchFleetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet",
        abstract: "Time building a simulated fleet with history (10k apps, 50k workloads, 1 day at 5 minutes by default).",
        discussion: "Run it from a release build (make bench). Prints build, advance and snapshot times and the peak RSS."
    )

    @Option(help: "Applications in the fleet.") var apps: Int = 10_000
    @Option(help: "Workloads per application.") var workloadsPerApp: Int = 5
    @Option(help: "History before the snapshot time, e.g. 1d.") var history: String = "1d"
    @Option(help: "Simulation step, e.g. 5m.") var step: String = "5m"
    @Option(help: "Faults to inject.") var faults: Int = 20
    @Option(help: "Values per series in a snapshot.") var seriesWindow: Int = 60
    @Flag(help: "Also time encoding the snapshot as JSON.") var json = false
    @Option(help: "Output format: text or json.") var output: OutputFormat = .text

    struct Result: Encodable {
        var apps, workloads, series, entities, steps: Int
        var buildSeconds, advanceHourSeconds, snapshotSeconds: Double
        var jsonSeconds: Double?
        var jsonMiB: Double?
        var buildMaxRSSMiB: Double
        var maxRSSMiB: Double
    }

    func validate() throws {
        guard Timestamp.parseDuration(history) != nil, let s = Timestamp.parseDuration(step), s >= 1 else {
            throw ValidationError("--history and --step take durations like 5m, 24h, 1d")
        }
    }

    func run() throws {
        let clock = ContinuousClock()
        var o = SimulationOptions()
        o.fleet.apps = apps
        o.fleet.workloadsPerApp = workloadsPerApp
        o.history = Timestamp.parseDuration(history) ?? 86400
        o.step = Timestamp.parseDuration(step) ?? 300
        o.faults = faults
        o.seriesWindow = seriesWindow
        Console.progress("bench fleet: \(apps) apps, history \(history) at \(step)…")
        let t0 = clock.now
        let sim = FleetSimulator(options: o)
        let build = (clock.now - t0).seconds
        let buildRSS = ProcessStats.maxRSSMiB()
        let t1 = clock.now
        sim.advance(by: 3600)
        let advance = (clock.now - t1).seconds
        let t2 = clock.now
        let snapshot = sim.snapshot()
        let snap = (clock.now - t2).seconds
        var jsonSeconds: Double?, jsonMiB: Double?
        if json {
            let t3 = clock.now
            let data = try snapshot.jsonData()
            jsonSeconds = (clock.now - t3).seconds
            jsonMiB = Double(data.count) / 1_048_576
        }
        let series = snapshot.entities.reduce(0) {
            if case .series = $1 { return $0 + 1 }; return $0
        }
        let r = Result(
            apps: apps, workloads: apps * workloadsPerApp, series: series, entities: snapshot.entities.count,
            steps: Int(o.history / o.step) + 1 + Int(3600 / o.step), buildSeconds: build, advanceHourSeconds: advance,
            snapshotSeconds: snap, jsonSeconds: jsonSeconds, jsonMiB: jsonMiB, buildMaxRSSMiB: buildRSS,
            maxRSSMiB: ProcessStats.maxRSSMiB())
        switch output {
        case .json:
            print(try Console.json(r))
        case .text:
            var text = """
                bench fleet: \(Console.count(r.apps)) apps, \(Console.count(r.workloads)) workloads, \(Console.count(r.series)) series, \(Console.count(r.entities)) entities
                  build (history \(history))   \(String(format: "%8.1f", build * 1000)) ms  (max RSS \(String(format: "%.1f", buildRSS)) MiB)
                  advance 1h              \(String(format: "%8.1f", advance * 1000)) ms
                  snapshot()              \(String(format: "%8.1f", snap * 1000)) ms
                """
            if let jsonSeconds, let jsonMiB {
                text +=
                    "\n  JSON encoding           \(String(format: "%8.1f", jsonSeconds * 1000)) ms  (\(String(format: "%.1f", jsonMiB)) MiB)"
            }
            text += "\n  max RSS                 \(String(format: "%8.1f", r.maxRSSMiB)) MiB"
            print(text)
        }
    }
}
