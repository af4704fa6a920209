import Foundation
import MeowModel
import MeowPlugins
import MeowRules

/// Runs the rules over a simulated fleet as time advances: at each step the simulator moves on, the
/// engine evaluates the new snapshot at the simulated time, and decisions that start or stop firing
/// become events. The faults' ground truth is only used afterwards, to score what the rules found.
///
/// ```swift
/// let run = SimulationRun(engine: engine, simulator: FleetSimulator(options: opts))
/// run.run(duration: 86400) { event in print(event.decision.rule) }
/// let score = run.scoring()
/// ```
public final class SimulationRun {
    public struct Event: Sendable {
        public enum Kind: String, Sendable { case firing, resolved }
        public var kind: Kind
        public var decision: Decision
    }

    public let engine: RuleEngine
    public let simulator: FleetSimulator
    public private(set) var events: [Event] = []
    public private(set) var steps = 0
    public private(set) var lastSnapshot: Snapshot?
    public private(set) var lastEvaluation: Evaluation?
    public private(set) var evaluationSeconds = 0.0
    /// The simulated time of the first step.
    public private(set) var firstStep: Date?

    public init(engine: RuleEngine, simulator: FleetSimulator) {
        self.engine = engine
        self.simulator = simulator
    }

    struct Key: Hashable {
        var type: Decision.Kind
        var rule: String
        var subject: String?
    }

    /// Advances `duration` in `step`s (the simulator's step by default), calling `onEvent` for each event
    /// and `onStep(done, total)` after each step.
    public func run(
        duration: TimeInterval, step: TimeInterval? = nil, onEvent: (Event) -> Void = { _ in },
        onStep: (Int, Int) -> Void = { _, _ in }
    ) {
        let step = step ?? simulator.options.step
        let total = max(1, Int((duration / step).rounded(.up)))
        var active: [Key: Decision] = [:]
        for i in 0..<total {
            simulator.advance(by: step)
            let snapshot = simulator.snapshot()
            if firstStep == nil { firstStep = simulator.now }
            let result = engine.evaluate(snapshot, at: simulator.now)
            evaluationSeconds += result.stats.seconds
            var current: [Key: Decision] = [:]
            for var d in result.decisions {
                d.time = simulator.now
                let key = Key(type: d.type, rule: d.rule, subject: d.subject)
                if current[key] != nil { continue }
                current[key] = d
                if active[key] == nil {
                    let e = Event(kind: .firing, decision: d)
                    events.append(e)
                    onEvent(e)
                }
            }
            for (key, d) in active where current[key] == nil {
                var r = d
                r.time = simulator.now
                let e = Event(kind: .resolved, decision: r)
                events.append(e)
                onEvent(e)
            }
            active = current
            steps += 1
            lastSnapshot = snapshot
            lastEvaluation = result
            onStep(i + 1, total)
        }
    }

    /// Decisions of `type` that started firing after the first step, matched against the injected faults
    /// (anomalies by default: hits, misses and false alarms). What fires at the first step is the fleet's
    /// standing state, not a detection.
    public func scoring(_ type: Decision.Kind = .anomaly) -> FaultScoring {
        let first = firstStep
        let detections = events.filter { $0.kind == .firing && $0.decision.type == type && $0.decision.time != first }.map {
            FaultScoring.Detection(
                rule: $0.decision.rule, subject: $0.decision.subject ?? "", time: $0.decision.time ?? simulator.now)
        }
        return FaultScoring(faults: simulator.faults, detections: detections)
    }
}
