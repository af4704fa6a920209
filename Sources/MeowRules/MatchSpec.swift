import MeowModel

/// The `match` table of a rule: field equalities the engine checks in Swift, without calling Lua.
///
/// `match = { kind = "application", environment = {"staging", "prod"}, labels = { team = "payments" } }`
/// selects applications in staging or prod whose label `team` is `payments`. A list means "any of";
/// a nested table matches fields of a nested object.
public struct MatchSpec: Sendable, Hashable {
    public struct Condition: Sendable, Hashable {
        public var path: [String]
        public var anyOf: [Value]
    }

    public var kind: EntityKind
    public var conditions: [Condition]

    /// Parses a `match` table; errors are messages for the rule author.
    public static func parse(_ value: Value?) -> Result<MatchSpec, RuleIssue> {
        guard let value else {
            return .failure(RuleIssue("missing required field 'match' (e.g. match = { kind = \"application\" })"))
        }
        guard case .object(let o) = value else {
            return .failure(RuleIssue("'match' must be a table of field = value, got a \(value.typeName)"))
        }
        guard let kindValue = o["kind"] else {
            return .failure(
                RuleIssue("'match' needs a kind (one of \(EntityKind.allCases.map(\.rawValue).joined(separator: ", ")))"))
        }
        guard let kindName = kindValue.stringValue, let kind = EntityKind(rawValue: kindName) else {
            return .failure(
                RuleIssue(
                    "match.kind: unknown kind \(kindValue.jsonString()) (one of \(EntityKind.allCases.map(\.rawValue).joined(separator: ", ")))"
                ))
        }
        var conditions: [Condition] = []
        for key in o.keys.sorted() where key != "kind" {
            guard kind.fieldNames.contains(key) else {
                return .failure(
                    RuleIssue(
                        "match.\(key): \(kind.rawValue) has no field '\(key)' (fields: \(kind.fieldNames.sorted().joined(separator: ", ")))"
                    ))
            }
            if let allowed = kind.nestedFieldNames[key], case .object(let nested) = o[key]!,
                let unknown = nested.keys.sorted().first(where: { !allowed.contains($0) })
            {
                let fields = allowed.sorted().joined(separator: ", ")
                return .failure(RuleIssue("match.\(key).\(unknown): \(key) has no field '\(unknown)' (fields: \(fields))"))
            }
            if let issue = flatten(o[key]!, path: [key], into: &conditions) { return .failure(issue) }
        }
        return .success(MatchSpec(kind: kind, conditions: conditions))
    }

    private static func flatten(_ v: Value, path: [String], into out: inout [Condition]) -> RuleIssue? {
        switch v {
        case .object(let o) where !o.isEmpty:
            for k in o.keys.sorted() {
                if let issue = flatten(o[k]!, path: path + [k], into: &out) { return issue }
            }
        case .array(let items):
            for item in items {
                switch item {
                case .string, .int, .double, .bool: continue
                default:
                    return RuleIssue("match.\(path.joined(separator: ".")): a list may hold only strings, numbers and booleans")
                }
            }
            out.append(Condition(path: path, anyOf: items))
        case .string, .int, .double, .bool:
            out.append(Condition(path: path, anyOf: [v]))
        default:
            return RuleIssue("match.\(path.joined(separator: ".")): expected a value, a list of values or a table")
        }
        return nil
    }

    /// Whether an entity document satisfies every condition.
    public func matches(_ document: Value) -> Bool {
        for c in conditions {
            var v: Value? = document
            for p in c.path { v = v?[p] }
            guard let actual = v, c.anyOf.contains(where: { $0.matches(actual) }) else { return false }
        }
        return true
    }
}

/// A problem with a rule, before it is placed at a file and line.
public struct RuleIssue: Error, Sendable, Hashable {
    public var message: String
    public init(_ message: String) { self.message = message }
}
