import Foundation
import MeowModel
import MeowPlugins
import MeowRules
import MeowRuntime

/// Rules (list, reload, validate a posted file) and dry-run simulation. Validation and simulation change
/// nothing: they evaluate on a copy, in an engine of their own, under the usual rule budgets.
extension API {
    func rules(_ r: APIRequest) async throws -> APIResponse {
        let view = state
        let stats = Dictionary((view.stats?.byRule ?? []).map { ($0.rule, $0) }, uniquingKeysWith: { a, _ in a })
        let items: [Value] = view.rules.map { rule in
            var o: [String: Value] = [
                "id": .string(rule.id), "kind": .string(rule.kind.rawValue), "severity": .string(rule.severity.rawValue),
                "description": rule.description.map { .string($0) } ?? .null, "tags": .array(rule.tags.map { .string($0) }),
                "runbook": rule.runbook.map { .string($0) } ?? .null, "file": .string(rule.file), "line": .int(Int64(rule.line)),
            ]
            if let s = stats[rule.id] {
                o["last_evaluation"] = [
                    "evaluations": .int(Int64(s.evaluations)), "decisions": .int(Int64(s.violations)),
                    "errors": .int(Int64(s.errors)), "seconds": .double(s.seconds),
                ]
            }
            return .object(o)
        }
        return .json(
            [
                "items": .array(items), "generation": .int(Int64(view.rulesGeneration)),
                "problems": .array(view.ruleProblems.map(Self.problemValue)),
            ])
    }

    static func problemValue(_ e: RuleLoadError) -> Value {
        [
            "file": .string(e.file), "line": e.line.map { .int(Int64($0)) } ?? .null, "rule": e.rule.map { .string($0) } ?? .null,
            "message": .string(e.message),
        ]
    }

    /// Reloads the rule files now; a file that no longer loads keeps its last good version.
    func reloadRules(_ r: APIRequest) async throws -> APIResponse {
        let (generation, count, problems) = await runtime.reloadRules()
        return .json(
            [
                "generation": .int(Int64(generation)), "rules": .int(Int64(count)),
                "problems": .array(problems.map(Self.problemValue)),
            ])
    }

    /// Validates one rule file posted as text (`Content-Type: text/x-lua` or `text/plain`, or JSON
    /// `{"name": "x.lua", "source": "..."}`): whether it loads, the rules it declares, and the decisions it
    /// would make on the current state. Nothing is saved or acted on.
    func validateRule(_ r: APIRequest) async throws -> APIResponse {
        var name = r.query("name") ?? "posted.lua"
        let source: String
        let type = r.header("content-type")?.lowercased() ?? ""
        if type.hasPrefix("application/json") {
            let body = try Self.jsonBody(r)
            source = try Self.requiredString(body, "source")
            name = body["name"]?.stringValue ?? name
        } else if type.isEmpty || type.hasPrefix("text/") {
            source = String(decoding: r.body, as: UTF8.self)
        } else {
            throw Problem(
                415, "unsupported-media-type", "post the rule file as text/x-lua (or JSON {\"name\", \"source\"}), not \(type)")
        }
        guard !source.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw Problem.badRequest("the rule file is empty")
        }
        guard Self.isRuleFileName(name), !name.hasSuffix("_test.lua") else {
            throw Problem.badRequest("name: expected a rule file name like my-rule.lua, got \"\(name)\"", field: "name")
        }
        let view = state
        let dir = try Self.scratchRules([name: source], modulesFrom: URL(fileURLWithPath: config.rulesDirectory))
        defer { try? FileManager.default.removeItem(at: dir) }
        let engine = try RuleEngine(directory: dir, displayPath: "posted")
        let time = view.evaluatedAt ?? Date()
        let result = engine.evaluate(view.snapshot, at: time)
        let loadErrors = engine.loadErrors
        let runtimeErrors = result.decisions.filter { $0.type == .ruleError }
        return .json([
            "valid": .bool(loadErrors.isEmpty && runtimeErrors.isEmpty),
            "file": .string("posted/\(name)"),
            "rules": .array(engine.rules.map { .string($0.id) }),
            "errors": .array(loadErrors.map(Self.problemValue)),
            "decisions": try Self.encode(result.decisions),
            "stats": try Self.encode(result.stats),
            "evaluated_on": ["revision": .int(Int64(view.snapshot.revision)), "at": .string(Timestamp.format(time))],
        ])
    }

    /// `NAME.lua`, a plain file name (no directory).
    static func isRuleFileName(_ name: String) -> Bool {
        name.range(of: #"^[A-Za-z0-9_-]+\.lua$"#, options: .regularExpression) != nil
    }

    /// A temporary rules directory with `files`, and the rule directory's `lib/` modules so that `require`
    /// works as in the real one.
    static func scratchRules(_ files: [String: String], modulesFrom rulesDir: URL) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("meow-rules-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (name, text) in files { try Data(text.utf8).write(to: dir.appendingPathComponent(name)) }
        let lib = rulesDir.appendingPathComponent("lib")
        if FileManager.default.fileExists(atPath: lib.path) {
            try? FileManager.default.createSymbolicLink(at: dir.appendingPathComponent("lib"), withDestinationURL: lib)
        }
        return dir
    }

    /// A dry run: `{"snapshot": {...}}` (the snapshot format) or `{"fleet": {"apps": 60, "duration": "2h",
    /// ...}}`, with the loaded rules or `"rules": {"name.lua": "source", ...}`, optionally `"only": [ids]`
    /// and `"at"`. Answers the decisions (snapshot) or the decisions that fired and resolved (fleet).
    func simulate(_ r: APIRequest) async throws -> APIResponse {
        let body = try Self.jsonBody(r)
        let unknown = Set(body.keys).subtracting(["snapshot", "fleet", "rules", "only", "at"])
        if let k = unknown.sorted().first {
            throw Problem.unprocessable("unknown field \(k) (expected snapshot or fleet, and rules, only, at)", field: k)
        }
        guard (body["snapshot"] == nil) != (body["fleet"] == nil) else {
            throw Problem.unprocessable("give either snapshot or fleet", field: "snapshot")
        }
        let (engine, scratch) = try engine(for: body["rules"])
        defer { if let scratch { try? FileManager.default.removeItem(at: scratch) } }
        var only: Set<String>?
        if let o = body["only"] {
            guard let ids = o.arrayValue?.compactMap(\.stringValue), ids.count == o.arrayValue?.count else {
                throw Problem.unprocessable("only must be an array of rule ids", field: "only")
            }
            let known = Set(engine.rules.map(\.id))
            if let bad = ids.first(where: { !known.contains($0) }) {
                throw Problem.unprocessable("only: no rule \(bad) (GET /v1/rules lists them)", field: "only")
            }
            only = Set(ids)
        }
        if let snap = body["snapshot"] {
            let snapshot: Snapshot
            do {
                snapshot = try Snapshot.load(from: Data(snap.jsonString().utf8), file: "snapshot")
            } catch let e as SnapshotError {
                throw Problem.unprocessable(e.message, field: "snapshot")
            }
            var time = snapshot.observedAt ?? Date()
            if let at = body["at"] {
                guard let t = at.stringValue.flatMap(Timestamp.parse) else {
                    throw Problem.unprocessable("at: expected an RFC 3339 time", field: "at")
                }
                time = t
            }
            let result = engine.evaluate(snapshot, at: time, only: only)
            return .json([
                "decisions": try Self.encode(result.decisions), "stats": try Self.encode(result.stats),
                "errors": .array(engine.loadErrors.map(Self.problemValue)),
            ])
        }
        guard case .object(let f) = body["fleet"]! else {
            throw Problem.unprocessable("fleet must be an object like {\"apps\": 60, \"duration\": \"2h\"}", field: "fleet")
        }
        let types: [String: String] = [
            "apps": "integer", "seed": "integer", "faults": "integer", "duration": "string", "step": "string",
            "history": "string",
        ]
        for (k, v) in f.sorted(by: { $0.key < $1.key }) {
            guard let t = types[k] else {
                throw Problem.unprocessable(
                    "fleet.\(k): unknown setting (expected \(types.keys.sorted().joined(separator: ", ")))", field: "fleet.\(k)")
            }
            var ok = v.stringValue != nil
            if t == "integer", case .int = v { ok = true } else if t == "integer" { ok = false }
            if !ok {
                throw Problem.unprocessable(
                    "fleet.\(k): expected \(t == "integer" ? "an integer" : "a duration string like 2h"), got \(v.typeName)",
                    field: "fleet.\(k)")
            }
        }
        let (options, duration, step): (SimulationOptions, TimeInterval, TimeInterval)
        do {
            (options, duration, step) = try SimulationSettings.parse(
                apps: Int(f["apps"]?.intValue ?? 60), seed: UInt64(max(0, f["seed"]?.intValue ?? 1)),
                faults: Int(f["faults"]?.intValue ?? 0), duration: f["duration"]?.stringValue ?? "2h",
                step: f["step"]?.stringValue ?? "10m", history: f["history"]?.stringValue ?? "6h", prefix: "fleet.",
                maxApps: 2000, maxSteps: 1000)
        } catch let e as SimulationSettings.Problem {
            throw Problem.unprocessable(e.message, field: "fleet.\(e.field)")
        }
        let run = SimulationRun(engine: engine, simulator: FleetSimulator(options: options))
        var events: [Value] = []
        run.run(duration: duration, step: step) { e in
            guard case .object(var o) = (try? Self.encode(e.decision)) ?? .null else { return }
            o["event"] = .string(e.kind.rawValue)
            events.append(.object(o))
        }
        let scoring = run.scoring()
        return .json([
            "events": .array(events), "steps": .int(Int64(run.steps)),
            "faults": try Self.encode(scoring.faults),
            "false_alarms": .int(Int64(scoring.falseAlarms.count)),
            "errors": .array(engine.loadErrors.map(Self.problemValue)),
        ])
    }

    /// The loaded rules' engine (a fresh one: evaluation state is not shared with the runtime), or one of
    /// the posted files.
    func engine(for posted: Value?) throws -> (RuleEngine, URL?) {
        guard let posted else {
            return (try RuleEngine(directory: URL(fileURLWithPath: config.rulesDirectory), displayPath: "rules"), nil)
        }
        guard case .object(let files) = posted, !files.isEmpty else {
            throw Problem.unprocessable("rules must be an object of file name → Lua source", field: "rules")
        }
        var texts: [String: String] = [:]
        for (name, v) in files {
            guard Self.isRuleFileName(name), let text = v.stringValue else {
                throw Problem.unprocessable("rules.\(name): expected NAME.lua → source text", field: "rules.\(name)")
            }
            texts[name] = text
        }
        let dir = try Self.scratchRules(texts, modulesFrom: URL(fileURLWithPath: config.rulesDirectory))
        return (try RuleEngine(directory: dir, displayPath: "posted"), dir)
    }
}
