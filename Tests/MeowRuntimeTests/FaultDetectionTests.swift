import Foundation
import MeowModel
import MeowPlugins
import MeowRules
import MeowRuntime
import MeowTesting
import Testing

/// The standard anomaly rules against the simulator's injected faults: the measured rates are printed;
/// the assertions are the issue's bar (a majority detected, few false alarms).
@Suite struct FaultDetectionTests {
    static let spikes: Set<FaultKind> = [.trafficSpike, .noisyNeighbour, .memoryLeak]
    static let longDags: Set<FaultKind> = [.nodePressure, .s3Latency, .dbLatency, .upstreamDataDelay]

    @Test func theStandardAnomalyRulesCatchMostSpikesAndLongDagRuns() throws {
        let engine = try RuleEngine(directory: PackageRoot.url().appendingPathComponent("rules"), displayPath: "rules")
        #expect(engine.loadErrors.isEmpty)
        var spikeHit = 0, spikeTotal = 0, dagHit = 0, dagTotal = 0, falseAlarms = 0, anomalies = 0
        var workloadHours = 0.0
        for seed: UInt64 in [11, 12, 13] {
            var o = SimulationOptions()
            o.fleet.apps = 12
            o.fleet.seed = seed
            o.history = 6 * 3600
            o.step = 600
            o.faults = 7
            o.faultWindow = 10 * 3600
            o.faultKinds = [
                .trafficSpike, .s3Latency, .noisyNeighbour, .nodePressure, .memoryLeak, .dbLatency, .upstreamDataDelay,
            ]
            let run = SimulationRun(engine: engine, simulator: FleetSimulator(options: o))
            run.run(duration: 12 * 3600)
            let score = run.scoring()
            let s = score.detectionRate(kinds: Self.spikes)
            let d = score.detectionRate(kinds: Self.longDags)
            spikeHit += s.detected; spikeTotal += s.total
            dagHit += d.detected; dagTotal += d.total
            falseAlarms += score.falseAlarms.count
            anomalies += score.detections
            workloadHours += Double(o.fleet.apps * o.fleet.workloadsPerApp) * 12
            for f in score.faults where !f.detected { print("missed: \(f.fault.kind.rawValue) \(f.fault.cause) (seed \(seed))") }
        }
        print(
            """
            fault detection over 3 seeds × 12 h × 12 apps: resource spikes \(spikeHit)/\(spikeTotal), \
            long DAG runs \(dagHit)/\(dagTotal), false alarms \(falseAlarms) of \(anomalies) anomalies \
            (\(String(format: "%.2f", Double(falseAlarms) / workloadHours * 100)) per 100 workload-hours)
            """)
        #expect(spikeTotal >= 6 && dagTotal >= 9)
        #expect(spikeHit * 2 > spikeTotal, "resource spikes detected: \(spikeHit)/\(spikeTotal)")
        #expect(dagHit * 2 > dagTotal, "long DAG runs detected: \(dagHit)/\(dagTotal)")
        // few: at most 3 anomalies on nothing that was injected, over 36 simulated hours of 180 workloads
        #expect(falseAlarms <= 3, "false alarms: \(falseAlarms)")
    }

    @Test func aRunStreamsFiringAndResolvedEventsWithTimes() throws {
        let engine = try RuleEngine(directory: PackageRoot.url().appendingPathComponent("rules"), displayPath: "rules")
        var o = SimulationOptions()
        o.fleet.apps = 6
        o.history = 3600
        o.step = 600
        let run = SimulationRun(engine: engine, simulator: FleetSimulator(options: o))
        run.run(duration: 3 * 3600)
        #expect(run.steps == 18)
        #expect(run.events.allSatisfy { $0.decision.time != nil })
        #expect(run.events.contains { $0.kind == .firing })
        // a decision never fires twice in a row without resolving in between
        var open = Set<String>()
        for e in run.events {
            let key = "\(e.decision.type.rawValue)|\(e.decision.rule)|\(e.decision.subject ?? "")"
            if e.kind == .firing { #expect(open.insert(key).inserted) } else { #expect(open.remove(key) != nil) }
        }
    }
}
