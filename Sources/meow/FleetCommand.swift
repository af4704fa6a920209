import ArgumentParser
import Foundation
import MeowModel
import MeowPlugins

struct FleetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet",
        abstract: "Write a deterministic generated fleet snapshot that `meow simulate` reads.",
        discussion: """
            Applications are spread over the environments and their clusters, each with workloads; Airflow DAGs
            too. A few percent carry realistic policy problems. The same options give the same bytes.

            With --history the fleet is simulated over time: the snapshot at --at then holds series (workload
            cpu/memory/restarts, DAG durations and queue waits, S3/DB latency), DAG runs, Git changes and deploy
            events. --faults K injects K labelled faults inside the history (within the last --fault-window);
            --truth FILE writes what was injected, which never appears in the snapshot. See docs/simulator.md.

              meow fleet --apps 10000 --seed 7 > fleet.json
              meow fleet --apps 300 --history 1d --faults 3 --truth truth.json > fleet.json
            """
    )

    @Option(help: "Number of Argo CD applications.") var apps: Int = 100
    @Option(help: "Workloads per application.") var workloadsPerApp: Int = 5
    @Option(help: "Clusters per environment.") var clusters: Int = 2
    @Option(help: "Comma-separated environments, in promotion order.") var envs: String = "dev,staging,prod"
    @Option(help: "Airflow DAGs (default: one per five apps).") var dags: Int?
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Option(help: "Snapshot time (RFC 3339).") var at: String = "2026-01-01T00:00:00Z"
    @Option(help: "Simulated history before --at (0 = the static fleet), e.g. 6h, 1d, 7d.") var history: String = "0s"
    @Option(help: "Simulation step: the spacing of series values, e.g. 5m.") var step: String = "5m"
    @Option(help: "Values per series in the snapshot (the most recent).") var seriesWindow: Int = 60
    @Option(help: "Faults to inject (needs --history).") var faults: Int = 0
    @Option(help: "Faults start within this long before --at (default: the span of --series-window, at most --history).")
    var faultWindow: String?
    @Option(help: "Write the injected faults (ground truth) as JSON to this file.") var truth: String?
    @Option(help: "Output format: json (the snapshot) is the only format.") var output: String = "json"
    @Flag(help: "Indent the JSON.") var pretty = false
    @Option(name: .shortAndLong, help: "Write to this file instead of standard output.") var file: String?

    func validate() throws {
        guard apps >= 0, apps <= 1_000_000 else { throw ValidationError("--apps must be between 0 and 1000000") }
        guard workloadsPerApp >= 0, workloadsPerApp <= 100 else {
            throw ValidationError("--workloads-per-app must be between 0 and 100")
        }
        guard clusters >= 1, clusters <= 100 else { throw ValidationError("--clusters must be between 1 and 100") }
        guard output == "json" else { throw ValidationError("--output: only json is supported for a snapshot") }
        guard Timestamp.parse(at) != nil else {
            throw ValidationError("--at \(at): expected an RFC 3339 time like 2026-01-01T00:00:00Z")
        }
        guard !envs.split(separator: ",").isEmpty else { throw ValidationError("--envs needs at least one environment") }
        for (name, text) in [("--history", history), ("--step", step), ("--fault-window", faultWindow ?? "1s")] {
            guard Timestamp.parseDuration(text) != nil else {
                throw ValidationError("\(name) \(text): expected a duration like 30s, 15m, 24h, 7d")
            }
        }
        guard (Timestamp.parseDuration(step) ?? 0) >= 1 else { throw ValidationError("--step must be at least 1s") }
        guard seriesWindow >= 1, seriesWindow <= 100_000 else {
            throw ValidationError("--series-window must be between 1 and 100000")
        }
        guard faults >= 0, faults <= 10_000 else { throw ValidationError("--faults must be between 0 and 10000") }
        if faults > 0, (Timestamp.parseDuration(history) ?? 0) < (Timestamp.parseDuration(step) ?? 300) {
            throw ValidationError(
                "--faults needs a --history (e.g. --history 1d): faults are placed in the history so that the snapshot shows them"
            )
        }
    }

    func run() throws {
        var options = FleetOptions()
        options.apps = apps
        options.workloadsPerApp = workloadsPerApp
        options.clustersPerEnvironment = clusters
        options.environments = envs.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        options.dags = dags
        options.seed = seed
        options.at = Timestamp.parse(at)!
        let historySeconds = Timestamp.parseDuration(history) ?? 0
        var snapshot: Snapshot
        var injected: [InjectedFault] = []
        if historySeconds > 0 {
            var sim = SimulationOptions()
            sim.fleet = options
            sim.history = historySeconds
            sim.step = Timestamp.parseDuration(step) ?? 300
            sim.seriesWindow = seriesWindow
            sim.faults = faults
            sim.faultsInHistory = true
            sim.faultWindow = faultWindow.flatMap(Timestamp.parseDuration) ?? min(historySeconds, Double(seriesWindow) * sim.step)
            let simulator = FleetSimulator(options: sim)
            snapshot = simulator.snapshot()
            injected = simulator.faults
        } else {
            // No history: the static fleet, byte for byte what earlier versions wrote.
            snapshot = FleetGenerator(options: options).generate()
        }
        if let truth {
            var t = try InjectedFault.jsonData(injected)
            t.append(UInt8(ascii: "\n"))
            guard FileManager.default.createFile(atPath: truth, contents: t) else { throw InputError("cannot write \(truth)") }
        }
        var data = try snapshot.jsonData(pretty: pretty)
        data.append(UInt8(ascii: "\n"))
        if let file {
            guard FileManager.default.createFile(atPath: file, contents: data) else { throw InputError("cannot write \(file)") }
        } else {
            FileHandle.standardOutput.write(data)
        }
    }
}
