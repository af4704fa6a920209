import Foundation
import MeowModel

/// The ground truth of one injected fault. Never part of a snapshot: `meow fleet --truth FILE` writes the
/// list so that detectors and rules can be scored against it.
public struct InjectedFault: Codable, Sendable, Hashable {
    /// "fault-1", "fault-2", ... in start order.
    public var id: String
    public var kind: FaultKind
    /// Entity id of the cause (application, workload, cluster, DAG, or a dependency such as `dependency/prod/s3`).
    public var cause: String
    /// Entity ids whose signals show the effect: what a detector should flag.
    public var subjects: [String]
    public var start: Date
    public var end: Date
    public var description: String
    /// Human-readable effects: "cpu x4.2 on workload/...", "dag_duration x2.5 on dag/...", ...
    public var effects: [String]

    public init(
        id: String, kind: FaultKind, cause: String, subjects: [String], start: Date, end: Date,
        description: String, effects: [String]
    ) {
        self.id = id
        self.kind = kind
        self.cause = cause
        self.subjects = subjects
        self.start = start
        self.end = end
        self.description = description
        self.effects = effects
    }
}

extension InjectedFault {
    /// The truth file: a JSON array with sorted keys and RFC 3339 times.
    public static func jsonData(_ faults: [InjectedFault], pretty: Bool = true) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting =
            pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, e in
            var c = e.singleValueContainer()
            try c.encode(Timestamp.format(date))
        }
        return try encoder.encode(faults)
    }

    /// Reads a truth file written by `jsonData`.
    public static func load(from data: Data) throws -> [InjectedFault] {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { d in
            let c = try d.singleValueContainer()
            let s = try c.decode(String.self)
            guard let date = Timestamp.parse(s) else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "expected an RFC 3339 time, got \"\(s)\"")
            }
            return date
        }
        return try decoder.decode([InjectedFault].self, from: data)
    }
}
