import ArgumentParser
import Foundation
import Logging
import MeowActions
import MeowModel
import MeowPlugins
import MeowRules
import MeowRuntime
import MeowStore
import ServiceLifecycle

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Observe the providers in meow.yaml, evaluate the rules, print decisions as they change.",
        discussion: """
            Each provider instance is polled on its own schedule (poll_interval with jitter, timeout, exponential
            backoff, circuit breaker); a failing instance's entities stay, marked stale = true. Rules are
            re-evaluated after every poll and reloaded when their files change (a broken edit keeps the last
            good version). SIGTERM or SIGINT stops cleanly.

            Proposed actions go through the action pipeline (docs/actions.md): the mode (dry-run by default),
            guardrails, approvals (meow actions approve), execution, all recorded in the store (store.path,
            default .meow/meow.db next to meow.yaml) with the decision history.

            --once polls every instance once, evaluates, runs one pass of the action pipeline, prints the state,
            the decisions and the actions, and exits:
            0 clean, 1 violations or rule errors, 2 bad config, 3 a provider could not be observed.
            """)

    @Option(name: .long, help: "The config file (docs/configuration.md).")
    var config: String = "meow.yaml"

    @Flag(name: .long, help: "Poll every provider once, evaluate, print, exit.")
    var once = false

    @Option(name: .long, help: "Override rules.dir of the config.")
    var rules: String?

    @Option(name: .long, help: "text or json (json: one object with --once, JSON lines otherwise).")
    var output: OutputFormat = .text

    @Option(name: .long, help: "With --once: how many applications the text report lists.")
    var limit: Int = 50

    @Option(name: .long, help: "Override store.path of the config (the SQLite file of the ledger and history).")
    var store: String?

    func run() async throws {
        let output = self.output
        let once = self.once
        let printer = EventPrinter(output: output, quietPolls: once)
        let (cfg, runtime, display) = try await Self.start(
            config: config, rules: rules, store: store, sink: { printer.handle($0) })
        if once {
            let report = await runtime.runOnce()
            await runtime.shutdown()
            try OnceRenderer.print(report, output: output, limit: limit, ruleCount: await runtime.ruleCount)
            if report.providers.contains(where: { $0.state == "failing" }) { throw ExitCode(3) }
            if report.evaluation.decisions.contains(where: { $0.type == .violation || $0.type == .ruleError }) {
                throw ExitCode(1)
            }
            return
        }
        let enabled = cfg.providers.filter(\.enabled).count
        Console.progress(
            "meow run: \(enabled) provider instance\(enabled == 1 ? "" : "s"), \(await runtime.ruleCount) rules from \(display), actions \(cfg.actions.mode.rawValue)\(cfg.actions.paused ? " (paused)" : ""), store \(Self.relative(cfg.storePath)). SIGINT/SIGTERM stops."
        )
        var logger = Logger(label: "meow", factory: { StreamLogHandler.standardError(label: $0) })
        logger.logLevel = .warning
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: RuntimeService(runtime: runtime))], gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
        Console.progress("meow run: stopped")
    }

    /// Loads and checks the config, opens the store, builds the runtime and takes the store's runner lease:
    /// what `meow run` and `meow serve` do before they start. Problems are `InputError`s naming the file.
    static func start(config: String, rules: String?, store: String?, sink: @escaping @Sendable (RuntimeEvent) -> Void)
        async throws -> (MeowConfig, Runtime, String)
    {
        var cfg: MeowConfig
        do {
            cfg = try MeowConfig.load(path: config)
        } catch let e as ConfigErrors {
            throw InputError(e.description + "\n(meow config validate --config \(config) checks a config without running it)")
        }
        if let rules { cfg.rulesDirectory = rules }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: cfg.rulesDirectory, isDirectory: &isDir), isDir.boolValue else {
            throw InputError("\(config): rules.dir: \(cfg.rulesDirectory) is not a directory")
        }
        let display = rules ?? Self.relative(cfg.rulesDirectory)
        if let store { cfg.storePath = URL(fileURLWithPath: store).standardizedFileURL.path }
        let opened: SQLiteStore
        do {
            opened = try SQLiteStore(path: cfg.storePath)
        } catch {
            throw InputError("\(config): store.path: \(error)")
        }
        let runtime: Runtime
        do {
            runtime = try Runtime(
                config: cfg, rulesDisplayPath: display, store: opened,
                crashAt: ProcessInfo.processInfo.environment["MEOW_TEST_CRASH_AT"], sink: sink)
        } catch let e as ConfigErrors {
            throw InputError(e.description)
        }
        do {
            try await runtime.acquireLease()
        } catch let e as LeaseRefusal {
            await runtime.shutdown()
            throw InputError("\(Self.relative(cfg.storePath)): \(e)")
        }
        return (cfg, runtime, display)
    }

    static func relative(_ path: String) -> String {
        let cwd = FileManager.default.currentDirectoryPath + "/"
        return path.hasPrefix(cwd) ? String(path.dropFirst(cwd.count)) : path
    }
}

/// The runtime as a service of a ServiceGroup: graceful shutdown (SIGTERM/SIGINT) cancels it.
struct RuntimeService: Service {
    let runtime: Runtime
    func run() async throws {
        await cancelWhenGracefulShutdown { await runtime.run() }
    }
}

/// Prints runtime events: decisions to stdout; provider changes to stderr (text), or everything as JSON
/// lines on stdout.
final class EventPrinter: Sendable {
    let output: OutputFormat
    let quietPolls: Bool
    private let lastState = LockedDictionary()

    init(output: OutputFormat, quietPolls: Bool) {
        self.output = output
        self.quietPolls = quietPolls
    }

    func handle(_ event: RuntimeEvent) {
        let now = Timestamp.format(Date())
        switch event {
        case .polled(let s):
            if quietPolls { return }
            let previous = lastState.set(s.name, s.state)
            if output == .json {
                guard case .object(var o) = (try? ValueEncoder().encode(s)) ?? .null else { return }
                o["event"] = .string("provider")
                o["time"] = .string(now)
                emit(Value.object(o).jsonString())
                return
            }
            if s.state == "ok" && previous != "ok" {
                Console.progress(
                    "\(now) \(s.name): ok, \(s.entities) entities (\(Int((s.lastDurationSeconds ?? 0) * 1000)) ms)\(previous == "failing" ? " — recovered" : "")"
                )
            } else if s.state == "failing" {
                Console.progress(
                    "\(now) \(s.name): poll failed (\(s.consecutiveFailures) in a row, breaker \(s.breaker)); its entities are stale: \(s.lastError ?? "")"
                )
            }
            for w in s.warnings where s.state == "ok" && previous != "ok" { Console.progress("\(now) \(s.name): warning: \(w)") }
        case .evaluated(_, _, let changes):
            if quietPolls { return }
            for c in changes {
                if output == .json {
                    guard case .object(var o) = (try? ValueEncoder().encode(c.decision)) ?? .null else { continue }
                    o["event"] = .string("decision")
                    o["change"] = .string(c.change)
                    o["time"] = .string(now)
                    emit(Value.object(o).jsonString())
                } else {
                    let d = c.decision
                    let mark = c.change == "new" ? "+" : "-"
                    let sev = d.severity.map { " \($0.rawValue)" } ?? ""
                    let where_ = d.subject ?? d.file.map { "\($0):\(d.line ?? 0)" } ?? "-"
                    emit("\(now) \(mark) \(d.type.rawValue)\(sev) \(d.rule) \(where_): \(d.message)")
                }
            }
        case .rulesReloaded(let generation, let rules, let problems):
            if output == .json {
                emit(
                    Value.object([
                        "event": .string("rules_reloaded"), "time": .string(now), "generation": .int(Int64(generation)),
                        "rules": .int(Int64(rules)),
                        "problems": .array(problems.map { .string("\($0.file):\($0.line ?? 0): \($0.message)") }),
                    ]).jsonString())
            } else {
                Console.progress(
                    "\(now) rules reloaded: \(rules) rules" + (problems.isEmpty ? "" : ", \(problems.count) problem(s):"))
                for p in problems { Console.progress("  \(p.file):\(p.line ?? 0): \(p.message)") }
            }
        case .action(let a):
            if quietPolls { return }
            if output == .json {
                guard case .object(var o) = (try? ValueEncoder().encode(a)) ?? .null else { return }
                o["event"] = .string("action")
                o["time"] = .string(now)
                emit(Value.object(o).jsonString())
            } else {
                emit("\(now) action \(a.id) \(a.state.rawValue) \(a.action) \(a.subject): \(a.message)")
            }
        case .warning(let w):
            if output == .json {
                emit(Value.object(["event": .string("warning"), "time": .string(now), "message": .string(w)]).jsonString())
            } else {
                Console.progress("\(now) warning: \(w)")
            }
        }
    }

    func emit(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}

/// A small lock-protected map (the printer is called from the runtime's tasks).
final class LockedDictionary: @unchecked Sendable {
    private var values: [String: String] = [:]
    private let lock = NSLock()

    /// Sets a value and returns the previous one.
    func set(_ key: String, _ value: String) -> String? {
        lock.lock()
        defer { lock.unlock() }
        let old = values[key]
        values[key] = value
        return old
    }
}

/// The `meow run --once` report.
enum OnceRenderer {
    static func print(_ report: OnceReport, output: OutputFormat, limit: Int, ruleCount: Int) throws {
        if output == .json {
            let snapshot = try JSONDecoder().decode(Value.self, from: try report.snapshot.jsonData())
            let o: Value = .object([
                "providers": try ValueEncoder().encode(report.providers),
                "snapshot": snapshot,
                "decisions": try ValueEncoder().encode(report.evaluation.decisions),
                "stats": try ValueEncoder().encode(report.evaluation.stats),
                "actions": try ValueEncoder().encode(report.actions),
            ])
            Swift.print(o.jsonString(pretty: true))
            return
        }
        var out: [String] = []
        let entities = report.snapshot.entities
        let apps = entities.compactMap { e -> Application? in if case .application(let a) = e { return a } else { return nil } }
        out.append(
            Console.bold("meow run --once")
                + ": \(report.providers.count) provider instance\(report.providers.count == 1 ? "" : "s"), \(Console.count(entities.count)) entities (\(apps.count) applications, \(entities.filter { $0.kind == .dag }.count) DAGs), \(ruleCount) rules"
        )
        out.append("")
        out.append(Console.bold("Providers"))
        let nameWidth = (report.providers.map(\.name.count).max() ?? 4) + 2
        for p in report.providers {
            let state = p.state == "ok" ? Console.green(p.state) : p.state == "failing" ? Console.red(p.state) : p.state
            let ms = p.lastDurationSeconds.map { "\(Int($0 * 1000)) ms" } ?? "-"
            out.append(
                "  " + p.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0)
                    + p.plugin.padding(toLength: 11, withPad: " ", startingAt: 0)
                    + state + "  \(p.entities) entities  \(ms)"
                    + (p.lastError.map { "\n      " + Console.red("error: ") + $0 } ?? ""))
            for w in p.warnings.prefix(5) { out.append("      " + Console.yellow("warning: ") + w) }
        }
        if !apps.isEmpty {
            out.append("")
            out.append(Console.bold("Applications (\(apps.count))"))
            let sorted = apps.sorted { ($0.environment ?? "", $0.id) < ($1.environment ?? "", $1.id) }
            let idWidth = min(60, (sorted.prefix(limit).map(\.id.count).max() ?? 10) + 2)
            out.append(
                "  " + "ENV".padding(toLength: 9, withPad: " ", startingAt: 0)
                    + "APPLICATION".padding(toLength: idWidth, withPad: " ", startingAt: 0)
                    + "HEALTH      SYNC       REVISION  OWNER          CRITICALITY")
            for a in sorted.prefix(limit) {
                let stale = a.stale == true ? Console.red(" (stale)") : ""
                out.append(
                    "  " + (a.environment ?? "-").padding(toLength: 9, withPad: " ", startingAt: 0)
                        + a.id.padding(toLength: idWidth, withPad: " ", startingAt: 0)
                        + (a.health ?? "-").padding(toLength: 12, withPad: " ", startingAt: 0)
                        + (a.syncStatus ?? "-").padding(toLength: 11, withPad: " ", startingAt: 0)
                        + String((a.syncedRevision ?? "-").prefix(8)).padding(toLength: 10, withPad: " ", startingAt: 0)
                        + (a.owner ?? "-").padding(toLength: 15, withPad: " ", startingAt: 0) + (a.criticality ?? "-") + stale)
            }
            if apps.count > limit {
                out.append(Console.dim("  … and \(apps.count - limit) more (--limit, or --output json for all)"))
            }
        }
        let dags = entities.compactMap { e -> DAG? in if case .dag(let d) = e { return d } else { return nil } }
        if !dags.isEmpty {
            var lastRun: [String: DAGRun] = [:]
            var runCount: [String: Int] = [:]
            for e in entities {
                guard case .dagRun(let r) = e, let dag = r.dag else { continue }
                runCount[dag, default: 0] += 1
                if (r.start ?? .distantPast) >= (lastRun[dag]?.start ?? .distantPast) { lastRun[dag] = r }
            }
            out.append("")
            out.append(Console.bold("DAGs (\(dags.count))"))
            let idWidth = min(60, (dags.prefix(limit).map(\.id.count).max() ?? 10) + 2)
            out.append(
                "  " + "ENV".padding(toLength: 9, withPad: " ", startingAt: 0)
                    + "DAG".padding(toLength: idWidth, withPad: " ", startingAt: 0)
                    + "PAUSED  RUNS  LAST RUN   DURATION  FAILED IN A ROW")
            for d in dags.sorted(by: { ($0.environment ?? "", $0.id) < ($1.environment ?? "", $1.id) }).prefix(limit) {
                let last = lastRun[d.id]
                let duration = last?.durationSeconds.map { String(format: "%.1fs", $0) } ?? "-"
                out.append(
                    "  " + (d.environment ?? "-").padding(toLength: 9, withPad: " ", startingAt: 0)
                        + d.id.padding(toLength: idWidth, withPad: " ", startingAt: 0)
                        + (d.paused == true ? "yes" : "no").padding(toLength: 8, withPad: " ", startingAt: 0)
                        + String(runCount[d.id] ?? 0).padding(toLength: 6, withPad: " ", startingAt: 0)
                        + (last?.state ?? "-").padding(toLength: 11, withPad: " ", startingAt: 0)
                        + duration.padding(toLength: 10, withPad: " ", startingAt: 0) + String(d.failuresInARow ?? 0)
                        + (d.stale == true ? Console.red(" (stale)") : ""))
            }
            if dags.count > limit {
                out.append(Console.dim("  … and \(dags.count - limit) more (--limit, or --output json for all)"))
            }
        }
        out.append("")
        out.append(
            DecisionReport.render(
                report.evaluation, snapshot: report.snapshot, time: report.snapshot.observedAt ?? Date(), examples: 5,
                title: "Rules"))
        if !report.actions.isEmpty {
            out.append("")
            out.append(Console.bold("Actions (\(report.actions.count) steps)") + Console.dim("  meow actions list | show ID"))
            for a in report.actions.prefix(limit) {
                out.append(
                    "  #\(a.id) \(a.state.rawValue.padding(toLength: 18, withPad: " ", startingAt: 0)) \(a.action) \(a.subject): \(a.message)"
                )
            }
            if report.actions.count > limit { out.append(Console.dim("  … and \(report.actions.count - limit) more")) }
        }
        Swift.print(out.joined(separator: "\n"))
    }
}
