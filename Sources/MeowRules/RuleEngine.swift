import Foundation
import LuaHost
import MeowModel

/// Loads a directory of rule files into one sandboxed Lua state and evaluates them on snapshots.
///
/// A broken file or rule never stops the others: load problems are kept in `loadErrors` and reported as
/// `rule_error` decisions; a rule that fails or exceeds its budget on an entity yields a `rule_error` for
/// that entity while evaluation goes on. Evaluation takes the time as an argument and never reads the clock
/// for what rules see.
///
/// ```swift
/// let engine = try RuleEngine(directory: URL(fileURLWithPath: "rules"))
/// let result = engine.evaluate(snapshot, at: snapshot.observedAt ?? Date())
/// for d in result.decisions where d.type == .violation { print(d.rule, d.subject ?? "-", d.message) }
/// ```
public final class RuleEngine {
    public struct Options: Sendable {
        /// Budget of one rule on one entity.
        public var budget: Budget = .default
        /// Budget of running one file's top level.
        public var loadBudget: Budget = .load
        public init() {}
    }

    struct RuleFile {
        var path: String
        var env: LuaRef
        var evaluate: LuaRef?
    }

    public let directory: URL
    /// The directory as the user named it: the prefix of every file name in messages and decisions.
    public let displayDirectory: String
    public private(set) var rules: [Rule] = []
    public private(set) var loadErrors: [RuleLoadError] = []
    /// Rule files found, in load order (display paths).
    public private(set) var files: [String] = []
    public var options: Options
    let lua: LuaState
    var ruleFiles: [RuleFile] = []
    private(set) var printed: [String] = []

    /// Loads every `*.lua` under `directory` except `*_test.lua` files and modules under `lib/` folders.
    /// Throws only when the directory can't be read; problems inside files are in `loadErrors`.
    ///
    /// `sources` replaces the text of some files (by path relative to `directory`): hot reload uses it to
    /// keep the last good version of a file whose new version does not load.
    public init(
        directory: URL, displayPath: String? = nil, options: Options = Options(), sources: [String: String] = [:]
    ) throws {
        self.directory = directory
        self.displayDirectory = (displayPath ?? directory.path).trimmingSuffix("/")
        self.options = options
        lua = try LuaState()
        let modules = DirectoryModules(root: directory, chunkPrefix: displayDirectory)
        lua.moduleResolver = { modules.resolve($0) }
        for relative in try RuleFiles.list(in: directory, tests: false) {
            if let source = sources[relative] {
                files.append("\(displayDirectory)/\(relative)")
                load(source: source, display: "\(displayDirectory)/\(relative)")
            } else {
                loadFile(relative)
            }
        }
    }

    /// Rule files (not tests, not lib/ modules) under a directory, relative paths, sorted.
    public static func ruleFiles(in directory: URL) throws -> [String] { try RuleFiles.list(in: directory, tests: false) }

    /// Reads a rule file's source and loads it (used by `init`, and by hosts that validate a single file).
    private func loadFile(_ relative: String) {
        let display = "\(displayDirectory)/\(relative)"
        files.append(display)
        guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent(relative).path) else {
            loadErrors.append(RuleLoadError(file: display, line: nil, rule: nil, message: "cannot read the file"))
            return
        }
        load(source: String(decoding: data, as: UTF8.self), display: display)
    }

    private func load(source: String, display: String) {
        let fileIndex = ruleFiles.count
        do {
            let env = try lua.newEnvironment(kind: "rule", file: display)
            try run(Prelude.rules, chunk: "=meow.rules", env: env, args: [.ref(env)], file: display)
            try run(source, chunk: "@\(display)", env: env, args: [], file: display)
            guard let collect = try lua.global("__meow_collect", in: env) else {
                throw RuleLoadError(
                    file: display, line: nil, rule: nil, message: "the rule prelude is missing (was __meow_collect overwritten?)")
            }
            defer { lua.release(collect) }
            let declared = try unwrap(lua.call(collect, [], budget: options.loadBudget, now: 0).result, file: display)
            let file = RuleFile(path: display, env: env, evaluate: try lua.global("__meow_evaluate", in: env))
            ruleFiles.append(file)
            for (i, d) in (declared.arrayValue ?? []).enumerated() {
                switch Rule.parse(d, file: display, fileIndex: fileIndex, indexInFile: i + 1) {
                case .failure(let e):
                    loadErrors.append(e)
                case .success(let rule):
                    if let first = rules.first(where: { $0.id == rule.id }) {
                        loadErrors.append(
                            RuleLoadError(
                                file: display, line: rule.line, rule: rule.id,
                                message: "duplicate rule id '\(rule.id)' (first declared at \(first.file):\(first.line))"))
                    } else {
                        rules.append(rule)
                    }
                }
            }
        } catch let e as RuleLoadError {
            loadErrors.append(e)
        } catch let e as LuaError {
            loadErrors.append(RuleLoadError(file: e.file ?? display, line: e.line, rule: nil, message: e.bareMessage))
        } catch {
            loadErrors.append(RuleLoadError(file: display, line: nil, rule: nil, message: "\(error)"))
        }
    }

    private func run(_ source: String, chunk: String, env: LuaRef, args: [LuaArgument], file: String) throws {
        let fn = try lua.load(source, chunkName: chunk, env: env)
        defer { lua.release(fn) }
        _ = try unwrap(lua.call(fn, args, budget: options.loadBudget, now: 0).result, file: file)
    }

    private func unwrap(_ r: Result<Value, LuaError>, file: String) throws -> Value {
        switch r {
        case .success(let v): return v
        case .failure(let e): throw e
        }
    }

    /// Evaluates the rules (all, or those in `only`) on `snapshot` as of `time`.
    ///
    /// Decisions come in a stable order: rules in load order, entities in snapshot order.
    public func evaluate(_ snapshot: Snapshot, at time: Date, only: Set<String>? = nil, includeLoadErrors: Bool = true)
        -> Evaluation
    {
        let clock = ContinuousClock()
        let started = clock.now
        let documents = DocumentSet(documents: Self.documents(of: snapshot))
        let prepared = clock.now
        lua.documents = documents
        let now = time.timeIntervalSince1970
        var decisions: [Decision] = []
        var stats = EvaluationStats()
        stats.entities = snapshot.entities.count
        stats.prepareSeconds = (prepared - started).seconds
        if includeLoadErrors {
            for e in loadErrors {
                decisions.append(
                    Decision(
                        type: .ruleError, rule: e.rule ?? e.file, subject: nil, severity: nil,
                        message: e.message, file: e.file, line: e.line))
            }
        }
        let kindIndex = documents.kindIndex
        for rule in rules where only?.contains(rule.id) ?? true {
            guard let evaluate = ruleFiles[rule.fileIndex].evaluate else { continue }
            var ruleStats = RuleStats(rule: rule.id)
            let ruleStart = clock.now
            for index in kindIndex[rule.match.kind.rawValue] ?? [] {
                let document = documents.roots[Int(index)]
                guard rule.match.matches(document) else { continue }
                ruleStats.evaluations += 1
                let (result, usage) = lua.call(
                    evaluate, [.integer(Int64(rule.indexInFile)), .entity(Int(index))], budget: options.budget, now: now)
                ruleStats.instructions += usage.instructions
                let subject = documents.ids[Int(index)]
                switch result {
                case .success(.array(let violations)) where rule.kind == .policy:
                    for v in violations {
                        ruleStats.violations += 1
                        let evidence = v["evidence"] ?? .object([:])
                        decisions.append(
                            Decision(
                                type: .violation, rule: rule.id, subject: subject, severity: rule.severity,
                                message: v["message"]?.stringValue ?? rule.description ?? rule.id,
                                evidence: evidence == .null ? .object([:]) : evidence, file: rule.file, line: rule.line))
                    }
                case .success(.object(let o)) where rule.kind == .anomaly:
                    var series = o["series"] ?? .null
                    // an entity returned whole (a series entity itself) comes back as its id
                    if case .string(let id) = series, let root = documents.idIndex[id] { series = documents.roots[root] }
                    switch Self.anomaly(rule, series: series, subject: subject) {
                    case .success(let d?):
                        ruleStats.violations += 1
                        decisions.append(d)
                    case .success(nil):
                        break
                    case .failure(let issue):
                        ruleStats.errors += 1
                        decisions.append(
                            Decision(
                                type: .ruleError, rule: rule.id, subject: subject, severity: nil,
                                message: issue.message, file: rule.file, line: rule.line))
                    }
                case .success(.object(let o)) where rule.kind == .remediation:
                    ruleStats.violations += 1
                    decisions.append(Self.proposal(rule, reason: o["reason"]?.stringValue, params: o["params"], subject: subject))
                case .success(.bool(false)):
                    ruleStats.skipped += 1
                case .success:
                    break
                case .failure(let e):
                    ruleStats.errors += 1
                    let inRuleFile = e.file == rule.file
                    decisions.append(
                        Decision(
                            type: .ruleError, rule: rule.id, subject: subject, severity: nil, message: e.bareMessage,
                            evidence: e.trip.map { Value.object(["budget": .string($0.rawValue)]) } ?? .object([:]),
                            file: rule.file, line: inRuleFile ? e.line ?? rule.line : rule.line))
                }
            }
            ruleStats.seconds = (clock.now - ruleStart).seconds
            stats.rules += 1
            stats.evaluations += ruleStats.evaluations
            stats.byRule.append(ruleStats)
        }
        printed = lua.takeOutput()
        lua.collectGarbage()
        stats.violations = decisions.filter { $0.type == .violation }.count
        stats.anomalies = decisions.filter { $0.type == .anomaly }.count
        stats.proposals = decisions.filter { $0.type == .actionProposed }.count
        stats.ruleErrors = decisions.filter { $0.type == .ruleError }.count
        stats.seconds = (clock.now - started).seconds
        return Evaluation(decisions: decisions, stats: stats, output: printed)
    }

    /// The shared Lua state, for companions in this module (the rule-test runner).
    var state: LuaState { lua }
}

/// The outcome of one evaluation.
public struct Evaluation: Sendable {
    public var decisions: [Decision]
    public var stats: EvaluationStats
    /// Lines rules printed (bounded).
    public var output: [String]
}

public struct EvaluationStats: Codable, Sendable {
    public var rules = 0
    public var entities = 0
    public var evaluations = 0
    public var violations = 0
    public var anomalies = 0
    public var proposals = 0
    public var ruleErrors = 0
    public var seconds = 0.0
    public var prepareSeconds = 0.0
    public var byRule: [RuleStats] = []

    enum CodingKeys: String, CodingKey {
        case rules, entities, evaluations, violations, anomalies, proposals, seconds
        case ruleErrors = "rule_errors"
        case prepareSeconds = "prepare_seconds"
        case byRule = "by_rule"
    }
}

public struct RuleStats: Codable, Sendable {
    public var rule: String
    public var evaluations = 0
    public var violations = 0
    public var errors = 0
    public var skipped = 0
    public var instructions: UInt64 = 0
    public var seconds = 0.0

    init(rule: String) { self.rule = rule }
}

extension String {
    func trimmingSuffix(_ s: String) -> String {
        var out = self
        while out.count > 1 && out.hasSuffix(s) { out.removeLast(s.count) }
        return out
    }
}

/// Finding rule and test files.
enum RuleFiles {
    /// Relative paths of rule files (`tests: false`) or test files (`tests: true`), sorted.
    static func list(in directory: URL, tests: Bool) throws -> [String] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDir), isDir.boolValue else {
            throw RuleLoadError(file: directory.path, line: nil, rule: nil, message: "not a directory")
        }
        guard let e = FileManager.default.enumerator(atPath: directory.path) else { return [] }
        var out: [String] = []
        while let p = e.nextObject() as? String {
            guard p.hasSuffix(".lua") else { continue }
            let isTest = p.hasSuffix("_test.lua")
            let inLib = p.hasPrefix("lib/") || p.contains("/lib/")
            if tests ? isTest : (!isTest && !inLib) { out.append(p) }
        }
        return out.sorted()
    }
}
