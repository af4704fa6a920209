import Foundation
import MeowModel

/// Compares what the rules found (anomalies, and violations that started firing) with the faults the simulator injected: which faults were detected (hit),
/// which were missed, and which anomalies match no fault (false alarms).
public struct FaultScoring: Sendable {
    /// An anomaly firing at `time`.
    public struct Detection: Sendable, Hashable {
        public var rule: String
        public var subject: String
        public var time: Date
        public init(rule: String, subject: String, time: Date) {
            self.rule = rule
            self.subject = subject
            self.time = time
        }
    }

    public struct FaultResult: Codable, Sendable {
        public var fault: InjectedFault
        public var detected: Bool
        public var firstDetection: Date?
        public var rules: [String]

        enum CodingKeys: String, CodingKey {
            case fault, detected, rules
            case firstDetection = "first_detection"
        }
    }

    public var faults: [FaultResult] = []
    public var falseAlarms: [Detection] = []
    public var detections = 0

    /// How long after a fault ends an anomaly still counts as its detection (signals take a step to settle).
    public static let grace: TimeInterval = 30 * 60

    public init(faults: [InjectedFault], detections: [Detection]) {
        self.detections = detections.count
        var results = faults.map { FaultResult(fault: $0, detected: false, firstDetection: nil, rules: []) }
        for d in detections {
            var matched = false
            for i in results.indices where Self.matches(d, results[i].fault) {
                matched = true
                results[i].detected = true
                if results[i].firstDetection.map({ d.time < $0 }) ?? true { results[i].firstDetection = d.time }
                if !results[i].rules.contains(d.rule) { results[i].rules.append(d.rule) }
            }
            if !matched { falseAlarms.append(d) }
        }
        self.faults = results
    }

    static func matches(_ d: Detection, _ f: InjectedFault) -> Bool {
        guard d.time >= f.start, d.time <= f.end.addingTimeInterval(grace) else { return false }
        if f.subjects.contains(d.subject) || f.cause == d.subject { return true }
        // a decision on a series entity: `series/<metric>/<subject id>`
        for s in f.subjects + [f.cause] where d.subject.hasPrefix("series/") && d.subject.hasSuffix("/" + s) { return true }
        // a decision on a DAG run: `dag_run/<instance>/<dag id>/<run id>` belongs to `dag/<instance>/<dag id>`
        if d.subject.hasPrefix("dag_run/") {
            let dag = "dag/" + d.subject.dropFirst("dag_run/".count).split(separator: "/").dropLast().joined(separator: "/")
            if f.subjects.contains(dag) || f.cause == dag { return true }
        }
        return false
    }

    /// Detected / injected for the given kinds.
    public func detectionRate(kinds: Set<FaultKind>? = nil) -> (detected: Int, total: Int) {
        let relevant = faults.filter { kinds?.contains($0.fault.kind) ?? true }
        return (relevant.filter(\.detected).count, relevant.count)
    }
}
