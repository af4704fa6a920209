import Foundation

/// What every entity record has, whatever its kind (DESIGN.md §4).
/// Converts itself to the `Value` rules see (generated for every model type by scripts/gen-model.py).
public protocol DocumentConvertible {
    var document: Value { get }
}

extension Value {
    /// A time as rules see it: Unix seconds, an integer when whole.
    public static func seconds(_ date: Date) -> Value {
        let s = date.timeIntervalSince1970
        return s.rounded() == s && abs(s) < 9e15 ? .int(Int64(s)) : .double(s)
    }
}

public protocol EntityRecord: Codable, Sendable, DocumentConvertible {
    static var kind: EntityKind { get }
    /// Stable id: `kind/provider-instance/path`, e.g. `application/argocd-prod/payments-api`.
    var id: String { get }
    var name: String? { get }
    var labels: [String: String]? { get }
    var observedAt: Date? { get }
    var provider: String? { get }
    var stale: Bool? { get }
}

extension Entity: Codable {
    private enum KindKey: String, CodingKey { case kind }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: KindKey.self)
        let raw = try c.decode(String.self, forKey: .kind)
        guard let kind = EntityKind(rawValue: raw) else {
            throw DecodingError.dataCorruptedError(
                forKey: .kind, in: c,
                debugDescription:
                    "unknown entity kind \"\(raw)\" (known: \(EntityKind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        self = try Entity.decode(kind: kind, from: decoder)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: KindKey.self)
        try c.encode(kind.rawValue, forKey: .kind)
        try record.encode(to: encoder)
    }
}

extension Entity {
    public var id: String { record.id }
    public var labels: [String: String] { record.labels ?? [:] }
    public var isStale: Bool { record.stale ?? false }

    /// The entity as rules see it: its JSON fields, times as Unix seconds, `kind` set, and `labels` and
    /// `annotations` always present (empty when unset) so `app.labels.team` never fails on nil.
    public func document() -> Value {
        guard case .object(var fields) = record.document else { return .null }
        if fields["labels"] == nil { fields["labels"] = .object([:]) }
        if fields["annotations"] == nil { fields["annotations"] = .object([:]) }
        if fields["stale"] == nil { fields["stale"] = .bool(false) }
        return .object(fields)
    }
}
