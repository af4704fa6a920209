import ArgumentParser
import Foundation
import MeowModel
import MeowPlugins
import MeowRules

struct BenchEvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Time the evaluation of the rules over a generated fleet (10k apps, 50k workloads by default).",
        discussion: "Run it from a release build (make bench). Prints the best of --repeat runs."
    )

    @OptionGroup var rulesDir: RulesOption
    @Option(help: "Applications in the generated fleet.") var apps: Int = 10_000
    @Option(help: "Workloads per application.") var workloadsPerApp: Int = 5
    @Option(help: "Timed evaluations (the best is reported).") var `repeat`: Int = 3
    @Option(help: "Output format: text or json.") var output: OutputFormat = .text

    struct Result: Encodable {
        var apps, workloads, entities, rules, evaluations, decisions: Int
        var generateSeconds, firstEvaluationSeconds, bestEvaluationSeconds, prepareSeconds: Double
        var evaluationsPerSecond: Double
        var maxRSSMiB: Double
        var slowestRules: [String]
    }

    func run() throws {
        let clock = ContinuousClock()
        var options = FleetOptions()
        options.apps = apps
        options.workloadsPerApp = workloadsPerApp
        let g0 = clock.now
        let snapshot = FleetGenerator(options: options).generate()
        let generate = (clock.now - g0).seconds
        let engine = try RuleEngine(directory: try rulesDir.url(), displayPath: rulesDir.rules)
        if !engine.loadErrors.isEmpty {
            throw InputError("rules do not load: \(engine.loadErrors.map(\.description).joined(separator: "; "))")
        }
        let time = snapshot.observedAt ?? Date()
        Console.progress("bench eval: \(snapshot.entities.count) entities, \(engine.rules.count) rules; \(self.repeat) runs…")
        var runs: [Evaluation] = []
        for i in 0..<max(1, self.repeat + 1) {
            let r = engine.evaluate(snapshot, at: time)
            Console.progress("  run \(i + 1): \(Int(r.stats.seconds * 1000)) ms (\(r.decisions.count) decisions)")
            runs.append(r)
        }
        let warm = runs.count > 1 ? Array(runs.dropFirst()) : runs
        let best = warm.min { $0.stats.seconds < $1.stats.seconds }!
        let slowest = best.stats.byRule.sorted { $0.seconds > $1.seconds }.prefix(5).map {
            "\($0.rule) \(String(format: "%.1f", $0.seconds * 1000)) ms / \($0.evaluations) evals"
        }
        let result = Result(
            apps: apps, workloads: apps * workloadsPerApp, entities: snapshot.entities.count, rules: engine.rules.count,
            evaluations: best.stats.evaluations, decisions: best.decisions.count, generateSeconds: generate,
            firstEvaluationSeconds: runs[0].stats.seconds, bestEvaluationSeconds: best.stats.seconds,
            prepareSeconds: best.stats.prepareSeconds,
            evaluationsPerSecond: Double(best.stats.evaluations) / max(best.stats.seconds, 1e-9),
            maxRSSMiB: ProcessStats.maxRSSMiB(), slowestRules: slowest)
        switch output {
        case .json:
            print(try Console.json(result))
        case .text:
            print(
                """
                bench eval: \(Console.count(result.apps)) apps, \(Console.count(result.workloads)) workloads, \(Console.count(result.entities)) entities, \(result.rules) rules
                  fleet generation        \(String(format: "%8.1f", generate * 1000)) ms
                  evaluation, first       \(String(format: "%8.1f", result.firstEvaluationSeconds * 1000)) ms
                  evaluation, best of \(warm.count)   \(String(format: "%8.1f", result.bestEvaluationSeconds * 1000)) ms  (of which documents \(String(format: "%.1f", result.prepareSeconds * 1000)) ms)
                  rule evaluations        \(Console.count(result.evaluations))  (\(Console.count(Int(result.evaluationsPerSecond)))/s)
                  decisions               \(Console.count(result.decisions))
                  max RSS                 \(String(format: "%8.1f", result.maxRSSMiB)) MiB
                  slowest rules: \(slowest.joined(separator: "; "))
                """)
        }
    }
}

enum ProcessStats {
    /// Peak resident memory of this process (Linux: VmHWM), in MiB.
    static func maxRSSMiB() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kb = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
            return kb / 1024
        }
        return 0
    }
}
