import Foundation
import MeowModel
import MeowRules

/// The rules a running meow evaluates, reloaded when their files change.
///
/// A changed file whose new version does not load (syntax error, bad rule declaration) keeps its last
/// good version: the problem is reported (`reloadProblems`, and a `rule_error` decision) and the other
/// files' changes apply. A new file that never loaded reports its errors as any broken rule file does.
public final class RuleSet {
    public let directory: URL
    public let displayPath: String
    public private(set) var engine: RuleEngine
    /// Problems of the last reload: files that kept their previous version, and why.
    public private(set) var reloadProblems: [RuleLoadError] = []
    /// Every file problem: files that did not load, and files that kept their last good version.
    public var problems: [RuleLoadError] { engine.loadErrors + reloadProblems }
    /// How many times the rules were reloaded.
    public private(set) var generation = 0
    var fingerprint: [String: String] = [:]
    var lastGood: [String: String] = [:]

    public init(directory: URL, displayPath: String? = nil) throws {
        self.directory = directory
        fingerprint = Self.fingerprint(of: directory)
        let sources = try Self.readSources(directory)
        engine = try RuleEngine(directory: directory, displayPath: displayPath, sources: sources)
        self.displayPath = engine.displayDirectory
        recordGood(sources: sources)
    }

    /// Reloads when any `.lua` file under the directory changed (added, removed, edited). Returns true
    /// when it reloaded.
    @discardableResult
    public func reloadIfChanged() -> Bool {
        let now = Self.fingerprint(of: directory)
        guard now != fingerprint else { return false }
        fingerprint = now
        reload()
        return true
    }

    /// Reloads now.
    public func reload() {
        // the files are read once, here; the engines load these texts rather than reading them again
        guard let sources = try? Self.readSources(directory),
            var candidate = try? RuleEngine(directory: directory, displayPath: displayPath, sources: sources)
        else { return }
        var problems: [RuleLoadError] = []
        var overrides: [String: String] = [:]
        for (relative, source) in sources {
            let display = "\(displayPath)/\(relative)"
            let errors = candidate.loadErrors.filter { $0.file == display }
            guard !errors.isEmpty, let good = lastGood[relative], good != source else { continue }
            overrides[relative] = good
            for e in errors {
                problems.append(
                    RuleLoadError(
                        file: e.file, line: e.line, rule: e.rule,
                        message: "\(e.message) (reload refused: the last good version of this file stays in effect)"))
            }
        }
        var effective = sources
        for (k, v) in overrides { effective[k] = v }
        if !overrides.isEmpty, let kept = try? RuleEngine(directory: directory, displayPath: displayPath, sources: effective) {
            candidate = kept
        }
        engine = candidate
        reloadProblems = problems
        generation += 1
        recordGood(sources: effective)
    }

    /// Remembers the source of every file that loaded without an error.
    func recordGood(sources: [String: String]) {
        let broken = Set(engine.loadErrors.map(\.file))
        lastGood = lastGood.filter { sources[$0.key] != nil }
        for (relative, source) in sources where !broken.contains("\(displayPath)/\(relative)") {
            lastGood[relative] = source
        }
    }

    /// Evaluates the current rules; reload problems come first, as `rule_error` decisions.
    public func evaluate(_ snapshot: Snapshot, at time: Date) -> Evaluation {
        var result = engine.evaluate(snapshot, at: time)
        let extra = reloadProblems.map {
            Decision(
                type: .ruleError, rule: $0.rule ?? $0.file, subject: nil, severity: nil, message: $0.message, file: $0.file,
                line: $0.line)
        }
        result.decisions.insert(contentsOf: extra, at: 0)
        result.stats.ruleErrors += extra.count
        return result
    }

    static func readSources(_ directory: URL) throws -> [String: String] {
        var out: [String: String] = [:]
        for relative in try RuleEngine.ruleFiles(in: directory) {
            if let data = FileManager.default.contents(atPath: directory.appendingPathComponent(relative).path) {
                out[relative] = String(decoding: data, as: UTF8.self)
            }
        }
        return out
    }

    /// Path → "mtime/size" of every `.lua` file under the directory (rules, lib modules).
    static func fingerprint(of directory: URL) -> [String: String] {
        var out: [String: String] = [:]
        guard let e = FileManager.default.enumerator(atPath: directory.path) else { return out }
        while let p = e.nextObject() as? String {
            guard p.hasSuffix(".lua"), !p.hasSuffix("_test.lua") else { continue }
            let attrs = try? FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent(p).path)
            let mtime = (attrs?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            let size = (attrs?[.size] as? NSNumber)?.intValue ?? 0
            out[p] = "\(mtime)/\(size)"
        }
        return out
    }
}
