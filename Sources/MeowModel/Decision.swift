import Foundation

/// What rules decide. Rendering (text, JSON) is separate from collecting (STYLE.md §6).
///
/// JSON shape (the `meow simulate` contract):
/// `{"type":"violation"|"rule_error","rule":ID,"subject":ENTITY_ID|null,"severity":...,"message":...,
///   "evidence":{...},"file":...,"line":...}`
public struct Decision: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable, Hashable {
        case violation
        case ruleError = "rule_error"
        case anomaly
        case actionProposed = "action_proposed"
    }

    public var type: Kind
    public var rule: String
    public var subject: String?
    public var severity: Severity?
    public var message: String
    public var evidence: Value
    public var file: String?
    public var line: Int?
    /// When it was decided (set when decisions stream over simulated time).
    public var time: Date?

    public init(
        type: Kind, rule: String, subject: String?, severity: Severity?, message: String,
        evidence: Value = .object([:]), file: String?, line: Int?
    ) {
        self.type = type
        self.rule = rule
        self.subject = subject
        self.severity = severity
        self.message = message
        self.evidence = evidence
        self.file = file
        self.line = line
    }

    enum CodingKeys: String, CodingKey { case type, rule, subject, severity, message, evidence, file, line, time }

    public func encode(to encoder: Encoder) throws {
        // subject, severity, file and line are written as null rather than left out: scripts can rely on
        // every key being present.
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(type, forKey: .type)
        try c.encode(rule, forKey: .rule)
        try c.encode(subject, forKey: .subject)
        try c.encode(severity, forKey: .severity)
        try c.encode(message, forKey: .message)
        try c.encode(evidence, forKey: .evidence)
        try c.encode(file, forKey: .file)
        try c.encode(line, forKey: .line)
        if let time { try c.encode(Timestamp.format(time), forKey: .time) }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = try c.decode(Kind.self, forKey: .type)
        rule = try c.decode(String.self, forKey: .rule)
        subject = try c.decodeIfPresent(String.self, forKey: .subject)
        severity = try c.decodeIfPresent(Severity.self, forKey: .severity)
        message = try c.decode(String.self, forKey: .message)
        evidence = try c.decodeIfPresent(Value.self, forKey: .evidence) ?? .object([:])
        file = try c.decodeIfPresent(String.self, forKey: .file)
        line = try c.decodeIfPresent(Int.self, forKey: .line)
        time = try c.decodeIfPresent(String.self, forKey: .time).flatMap(Timestamp.parse)
    }
}
