import Foundation
import LuaHost
import MeowModel

/// Runs `*_test.lua` files through the real engine, like `promtool test rules` or `opa test`.
///
/// A test declares fixture entities and the decisions it expects:
/// ```lua
/// test "auto-sync off in prod is a violation" {
///   entities = { application { name = "pay", environment = "prod", sync_policy = { automated = false } } },
///   expect = { { rule = "prod-auto-sync", subject = "application/test/pay" } },
/// }
/// ```
/// By default a test evaluates the rules of the file beside it (`x_test.lua` → `x.lua`); `rules = {...}`
/// names others. `expect = {}` asserts that nothing fires. Results are PASS, FAIL, ERROR or SKIP.
public struct RuleTestRunner {
    public static let defaultTime = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z

    let engine: RuleEngine

    public init(engine: RuleEngine) { self.engine = engine }

    /// Runs every test file under the engine's directory (or only files whose path contains `filter`).
    public func run(filter: String? = nil) throws -> [RuleTestResult] {
        var results: [RuleTestResult] = []
        for relative in try RuleFiles.list(in: engine.directory, tests: true) {
            let display = "\(engine.displayDirectory)/\(relative)"
            let tests = loadTests(relative: relative, display: display)
            for case .success(let t) in tests where filter.map({ t.name.contains($0) || display.contains($0) }) ?? true {
                results.append(run(t))
            }
            for case .failure(let e) in tests {
                results.append(
                    RuleTestResult(file: e.file, line: e.line, name: "(load)", status: .error, message: e.message, seconds: 0))
            }
        }
        return results
    }

    struct TestCase {
        var file: String
        var line: Int
        var name: String
        var skip: Bool
        var spec: [String: Value]
        var defaultRules: Set<String>?
    }

    private func loadTests(relative: String, display: String) -> [Result<TestCase, RuleLoadError>] {
        let lua = engine.state
        guard let data = FileManager.default.contents(atPath: engine.directory.appendingPathComponent(relative).path) else {
            return [.failure(RuleLoadError(file: display, line: nil, rule: nil, message: "cannot read the file"))]
        }
        // x_test.lua tests the rules declared in x.lua.
        let sibling = display.replacingOccurrences(of: "_test.lua", with: ".lua", options: .backwards)
        let siblingRules = Set(engine.rules.filter { $0.file == sibling }.map(\.id))
        do {
            let env = try lua.newEnvironment(kind: "test", file: display)
            let kinds = Value.array(EntityKind.allCases.map { .string($0.rawValue) })
            for (source, chunk, args) in [
                (Prelude.tests, "=meow.tests", [LuaArgument.ref(env), .value(kinds)]),
                (String(decoding: data, as: UTF8.self), "@\(display)", []),
            ] {
                let fn = try lua.load(source, chunkName: chunk, env: env)
                defer { lua.release(fn) }
                if case .failure(let e) = lua.call(fn, args, budget: engine.options.loadBudget, now: 0).result { throw e }
            }
            guard let list = try lua.global("__meow_tests", in: env) else { return [] }
            defer { lua.release(list) }
            let declared: Value
            switch lua.call(list, [], budget: engine.options.loadBudget, now: 0).result {
            case .success(let v): declared = v
            case .failure(let e): throw e
            }
            return (declared.arrayValue ?? []).map { t in
                let line = Int(t["line"]?.intValue ?? 0)
                guard let spec = t["spec"]?.objectValue, let name = t["name"]?.stringValue else {
                    return .failure(RuleLoadError(file: display, line: line, rule: nil, message: "malformed test"))
                }
                return .success(
                    TestCase(
                        file: display, line: line, name: name, skip: t["skip"] == .bool(true), spec: spec,
                        defaultRules: siblingRules.isEmpty ? nil : siblingRules))
            }
        } catch let e as LuaError {
            return [.failure(RuleLoadError(file: e.file ?? display, line: e.line, rule: nil, message: e.bareMessage))]
        } catch {
            return [.failure(RuleLoadError(file: display, line: nil, rule: nil, message: "\(error)"))]
        }
    }

    private func run(_ t: TestCase) -> RuleTestResult {
        let clock = ContinuousClock()
        let start = clock.now
        func result(_ status: RuleTestResult.Status, _ message: String = "") -> RuleTestResult {
            RuleTestResult(
                file: t.file, line: t.line, name: t.name, status: status, message: message, seconds: (clock.now - start).seconds)
        }
        if t.skip { return result(.skip) }
        let known: Set<String> = ["entities", "expect", "rules", "now", "description"]
        for key in t.spec.keys.sorted() where !known.contains(key) {
            return result(.error, "unknown field '\(key)' (known: \(known.sorted().joined(separator: ", ")))")
        }
        // fixtures
        var entities: [Entity] = []
        for (i, raw) in (t.spec["entities"]?.arrayValue ?? []).enumerated() {
            switch Fixture.entity(raw) {
            case .success(let e): entities.append(e)
            case .failure(let issue): return result(.error, "entities[\(i + 1)]: \(issue.message)")
            }
        }
        var ids = Set<String>()
        for e in entities where !ids.insert(e.id).inserted {
            return result(.error, "two fixture entities have the id \"\(e.id)\"")
        }
        // time
        var time = RuleTestRunner.defaultTime
        if let now = t.spec["now"] {
            if let s = now.stringValue, let d = Timestamp.parse(s) {
                time = d
            } else if let n = now.doubleValue {
                time = Date(timeIntervalSince1970: n)
            } else {
                return result(.error, "now: expected an RFC 3339 time or Unix seconds, got \(now.jsonString())")
            }
        }
        // rules
        var selected = t.defaultRules ?? Set(engine.rules.map(\.id))
        if let r = t.spec["rules"] {
            guard let list = r.arrayValue?.compactMap(\.stringValue), list.count == r.arrayValue?.count else {
                return result(.error, "rules: expected a list of rule ids")
            }
            selected = Set(list)
            let knownRules = Set(engine.rules.map(\.id))
            if let unknown = list.first(where: { !knownRules.contains($0) }) {
                return result(.error, "rules: no rule has id '\(unknown)'")
            }
        }
        // expectations
        guard let expectValue = t.spec["expect"] else {
            return result(.error, "missing 'expect' (use expect = {} to assert that nothing fires)")
        }
        var expected: [Expectation] = []
        for (i, raw) in (expectValue.arrayValue ?? []).enumerated() {
            switch Expectation.parse(raw, defaultRule: selected.count == 1 ? selected.first : nil) {
            case .success(let e): expected.append(e)
            case .failure(let issue): return result(.error, "expect[\(i + 1)]: \(issue.message)")
            }
        }
        if case .object(let o) = expectValue, !o.isEmpty {
            return result(.error, "expect must be a list of { rule = ..., subject = ... } tables")
        }
        let evaluation = engine.evaluate(Snapshot(entities: entities), at: time, only: selected, includeLoadErrors: false)
        let names = Dictionary(entities.map { ($0.id, $0.record.name ?? "") }, uniquingKeysWith: { a, _ in a })
        var unmatched = evaluation.decisions
        var missing: [Expectation] = []
        for e in expected {
            if let i = unmatched.firstIndex(where: { e.matches($0, names: names) }) {
                unmatched.remove(at: i)
            } else {
                missing.append(e)
            }
        }
        if missing.isEmpty && unmatched.isEmpty { return result(.pass) }
        var lines = ["expected \(expected.count) decision(s), got \(evaluation.decisions.count)"]
        for m in missing { lines.append("  missing:    \(m)") }
        for u in unmatched {
            let at = u.type == .ruleError ? " at \(u.file ?? "?"):\(u.line ?? 0)" : ""
            lines.append("  unexpected: \(u.type.rawValue) \(u.rule) on \(u.subject ?? "-"): \"\(u.message)\"\(at)")
        }
        if !evaluation.output.isEmpty {
            lines.append("  printed:")
            lines += evaluation.output.prefix(20).map { "    \($0)" }
        }
        return result(.fail, lines.joined(separator: "\n"))
    }
}

/// One expected decision of a rule test.
struct Expectation: CustomStringConvertible {
    var type: Decision.Kind
    var rule: String?
    var subject: String?
    var severity: Severity?
    var message: String?

    static func parse(_ v: Value, defaultRule: String?) -> Result<Expectation, RuleIssue> {
        guard let o = v.objectValue else { return .failure(RuleIssue("expected a table { rule = ..., subject = ... }")) }
        let known: Set<String> = ["type", "rule", "subject", "severity", "message"]
        if let k = o.keys.sorted().first(where: { !known.contains($0) }) {
            return .failure(RuleIssue("unknown field '\(k)' (known: \(known.sorted().joined(separator: ", ")))"))
        }
        var e = Expectation(
            type: .violation, rule: o["rule"]?.stringValue ?? defaultRule, subject: o["subject"]?.stringValue,
            severity: nil, message: o["message"]?.stringValue)
        if let t = o["type"] {
            guard let s = t.stringValue, let k = Decision.Kind(rawValue: s) else {
                return .failure(RuleIssue("type must be \"violation\" or \"rule_error\""))
            }
            e.type = k
        }
        if let s = o["severity"] {
            guard let text = s.stringValue, let sev = Severity(rawValue: text) else {
                return .failure(RuleIssue("severity must be one of \(Severity.allCases.map(\.rawValue).joined(separator: ", "))"))
            }
            e.severity = sev
        }
        return .success(e)
    }

    func matches(_ d: Decision, names: [String: String]) -> Bool {
        if d.type != type { return false }
        if let rule, d.rule != rule { return false }
        if let subject, d.subject != subject, names[d.subject ?? ""] != subject { return false }
        if let severity, d.severity != severity { return false }
        if let message, !d.message.contains(message) { return false }
        return true
    }

    var description: String {
        var s = "\(type.rawValue) \(rule ?? "(any rule)") on \(subject ?? "(any subject)")"
        if let severity { s += " severity \(severity.rawValue)" }
        if let message { s += " with message containing \"\(message)\"" }
        return s
    }
}

/// Test fixtures: entities written as Lua tables, checked against the state model.
enum Fixture {
    /// Decodes a fixture into an entity. `id` defaults to `<kind>/test/<name>`; unknown fields are errors.
    static func entity(_ raw: Value) -> Result<Entity, RuleIssue> {
        guard case .object(var o) = raw else {
            return .failure(RuleIssue("expected an entity table, e.g. application { name = \"pay\" }"))
        }
        guard let kind = o["kind"]?.stringValue else {
            return .failure(RuleIssue("missing kind (write application { ... }, workload { ... }, ...)"))
        }
        if o["id"] == nil {
            guard let name = o["name"]?.stringValue else { return .failure(RuleIssue("\(kind): give it a name or an id")) }
            o["id"] = .string("\(kind)/test/\(name)")
        }
        if o["name"] == nil, let id = o["id"]?.stringValue { o["name"] = .string(String(id.split(separator: "/").last ?? "")) }
        let entity: Entity
        do {
            entity = try ValueDecoder().decode(Entity.self, from: .object(o))
        } catch {
            let e = ValueDecodingError.from(error)
            return .failure(RuleIssue("\(kind) \(o["id"]?.stringValue ?? ""): \(e.description)"))
        }
        return .success(entity)
    }
}

/// The outcome of one rule test.
public struct RuleTestResult: Codable, Sendable {
    public enum Status: String, Codable, Sendable { case pass = "PASS", fail = "FAIL", error = "ERROR", skip = "SKIP" }
    public var file: String
    public var line: Int?
    public var name: String
    public var status: Status
    public var message: String
    public var seconds: Double
}
