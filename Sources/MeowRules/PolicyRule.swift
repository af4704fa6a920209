import MeowModel

/// A `policy { ... }` rule: `check(entity)` returns nothing when the entity complies, or `deny(...)`.
public struct PolicyRule: Sendable, Hashable {
    public var id: String
    public var description: String?
    public var severity: Severity
    public var match: MatchSpec
    public var hasWhere: Bool
    public var tags: [String]
    public var runbook: String?
    /// Where it is declared.
    public var file: String
    public var line: Int
    /// Position among the rules of its file (1-based, as the prelude counts).
    var indexInFile: Int
    var fileIndex: Int

    static let fields: Set<String> = ["id", "description", "severity", "match", "where", "check", "tags", "runbook"]

    /// Validates what the prelude collected for one declaration.
    static func parse(_ declared: Value, file: String, fileIndex: Int, indexInFile: Int) -> Result<PolicyRule, RuleLoadError> {
        let line = Int(declared["line"]?.intValue ?? 0)
        let spec = declared["spec"]?.objectValue ?? [:]
        let types = declared["types"]?.objectValue ?? [:]
        let idText = spec["id"]?.stringValue
        func fail(_ message: String) -> Result<PolicyRule, RuleLoadError> {
            let prefix = idText.map { "policy '\($0)': " } ?? "policy: "
            return .failure(RuleLoadError(file: file, line: line, rule: idText, message: prefix + message))
        }
        for key in types.keys.sorted() where !fields.contains(key) {
            return fail("unknown field '\(key)' (known: \(fields.sorted().joined(separator: ", ")))")
        }
        guard let id = idText else {
            return fail(types["id"] == nil ? "missing required field 'id'" : "'id' must be a string")
        }
        guard id.range(of: #"^[a-z0-9][a-z0-9._-]*$"#, options: .regularExpression) != nil else {
            return fail("id must be lowercase letters, digits, '.', '_' or '-' (like \"prod-auto-sync\")")
        }
        guard let sevText = spec["severity"]?.stringValue else {
            return fail("missing required field 'severity' (one of \(Severity.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard let severity = Severity(rawValue: sevText) else {
            return fail("severity \"\(sevText)\" is not one of \(Severity.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard types["check"] == .string("function") else {
            return fail(types["check"] == nil ? "missing required field 'check' (a function(entity) returning nil or deny(...))" : "'check' must be a function")
        }
        if let w = types["where"], w != .string("function") { return fail("'where' must be a function") }
        if let d = types["description"], d != .string("string") { return fail("'description' must be a string") }
        if let r = types["runbook"], r != .string("string") { return fail("'runbook' must be a string") }
        var tags: [String] = []
        if let t = spec["tags"], t != .object([:]) {
            guard case .array(let items) = t, items.allSatisfy({ $0.stringValue != nil }) else {
                return fail("'tags' must be a list of strings")
            }
            tags = items.compactMap(\.stringValue)
        }
        switch MatchSpec.parse(spec["match"]) {
        case .failure(let issue): return fail(issue.message)
        case .success(let match):
            return .success(PolicyRule(
                id: id, description: spec["description"]?.stringValue, severity: severity, match: match,
                hasWhere: types["where"] != nil, tags: tags, runbook: spec["runbook"]?.stringValue, file: file,
                line: line, indexInFile: indexInFile, fileIndex: fileIndex))
        }
    }
}

/// A rule file or rule that could not be loaded: `file:line: message`.
public struct RuleLoadError: Error, Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var rule: String?
    public var message: String

    public var description: String {
        if let line, line > 0 { return "\(file):\(line): \(message)" }
        return "\(file): \(message)"
    }
}
