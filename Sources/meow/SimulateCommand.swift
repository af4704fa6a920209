import ArgumentParser
import Foundation
import MeowModel
import MeowPlugins
import MeowRules
import MeowRuntime

struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Dry-run the rules on a state snapshot and print their decisions.",
        discussion: """
            Nothing is changed anywhere: rules only read the snapshot.

              meow fleet --apps 300 > fleet.json
              meow simulate --rules rules --state fleet.json
              meow simulate --rules rules --state fleet.json --output json | jq '.decisions[] | select(.severity == "critical")'

            JSON: {"decisions":[{"type":"violation"|"anomaly"|"action_proposed"|"rule_error","rule":ID,
            "subject":ENTITY_ID|null,"severity":...,"message":...,"evidence":{...},"file":...,"line":...}],"stats":{...}}

            Over simulated time, on the built-in simulator (docs/simulator.md):
              meow simulate --rules rules --fleet --apps 60 --faults 8 --duration 24h --step 10m --output json
            streams one JSON line per decision that starts ("event":"firing") or stops ("event":"resolved")
            firing, with its simulated "time"; --truth FILE writes the injected faults.
            Exit: 0 no decisions, 1 violations, anomalies, proposals or rule errors found, 2 bad input.
            """
    )

    @OptionGroup var rulesDir: RulesOption
    @Option(help: "Snapshot JSON file (docs/state-model.md), e.g. from `meow fleet`.") var state: String?
    @Flag(help: "Run over the built-in simulator as time advances instead of a snapshot file.") var fleet = false
    @Option(help: "--fleet: applications.") var apps: Int = 60
    @Option(help: "--fleet: random seed.") var seed: UInt64 = 1
    @Option(help: "--fleet: faults to inject during the run.") var faults: Int = 0
    @Option(help: "--fleet: simulated time to run, e.g. 24h.") var duration: String = "24h"
    @Option(help: "--fleet: step, e.g. 5m.") var step: String = "10m"
    @Option(help: "--fleet: history generated before the run, e.g. 6h.") var history: String = "6h"
    @Option(help: "--fleet: write the injected faults (ground truth) as JSON to this file.") var truth: String?
    @Option(help: "Evaluation time (RFC 3339); default: the snapshot's observed_at.") var at: String?
    @Option(name: .customLong("rule"), help: "Evaluate only this rule id (repeatable).") var only: [String] = []
    @Option(help: "Output format: text or json.") var output: OutputFormat = .text
    @Option(help: "Text output: examples shown per rule.") var examples: Int = 5

    struct Report: Encodable {
        var decisions: [Decision]
        var stats: EvaluationStats
    }

    func validate() throws {
        if fleet == (state != nil) { throw ValidationError("give either --state FILE or --fleet") }
    }

    func run() throws {
        if fleet { return try runFleet() }
        let state = self.state!
        let snapshot: Snapshot
        do {
            snapshot = try Snapshot.load(path: state)
        } catch let e as SnapshotError {
            throw InputError(e.description)
        }
        var time: Date
        if let observed = snapshot.observedAt {
            time = observed
        } else {
            time = Date()
            if at == nil {
                Console.progress("note: \(state) has no observed_at; evaluating at the current time (use --at for a fixed time)")
            }
        }
        if let at {
            guard let t = Timestamp.parse(at) else {
                throw InputError("--at \(at): expected an RFC 3339 time like 2026-01-01T00:00:00Z")
            }
            time = t
        }
        let engine = try RuleEngine(directory: try rulesDir.url(), displayPath: rulesDir.rules)
        let known = Set(engine.rules.map(\.id))
        if let unknown = only.first(where: { !known.contains($0) }) {
            throw InputError("--rule \(unknown): no such rule in \(rulesDir.rules) (meow check lists them)")
        }
        let result = engine.evaluate(snapshot, at: time, only: only.isEmpty ? nil : Set(only))
        switch output {
        case .json:
            print(try Console.json(Report(decisions: result.decisions, stats: result.stats)))
        case .text:
            print(DecisionReport.render(result, snapshot: snapshot, time: time, examples: examples))
        }
        if !result.decisions.isEmpty { throw ExitCode(1) }
    }
}

extension SimulateCommand {
    func runFleet() throws {
        let (options, duration, step) = try SimulationSettings.parse(
            apps: apps, seed: seed, faults: faults, duration: self.duration, step: self.step, history: history)
        let engine = try RuleEngine(directory: try rulesDir.url(), displayPath: rulesDir.rules)
        for e in engine.loadErrors { Console.error(e.description) }
        let run = SimulationRun(engine: engine, simulator: FleetSimulator(options: options))
        let bar = ProgressBar(label: "simulating \(self.duration)")
        var count = 0
        run.run(
            duration: duration, step: step,
            onEvent: { event in
                count += 1
                switch output {
                case .json:
                    guard case .object(var o) = (try? ValueEncoder().encode(event.decision)) ?? .null else { return }
                    o["event"] = .string(event.kind.rawValue)
                    print(Value.object(o).jsonString())
                case .text:
                    let d = event.decision
                    let mark = event.kind == .firing ? "+" : "-"
                    print(
                        "\(Timestamp.format(d.time ?? Date())) \(mark) \(d.type.rawValue) \(d.rule) \(d.subject ?? "-"): \(d.message)"
                    )
                }
            }, onStep: { done, total in if output == .text { bar.update(done, total) } })
        if output == .text { bar.finish() }
        if let truth {
            let data = try InjectedFault.jsonData(run.simulator.faults)
            guard FileManager.default.createFile(atPath: truth, contents: data) else { throw InputError("cannot write \(truth)") }
        }
        if output == .text {
            let score = run.scoring()
            let (hit, total) = score.detectionRate()
            Console.progress(
                "\(run.steps) steps, \(count) events; faults detected by anomalies: \(hit)/\(total), false alarms: \(score.falseAlarms.count)"
            )
        }
        if count > 0 { throw ExitCode(1) }
    }
}

/// The human-readable report of an evaluation.
enum DecisionReport {
    static func render(_ result: Evaluation, snapshot: Snapshot, time: Date, examples: Int, title: String = "meow simulate")
        -> String
    {
        var out: [String] = []
        let s = result.stats
        out.append(
            Console.bold(title)
                + ": \(Console.count(s.entities)) entities, \(s.rules) rules, \(Console.count(s.evaluations)) evaluations in \(Int(s.seconds * 1000)) ms, at \(Timestamp.format(time))"
        )
        let violations = result.decisions.filter { $0.type == .violation }
        let errors = result.decisions.filter { $0.type == .ruleError }
        for (title, kind) in [
            ("Violations", Decision.Kind.violation), ("Anomalies", .anomaly), ("Proposed actions (dry-run)", .actionProposed),
        ] {
            let list = result.decisions.filter { $0.type == kind }
            if !list.isEmpty { out += section(title, list, examples: examples) }
        }
        if !errors.isEmpty {
            out.append("")
            out.append(Console.bold(Console.red("Rule errors (\(errors.count))")))
            for e in errors.prefix(50) {
                let at = e.file.map { "\($0):\(e.line ?? 0): " } ?? ""
                out.append("  \(at)[\(e.rule)] \(e.message)\(e.subject.map { "  (on \($0))" } ?? "")")
            }
            if errors.count > 50 { out.append("  … and \(errors.count - 50) more") }
        }
        out.append("")
        if result.decisions.isEmpty {
            out.append(Console.green("No violations."))
        } else {
            var counts: [String] = []
            for sev in Severity.allCases.reversed() {
                let n = violations.filter { $0.severity == sev }.count
                if n > 0 { counts.append("\(Console.count(n)) \(sev.rawValue)") }
            }
            out.append(
                "\(Console.count(violations.count)) violations" + (counts.isEmpty ? "" : " (\(counts.joined(separator: ", ")))")
                    + ", \(s.anomalies) anomalies, \(s.proposals) proposed actions, \(errors.count) rule errors")
        }
        return out.joined(separator: "\n")
    }

    /// Decisions of one type, grouped by rule: most severe first, then most frequent.
    static func section(_ title: String, _ list: [Decision], examples: Int) -> [String] {
        var out = ["", Console.bold("\(title) (\(Console.count(list.count)))")]
        var order: [String] = []
        var byRule: [String: [Decision]] = [:]
        for v in list {
            if byRule[v.rule] == nil { order.append(v.rule) }
            byRule[v.rule, default: []].append(v)
        }
        order.sort {
            (byRule[$0]![0].severity ?? .info, byRule[$0]!.count) > (byRule[$1]![0].severity ?? .info, byRule[$1]!.count)
        }
        for rule in order {
            let group = byRule[rule]!
            let sev = group[0].severity?.rawValue ?? "-"
            let painted = (group[0].severity ?? .info) >= .high ? Console.red(sev) : Console.yellow(sev)
            out.append(
                "  \(painted.padding(toLength: 8 + (Console.color ? 9 : 0), withPad: " ", startingAt: 0))  \(Console.bold(rule))  \(group.count)"
            )
            for d in group.prefix(examples) {
                let when = d.time.map { Console.dim(Timestamp.format($0)) + " " } ?? ""
                out.append("      \(when)\(d.subject ?? "-"): \(d.message)")
            }
            if group.count > examples {
                out.append(Console.dim("      … and \(group.count - examples) more (--output json lists all)"))
            }
        }
        return out
    }
}
