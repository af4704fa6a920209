import ArgumentParser
import Foundation
import MeowActions
import MeowModel
import MeowPlugins
import MeowRules
import MeowRuntime
import MeowStore

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Simulate a day of a fleet with injected faults and show what the rules find.",
        discussion: """
            No external service is needed: the built-in simulator generates a fleet across dev, staging and prod,
            advances it step by step with faults injected (traffic spikes, memory leaks, slow S3, ...), and the
            standard rules run at every step. The report puts the anomalies next to the faults that were
            injected (hit / missed / false alarm), with the violations and the proposed remediations (dry-run).

            Then the action pipeline runs on the fleet at the end of the day (mode approve, a store in a temporary
            directory): the remediations are proposed, pass the guardrails, are approved by a person (the demo
            approves as demo-oncall), executed on the simulator, and their effect is observed a few steps later.

              meow demo
              meow demo --apps 300 --faults 12 --seed 7 --output json
            """
    )

    @OptionGroup var rulesDir: RulesOption
    @Option(help: "Applications in the fleet.") var apps: Int = 60
    @Option(help: "Faults to inject.") var faults: Int = 10
    @Option(help: "Random seed.") var seed: UInt64 = 42
    @Option(help: "Simulated time to run (e.g. 24h).") var duration: String = "24h"
    @Option(help: "Simulation step (e.g. 5m).") var step: String = "10m"
    @Option(help: "History generated before the run starts (e.g. 6h).") var history: String = "6h"
    @Option(help: "Output format: text or json.") var output: OutputFormat = .text
    @Option(help: "How many proposed actions the demo approves and executes.") var act: Int = 3

    func run() async throws {
        let (options, duration, step) = try SimulationSettings.parse(
            apps: apps, seed: seed, faults: faults, duration: self.duration, step: self.step, history: history)
        let engine = try RuleEngine(directory: try rulesDir.url(), displayPath: rulesDir.rules)
        if !engine.loadErrors.isEmpty {
            for e in engine.loadErrors { Console.error(e.description) }
            throw ExitCode(2)
        }
        let started = Date()
        let simulator = FleetSimulator(options: options)
        let run = SimulationRun(engine: engine, simulator: simulator)
        let bar = ProgressBar(label: "simulating \(self.duration) of \(apps) apps")
        run.run(duration: duration, step: step, onStep: { done, total in bar.update(done, total) })
        bar.finish()
        let report = DemoReport(run: run, wallSeconds: Date().timeIntervalSince(started))
        // The report first: the actions part moves the simulation on.
        var json = report.json
        let text = output == .text ? report.text() : ""
        let actions = try await DemoActions.run(run, engine: engine, approve: act)
        switch output {
        case .json:
            json.actions = actions
            print(try Console.json(json))
        case .text:
            print(text)
            print("")
            print(DemoActions.text(actions))
        }
    }
}

/// The demo's last part: the action pipeline on the simulated fleet, proposed → approved → executed →
/// effect observed, with the ledger of each action.
enum DemoActions {
    struct Story: Encodable {
        var action: ActionRecord
        var ledger: [LedgerEntry]
    }

    struct Report: Encodable {
        var proposed: Int
        var refused: Int
        var approved: Int
        var executed: Int
        var effectObserved: Int
        var stories: [Story]
        var refusals: [String]

        enum CodingKeys: String, CodingKey {
            case proposed, refused, approved, executed, stories, refusals
            case effectObserved = "effect_observed"
        }
    }

    static func run(_ run: SimulationRun, engine: RuleEngine, approve: Int) async throws -> Report {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("meow-demo-\(getpid())-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try SQLiteStore(path: dir.appendingPathComponent("meow.db").path)
        guard let manifest = PluginRegistry.builtin.plugin("simulator")?.manifest else {
            throw InputError("the simulator plugin is missing")
        }
        let options = run.simulator.options
        // The simulator is handed over to the provider (an actor); from here on only the provider uses it.
        nonisolated(unsafe) let handed = run.simulator
        let provider = SimulatorProvider(name: "simulator", manifest: manifest, simulator: handed)
        var settings = ActionSettings()
        settings.mode = .approve
        settings.staleAfter = 2 * options.step
        settings.requiredApprovals = 1
        settings.protectedRequiredApprovals = 1
        let protected: Set<String> = options.fleet.environments.last.map { [$0] } ?? []
        let pipeline = ActionPipeline(
            store: store, settings: settings, protectedEnvironments: protected,
            targets: [ActionTarget(instance: "simulator", plugin: "simulator", provider: provider)])

        guard var (snapshot, now) = await provider.currentSnapshot() else { throw InputError("the simulation did not run") }
        var evaluation = engine.evaluate(snapshot, at: now)
        await pipeline.process(decisions: evaluation.decisions, snapshot: snapshot, at: now)
        let all = try await store.actions(states: nil, limit: 10_000)
        let waiting = try await store.actions(states: [.awaitingApproval], limit: 10_000).reversed()
        var chosen: [Int64] = []
        var seenRules = Set<String>()
        // One per rule first, so the demo shows different kinds of action.
        for r in waiting where seenRules.insert(r.rule).inserted && chosen.count < approve { chosen.append(r.id) }
        for r in waiting where !chosen.contains(r.id) && chosen.count < approve { chosen.append(r.id) }
        for id in chosen {
            _ = try await store.approve(id, by: "demo-oncall", reason: "reviewed in meow demo", at: now)
        }
        await pipeline.process(decisions: evaluation.decisions, snapshot: snapshot, at: now)
        // A few steps later: the effect shows in the state, and the rules no longer propose the action.
        await provider.advance(by: 3 * options.step)
        guard let later = await provider.currentSnapshot() else { throw InputError("the simulation did not run") }
        (snapshot, now) = later
        evaluation = engine.evaluate(snapshot, at: now)
        await pipeline.process(decisions: evaluation.decisions, snapshot: snapshot, at: now)

        var stories: [Story] = []
        for id in chosen {
            guard let r = try await store.action(id) else { continue }
            stories.append(Story(action: r, ledger: try await store.ledger(id)))
        }
        let refused = all.filter { $0.state == .refused }
        return Report(
            proposed: all.count, refused: refused.count, approved: chosen.count,
            executed: stories.filter { $0.action.executedAt != nil }.count,
            effectObserved: stories.filter { $0.ledger.contains { $0.step == "observed" } }.count, stories: stories,
            refusals: refused.prefix(5).map { "\($0.action) on \($0.subject): \($0.stateReason ?? "")" })
    }

    static func text(_ r: Report) -> String {
        var out: [String] = []
        out.append(
            Console.bold("Actions")
                + "  (mode approve: \(r.proposed) proposed at the end of the day, \(r.refused) refused by guardrails, \(r.approved) approved by demo-oncall, \(r.executed) executed, \(r.effectObserved) with their effect observed)"
        )
        for line in r.refusals { out.append(Console.dim("  refused: \(line)")) }
        if r.stories.isEmpty {
            out.append("  no action was proposed at the end of the simulated day")
        }
        for s in r.stories {
            let a = s.action
            out.append(
                "  #\(a.id) \(a.action) \(Value.object(a.params).jsonString()) on \(a.subject) — \(ActionsRender.state(a.state))")
            for l in s.ledger {
                out.append(
                    "      \(l.step.padding(toLength: 18, withPad: " ", startingAt: 0)) \(l.actor.padding(toLength: 28, withPad: " ", startingAt: 0)) \(l.message)"
                )
            }
        }
        out.append(
            Console.dim(
                "Try it live: meow run --config examples/actions/meow.yaml --once, then meow actions list (docs/actions.md)"))
        return out.joined(separator: "\n")
    }
}

/// The simulation options `meow demo` and `meow simulate --fleet` share, parsed with clear errors.
extension SimulationSettings {
    /// The settings of `--apps` ... `--history`; a problem names its option.
    static func parse(apps: Int, seed: UInt64, faults: Int, duration: String, step: String, history: String) throws
        -> (SimulationOptions, duration: TimeInterval, step: TimeInterval)
    {
        do {
            return try SimulationSettings.parse(
                apps: apps, seed: seed, faults: faults, duration: duration, step: step, history: history, prefix: "--")
        } catch let e as SimulationSettings.Problem {
            throw InputError(e.message)
        }
    }
}

/// A progress bar on standard error (a line per 10% when it is not a terminal).
final class ProgressBar {
    let label: String
    let tty = isatty(STDERR_FILENO) != 0
    var lastTenth = -1

    init(label: String) { self.label = label }

    func update(_ done: Int, _ total: Int) {
        let fraction = Double(done) / Double(max(total, 1))
        if tty {
            let width = 30
            let filled = Int(fraction * Double(width))
            let line =
                "\r\(label) [\(String(repeating: "█", count: filled))\(String(repeating: "·", count: width - filled))] \(Int(fraction * 100))%"
            FileHandle.standardError.write(Data(line.utf8))
        } else if Int(fraction * 10) != lastTenth {
            lastTenth = Int(fraction * 10)
            Console.progress("\(label): \(lastTenth * 10)%")
        }
    }

    func finish() {
        if tty { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}

/// The demo's report: fleet by environment, faults vs anomalies, violations, proposals.
struct DemoReport {
    let run: SimulationRun
    let wallSeconds: Double

    struct EnvironmentSummary: Encodable {
        var environment: String
        var applications = 0, healthy = 0, workloads = 0, dags = 0, clusters = 0
    }

    struct JSON: Encodable {
        var environments: [EnvironmentSummary]
        var steps: Int
        var simulatedFrom: String
        var simulatedTo: String
        var wallSeconds: Double
        var faults: [FaultScoring.FaultResult]
        var falseAlarms: Int
        var anomalies: [Decision]
        var violations: [String: Int]
        var proposals: [Decision]
        var actions: DemoActions.Report?

        enum CodingKeys: String, CodingKey {
            case environments, steps, faults, anomalies, violations, proposals, actions
            case simulatedFrom = "simulated_from"
            case simulatedTo = "simulated_to"
            case wallSeconds = "wall_seconds"
            case falseAlarms = "false_alarms"
        }
    }

    var environments: [EnvironmentSummary] {
        var byEnv: [String: EnvironmentSummary] = [:]
        for e in run.lastSnapshot?.entities ?? [] {
            switch e {
            case .application(let a):
                let env = a.environment ?? "-"
                byEnv[env, default: EnvironmentSummary(environment: env)].applications += 1
                if a.health == "Healthy" { byEnv[env]!.healthy += 1 }
            case .workload(let w):
                byEnv[w.environment ?? "-", default: EnvironmentSummary(environment: w.environment ?? "-")].workloads += 1
            case .dag(let d):
                byEnv[d.environment ?? "-", default: EnvironmentSummary(environment: d.environment ?? "-")].dags += 1
            case .cluster(let c):
                byEnv[c.environment ?? "-", default: EnvironmentSummary(environment: c.environment ?? "-")].clusters += 1
            default: break
            }
        }
        let order = run.simulator.options.fleet.environments
        return byEnv.values.sorted {
            (order.firstIndex(of: $0.environment) ?? 99, $0.environment) < (
                order.firstIndex(of: $1.environment) ?? 99, $1.environment
            )
        }
    }

    var json: JSON {
        let score = run.scoring()
        let firing = run.events.filter { $0.kind == .firing }.map(\.decision)
        var violations: [String: Int] = [:]
        for d in run.lastEvaluation?.decisions ?? [] where d.type == .violation { violations[d.rule, default: 0] += 1 }
        return JSON(
            environments: environments, steps: run.steps,
            simulatedFrom: Timestamp.format(run.simulator.options.fleet.at), simulatedTo: Timestamp.format(run.simulator.now),
            wallSeconds: wallSeconds, faults: score.faults, falseAlarms: score.falseAlarms.count,
            anomalies: firing.filter { $0.type == .anomaly }, violations: violations,
            proposals: firing.filter { $0.type == .actionProposed })
    }

    func text() -> String {
        let j = json
        var out: [String] = []
        out.append(
            Console.bold("meow demo")
                + ": \(j.steps) steps from \(j.simulatedFrom) to \(j.simulatedTo) in \(String(format: "%.1f", wallSeconds)) s")
        out.append("")
        out.append(Console.bold("Fleet"))
        out.append("  environment  clusters  apps  healthy  workloads  dags")
        for e in j.environments {
            out.append(
                "  \(e.environment.padding(toLength: 11, withPad: " ", startingAt: 0))  \(pad(e.clusters, 8))  \(pad(e.applications, 4))  \(pad(e.healthy, 7))  \(pad(e.workloads, 9))  \(pad(e.dags, 4))"
            )
        }
        out.append("")
        let hits = j.faults.filter(\.detected).count
        out.append(
            Console.bold("Injected faults vs anomalies found")
                + "  (\(hits)/\(j.faults.count) detected, \(j.falseAlarms) false alarms)")
        out.append(
            Console.dim(
                "  a hit is an anomaly on the fault's subjects while it lasts (+30 min); violations that start then are shown after ‹also›"
            ))
        let related = Dictionary(uniqueKeysWithValues: run.scoring(.violation).faults.map { ($0.fault.id, $0.rules) })
        for f in j.faults.sorted(by: { $0.fault.start < $1.fault.start }) {
            let mark = f.detected ? Console.green("HIT   ") : Console.red("MISSED")
            var line =
                "  \(mark) \(Timestamp.format(f.fault.start))  \(f.fault.kind.rawValue.padding(toLength: 20, withPad: " ", startingAt: 0)) \(f.fault.cause)"
            if let t = f.firstDetection {
                let delay = Int(t.timeIntervalSince(f.fault.start) / 60)
                line += Console.dim("  ← \(f.rules.joined(separator: ", ")) after \(delay) min")
            }
            if let also = related[f.fault.id], !also.isEmpty { line += Console.dim("  ‹also› \(also.joined(separator: ", "))") }
            out.append(line)
        }
        let score = run.scoring()
        if !score.falseAlarms.isEmpty {
            out.append(
                Console.dim(
                    "  false alarms: " + score.falseAlarms.prefix(5).map { "\($0.rule) on \($0.subject)" }.joined(separator: "; ")
                        + (score.falseAlarms.count > 5 ? "; …" : "")))
        }
        out.append("")
        out.append(
            Console.bold("Violations at the end") + "  (\(j.violations.values.reduce(0, +)) in \(j.violations.count) rules)")
        for (rule, n) in j.violations.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }).prefix(8) {
            out.append("  \(pad(n, 5))  \(rule)")
        }
        out.append("")
        out.append(Console.bold("Proposed remediations (dry-run)") + "  (\(j.proposals.count))")
        var byRule: [String: [Decision]] = [:]
        for p in j.proposals { byRule[p.rule, default: []].append(p) }
        for (rule, list) in byRule.sorted(by: { $0.key < $1.key }) {
            out.append("  \(rule): \(list.count)")
            for p in list.prefix(3) {
                out.append("      \(p.time.map(Timestamp.format) ?? "") \(p.subject ?? "-"): \(p.message)")
            }
        }
        out.append("")
        out.append(Console.dim("Run it yourself: meow simulate --rules rules --fleet --faults 10 --duration 24h --output json"))
        return out.joined(separator: "\n")
    }

    func pad(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return String(repeating: " ", count: max(0, width - s.count)) + s
    }
}
