import MeowModel

/// The kinds of rule (docs/rules.md).
public enum RuleKind: String, Sendable, Hashable, CaseIterable {
    /// `policy { check = function(e) ... end }`: compliance; yields violations.
    case policy
    /// `anomaly { series = function(e) ... end, detector = detect.x { ... } }`: yields anomalies.
    case anomaly
    /// `remediation { when = function(e) ... end, action = "plugin.action" }`: yields proposed actions.
    case remediation
}

/// A declared rule of any kind.
public struct Rule: Sendable, Hashable {
    public var id: String
    public var kind: RuleKind
    public var description: String?
    public var severity: Severity
    public var match: MatchSpec
    public var hasWhere: Bool
    public var tags: [String]
    public var runbook: String?
    /// For anomaly rules.
    public var anomaly: AnomalySpec?
    /// For remediation rules.
    public var remediation: RemediationSpec?
    /// Where it is declared.
    public var file: String
    public var line: Int
    /// Position among the rules of its file (1-based, as the prelude counts).
    var indexInFile: Int
    var fileIndex: Int

    static let common: Set<String> = ["id", "description", "severity", "match", "where", "tags", "runbook"]
    static func fields(_ kind: RuleKind) -> Set<String> {
        switch kind {
        case .policy: common.union(["check"])
        case .anomaly: common.union(["series", "detector", "sustained"])
        case .remediation: common.union(["when", "action", "params", "mode", "cooldown", "limit"])
        }
    }

    /// Validates what the prelude collected for one declaration.
    static func parse(_ declared: Value, file: String, fileIndex: Int, indexInFile: Int) -> Result<Rule, RuleLoadError> {
        let line = Int(declared["line"]?.intValue ?? 0)
        let kind = RuleKind(rawValue: declared["kind"]?.stringValue ?? "") ?? .policy
        let spec = declared["spec"]?.objectValue ?? [:]
        let types = declared["types"]?.objectValue ?? [:]
        let idText = spec["id"]?.stringValue
        func fail(_ message: String) -> Result<Rule, RuleLoadError> {
            let prefix = idText.map { "\(kind.rawValue) '\($0)': " } ?? "\(kind.rawValue): "
            return .failure(RuleLoadError(file: file, line: line, rule: idText, message: prefix + message))
        }
        let fields = fields(kind)
        for key in types.keys.sorted() where !fields.contains(key) {
            return fail("unknown field '\(key)' (known: \(fields.sorted().joined(separator: ", ")))")
        }
        guard let id = idText else {
            return fail(types["id"] == nil ? "missing required field 'id'" : "'id' must be a string")
        }
        guard id.range(of: #"^[a-z0-9][a-z0-9._-]*$"#, options: .regularExpression) != nil else {
            return fail("id must be lowercase letters, digits, '.', '_' or '-' (like \"prod-auto-sync\")")
        }
        let severity: Severity
        if let sevText = spec["severity"]?.stringValue {
            guard let s = Severity(rawValue: sevText) else {
                return fail("severity \"\(sevText)\" is not one of \(Severity.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            severity = s
        } else if kind == .remediation {
            severity = .info
        } else {
            return fail("missing required field 'severity' (one of \(Severity.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        func requireFunction(_ name: String, _ hint: String) -> String? {
            if types[name] == nil { return "missing required field '\(name)' (\(hint))" }
            if types[name] != .string("function") { return "'\(name)' must be a function" }
            return nil
        }
        switch kind {
        case .policy:
            if let e = requireFunction("check", "a function(entity) returning nil or deny(...)") { return fail(e) }
        case .anomaly:
            if let e = requireFunction(
                "series", "a function(entity) returning a series, e.g. function(w) return w.series.cpu end")
            {
                return fail(e)
            }
        case .remediation:
            if let e = requireFunction("when", "a function(entity) returning true when the action should be proposed") {
                return fail(e)
            }
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
        var anomaly: AnomalySpec?
        var remediation: RemediationSpec?
        switch kind {
        case .policy: break
        case .anomaly:
            switch AnomalySpec.parse(spec) {
            case .success(let a): anomaly = a
            case .failure(let issue): return fail(issue.message)
            }
        case .remediation:
            switch RemediationSpec.parse(spec, paramsIsFunction: types["params"] == .string("function")) {
            case .success(let r): remediation = r
            case .failure(let issue): return fail(issue.message)
            }
        }
        switch MatchSpec.parse(spec["match"]) {
        case .failure(let issue): return fail(issue.message)
        case .success(let match):
            return .success(
                Rule(
                    id: id, kind: kind, description: spec["description"]?.stringValue, severity: severity, match: match,
                    hasWhere: types["where"] != nil, tags: tags, runbook: spec["runbook"]?.stringValue,
                    anomaly: anomaly, remediation: remediation, file: file, line: line, indexInFile: indexInFile,
                    fileIndex: fileIndex))
        }
    }
}

/// A rule file or rule that could not be loaded: `file:line: message`.
public struct RuleLoadError: Error, Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var rule: String?
    public var message: String

    public init(file: String, line: Int?, rule: String?, message: String) {
        self.file = file
        self.line = line
        self.rule = rule
        self.message = message
    }

    public var description: String {
        if let line, line > 0 { return "\(file):\(line): \(message)" }
        return "\(file): \(message)"
    }
}
