import Foundation
import MeowActions
import MeowModel
import MeowPlugins
import MeowRules
import MeowStore
import Metrics

/// How one provider instance is doing (`meow run` output, later `/readyz`).
public struct InstanceStatus: Sendable, Codable, Equatable {
    public var name: String
    public var plugin: String
    public var environment: String?
    /// `pending` (not polled yet), `ok`, `failing` (its entities are stale), `disabled`.
    public var state: String
    public var entities: Int
    public var lastSuccess: Date?
    public var lastAttempt: Date?
    public var lastError: String?
    /// ProviderError kind of the last error: unauthorized, forbidden, timeout, unavailable, malformed, ...
    public var errorKind: String?
    public var consecutiveFailures: Int
    /// Circuit breaker: closed, open, half-open.
    public var breaker: String
    public var polls: Int
    public var failures: Int
    public var lastDurationSeconds: Double?
    public var warnings: [String]

    enum CodingKeys: String, CodingKey {
        case name, plugin, environment, state, entities, polls, failures, warnings, breaker
        case lastSuccess = "last_success"
        case lastAttempt = "last_attempt"
        case lastError = "last_error"
        case errorKind = "error_kind"
        case consecutiveFailures = "consecutive_failures"
        case lastDurationSeconds = "last_duration_seconds"
    }
}

/// A decision that appeared or went away between two evaluations.
public struct DecisionChange: Sendable, Codable {
    /// `new` or `resolved`.
    public var change: String
    public var decision: Decision
}

/// What the runtime reports as it goes.
public enum RuntimeEvent: Sendable {
    /// A poll finished (successfully or not).
    case polled(InstanceStatus)
    /// Rules were evaluated; `changes` are the decisions that appeared or resolved.
    case evaluated(revision: Int, stats: EvaluationStats, changes: [DecisionChange])
    /// Rule files changed and were reloaded; `problems` are files that kept their last good version.
    case rulesReloaded(generation: Int, rules: Int, problems: [RuleLoadError])
    /// An action moved through the pipeline.
    case action(ActionEvent)
    /// Something the user should know that stops nothing (a store write that failed, ...).
    case warning(String)
}

/// The result of `meow run --once`.
public struct OnceReport: Sendable {
    public var providers: [InstanceStatus]
    public var snapshot: Snapshot
    public var evaluation: Evaluation
    /// What the action pipeline did in this pass.
    public var actions: [ActionEvent]
}

/// The running system (DESIGN §1): polls every provider instance on its own schedule, keeps the
/// normalized state, re-evaluates the rules after each poll and reports decisions as they change.
///
/// Each instance has its own task, timeout, backoff and circuit breaker, so a dead or slow instance
/// never delays the others: its last entities stay in the state, marked `stale = true`, until it
/// answers again. Rule files are reloaded when they change (see `RuleSet`).
public actor Runtime {
    struct Instance {
        var config: MeowConfig.ProviderInstance
        var provider: any Provider
        var schedule: PollSchedule
        var entities: [Entity] = []
        var status: InstanceStatus
    }

    public let config: MeowConfig
    var instances: [String: Instance] = [:]
    let order: [String]
    let rules: RuleSet
    var revision = 0
    var current: [String: Decision] = [:]
    var lastChanges: [DecisionChange] = []
    let sink: @Sendable (RuntimeEvent) -> Void
    let dirty: AsyncStream<Void>
    let dirtyContinuation: AsyncStream<Void>.Continuation
    var random = SystemRandomNumberGenerator()
    /// The action pipeline, when the runtime has a store.
    public let pipeline: ActionPipeline?
    public nonisolated let store: (any MeowStore)?
    /// Routes decisions to incidents (`incidents:` in meow.yaml), when there is a store and routes.
    public let incidents: IncidentRouter?
    /// History already written: event ids, and the state each DAG run was recorded in.
    var recordedEvents = Set<String>()
    var recordedRuns: [String: String] = [:]
    var lastPrune: Date?
    /// This process's hold on the store (one runner per store, see `acquireLease`).
    var lease: RunnerLease?
    var renewing = false
    let leaseID = UUID().uuidString
    /// A runner whose heartbeat is older than this is gone.
    public static let leaseTTL: TimeInterval = 15
    /// The last evaluation and the provider statuses, readable without waiting on this actor.
    public nonisolated let published = PublishedState()
    let metrics = RuntimeMetrics()

    /// Builds every enabled instance (plugin factories) and loads the rules. Throws when an instance
    /// cannot be built (a CA file that does not parse, ...) or the rules directory can't be read.
    ///
    /// With a `store`, proposed actions go through the action pipeline (modes, guardrails, approvals,
    /// ledger) and the decision, event and run history is kept there. `crashAt` is the pipeline's test
    /// hook (`MEOW_TEST_CRASH_AT`).
    public init(
        config: MeowConfig, registry: PluginRegistry = .builtin, rulesDisplayPath: String? = nil,
        store: (any MeowStore)? = nil, crashAt: String? = nil,
        sink: @escaping @Sendable (RuntimeEvent) -> Void = { _ in }
    ) throws {
        self.config = config
        self.sink = sink
        (dirty, dirtyContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        var built: [String: Instance] = [:]
        var names: [String] = []
        for p in config.providers {
            guard let plugin = registry.plugin(p.plugin) else {
                throw ConfigErrors([
                    ConfigError(file: config.file, line: p.line, path: "providers", message: "unknown plugin \(p.plugin)")
                ])
            }
            let provider: any Provider
            do {
                provider = try plugin.make(config.context(for: p))
            } catch {
                throw ConfigErrors([
                    ConfigError(file: config.file, line: p.line, path: "providers (\(p.name))", message: "\(error)")
                ])
            }
            names.append(p.name)
            built[p.name] = Instance(
                config: p, provider: provider,
                schedule: PollSchedule(
                    interval: p.pollInterval, jitter: p.jitter, backoffMax: p.backoffMax, breakerFailures: p.breakerFailures,
                    breakerCooldown: p.breakerCooldown),
                status: InstanceStatus(
                    name: p.name, plugin: p.plugin, environment: p.environment, state: p.enabled ? "pending" : "disabled",
                    entities: 0, consecutiveFailures: 0, breaker: "closed", polls: 0, failures: 0, warnings: []))
        }
        instances = built
        order = names
        self.store = store
        if let store {
            var settings = config.actions
            settings.paused = settings.paused || config.actionsPaused
            pipeline = ActionPipeline(
                store: store, settings: settings, protectedEnvironments: config.protectedEnvironments,
                targets: names.compactMap { n in
                    built[n].map { ActionTarget(instance: n, plugin: $0.config.plugin, provider: $0.provider) }
                }, crashAt: crashAt, notificationsPerHour: config.incidents.perHour,
                sink: { event in
                    Counter(label: "meow_actions_total", dimensions: [("state", event.state.rawValue)]).increment()
                    sink(.action(event))
                })
            incidents = config.incidents.enabled ? IncidentRouter(settings: config.incidents, store: store) : nil
        } else {
            pipeline = nil
            incidents = nil
        }
        rules = try RuleSet(directory: URL(fileURLWithPath: config.rulesDirectory), displayPath: rulesDisplayPath)
        published.publish(providers: order.compactMap { built[$0]?.status })
        published.publish(Self.rulesOf(rules))
    }

    /// Writes the rules' part of the published state.
    static func rulesOf(_ loaded: RuleSet) -> (inout StateView) -> Void {
        { v in
            v.rules = loaded.engine.rules
            v.ruleProblems = loaded.problems
            v.rulesGeneration = loaded.generation
        }
    }

    // MARK: Reading the state

    /// The current state: every instance's last entities, stamped with the instance and `stale` when
    /// its last poll failed, plus the environments declared in meow.yaml.
    public func snapshot(at time: Date = Date()) -> Snapshot {
        var entities: [Entity] = []
        var seen = Set<String>()
        for name in order {
            guard let i = instances[name] else { continue }
            let stale = i.status.consecutiveFailures > 0
            for e in i.entities where seen.insert(e.id).inserted {
                entities.append(e.stamped(provider: name, stale: stale))
            }
        }
        for e in config.environmentEntities(at: time) where !seen.contains(e.id) {
            entities.append(e)
        }
        return Snapshot(revision: revision, observedAt: time, entities: entities)
    }

    public func statuses() -> [InstanceStatus] { order.compactMap { instances[$0]?.status } }

    /// The decisions of the last evaluation.
    public func decisions() -> [Decision] { current.sorted { $0.key < $1.key }.map(\.value) }

    public var ruleCount: Int { rules.engine.rules.count }

    // MARK: Running

    /// Polls every enabled instance once (concurrently, each under its timeout), then evaluates.
    public func runOnce() async -> OnceReport {
        await withTaskGroup(of: Void.self) { group in
            for name in order where instances[name]?.config.enabled == true {
                group.addTask { await self.poll(name) }
            }
        }
        var (evaluation, actions) = await evaluateAndAct()
        // Deliveries to incident outputs run in the background: a single pass waits for them.
        if let pipeline { actions += await pipeline.settle() }
        return OnceReport(providers: statuses(), snapshot: snapshot(), evaluation: evaluation, actions: actions)
    }

    /// Runs until the task is cancelled (SIGTERM/SIGINT through the service group in `meow run`).
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            for name in order where instances[name]?.config.enabled == true {
                group.addTask { await self.pollLoop(name) }
            }
            group.addTask { await self.evaluationLoop() }
            if pipeline != nil {
                group.addTask { await self.actionLoop() }
            }
            if config.hotReload {
                group.addTask { await self.reloadLoop() }
            }
        }
        await shutdown()
    }

    public func shutdown() async {
        await releaseLease()
        dirtyContinuation.finish()
        for name in order {
            if let p = instances[name]?.provider { await p.shutdown() }
        }
    }

    func pollLoop(_ name: String) async {
        while !Task.isCancelled {
            if mayPoll(name) {
                await poll(name)
                dirtyContinuation.yield()
            }
            let wait = nextDelay(name)
            do { try await Task.sleep(for: .seconds(wait)) } catch { return }
        }
    }

    func evaluationLoop() async {
        for await _ in dirty {
            if Task.isCancelled { return }
            _ = await evaluateAndAct()
        }
    }

    /// Every second: approvals given meanwhile (`meow actions approve` in another process), expiries,
    /// and the history retention once an hour.
    func actionLoop() async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: .seconds(1)) } catch { return }
            guard let pipeline else { return }
            guard await renewLease() else { continue }
            // the last evaluated state, as published: building a fresh snapshot every second would copy
            // every entity of a large fleet each time; before the first evaluation there is nothing to
            // check approvals against yet
            let view = published.current
            guard view.evaluatedAt != nil else { continue }
            await pipeline.process(decisions: view.decisions, snapshot: view.snapshot)
            await pruneIfDue()
        }
    }

    func pruneIfDue(now: Date = Date()) async {
        guard let store, lastPrune.map({ now.timeIntervalSince($0) >= 3600 }) ?? true else { return }
        lastPrune = now
        do {
            _ = try await store.prune(
                now: now, retention: Retention(history: config.retentionHistory, actions: config.retentionActions))
        } catch {
            sink(.warning("store: pruning old history failed: \(error)"))
        }
    }

    /// Evaluates, then hands the decisions to the action pipeline and keeps the history (with a store).
    @discardableResult
    public func evaluateAndAct(at time: Date = Date()) async -> (Evaluation, [ActionEvent]) {
        let snap = snapshot(at: time)
        let evaluation = evaluate(snap, at: time)
        guard let store, let pipeline else { return (evaluation, []) }
        do {
            try await store.record(
                decisions: lastChanges.map { DecisionHistoryRecord(at: time, change: $0.change, decision: $0.decision) })
            var events: [Event] = []
            var runs: [DAGRun] = []
            for e in snap.entities {
                switch e {
                case .event(let ev) where !recordedEvents.contains(ev.id):
                    recordedEvents.insert(ev.id)
                    events.append(ev)
                case .dagRun(let r) where r.state == "success" || r.state == "failed":
                    if recordedRuns[r.id] != r.state {
                        recordedRuns[r.id] = r.state
                        runs.append(r)
                    }
                default: break
                }
            }
            try await store.record(events: events, runs: runs)
        } catch {
            sink(.warning("store: could not record history: \(error)"))
        }
        guard await renewLease() else { return (evaluation, []) }
        var decisions = evaluation.decisions
        if let incidents {
            do {
                decisions += try await incidents.route(decisions: evaluation.decisions, snapshot: snap, at: time)
            } catch {
                sink(.warning("incidents: \(error)"))
            }
        }
        let actions = await pipeline.process(decisions: decisions, snapshot: snap, at: time)
        return (evaluation, actions)
    }

    // MARK: One runner per store

    /// Takes the store's runner lease. Refused while another runner holds it and is alive: its heartbeat
    /// is fresher than `leaseTTL`, and it is not a dead process of this host (a runner killed with
    /// SIGKILL leaves its lease behind; the next one on the same host takes it over at once).
    public func acquireLease(now: Date = Date()) async throws {
        guard let store else { return }
        let host = ProcessInfo.processInfo.hostName
        for _ in 0..<5 {
            let current = try await store.runnerLease()
            if let c = current, c.id != leaseID {
                let fresh = now.timeIntervalSince(c.heartbeat) < Self.leaseTTL
                let dead = c.host == host && c.pid != getpid() && kill(c.pid, 0) != 0 && errno == ESRCH
                if fresh && !dead { throw LeaseRefusal(holder: c, now: now) }
            }
            let mine = RunnerLease(
                id: leaseID, pid: getpid(), host: host,
                heartbeat: Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down)))
            if try await store.replaceRunnerLease(expected: current, with: mine) {
                lease = mine
                return
            }
        }
        throw LeaseRefusal(holder: nil, now: now)
    }

    /// Keeps the lease fresh (at most once a second); false when this runner does not hold it and cannot
    /// take it: then it evaluates but does not act.
    func renewLease(now: Date = Date()) async -> Bool {
        guard let store else { return true }
        if let held = lease {
            if now.timeIntervalSince(held.heartbeat) < 1 { return true }
            // the action loop and an evaluation may both get here; the second would compare-and-set
            // against the heartbeat the first is writing and wrongly conclude another runner took over
            if renewing { return true }
            renewing = true
            defer { renewing = false }
            var next = held
            next.heartbeat = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
            if (try? await store.replaceRunnerLease(expected: held, with: next)) == true {
                lease = next
                return true
            }
            lease = nil
            sink(.warning("another runner took this store's lease; this one stops acting on it"))
        }
        do {
            try await acquireLease(now: now)
            return true
        } catch {
            return false
        }
    }

    func releaseLease() async {
        guard let store, let held = lease else { return }
        _ = try? await store.replaceRunnerLease(expected: held, with: nil)
        lease = nil
    }

    func reloadLoop() async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: .seconds(config.reloadCheck)) } catch { return }
            if rules.reloadIfChanged() {
                reportReload()
                dirtyContinuation.yield()
            }
        }
    }

    /// Checks the rule files now (tests; the reload loop does this every `reload_check`).
    public func checkRules() -> Bool {
        let changed = rules.reloadIfChanged()
        if changed { reportReload() }
        return changed
    }

    func reportReload() {
        sink(.rulesReloaded(generation: rules.generation, rules: rules.engine.rules.count, problems: rules.reloadProblems))
    }

    /// Reloads the rule files now, changed or not (`POST /v1/rules/reload`), and evaluates with them.
    /// A file whose new version does not load keeps its last good version (see `RuleSet`).
    @discardableResult
    public func reloadRules() async -> (generation: Int, rules: Int, problems: [RuleLoadError]) {
        rules.reload()
        reportReload()
        await evaluateAndAct()
        return (rules.generation, rules.engine.rules.count, rules.problems)
    }

    func mayPoll(_ name: String) -> Bool {
        instances[name]?.schedule.mayPoll(at: Date()) ?? false
    }

    func nextDelay(_ name: String) -> TimeInterval {
        guard let s = instances[name]?.schedule else { return 1 }
        return s.delay(random: Double.random(in: 0..<1, using: &random))
    }

    /// Polls one instance now, under its timeout, and records the outcome.
    public func poll(_ name: String) async {
        guard let instance = instances[name] else { return }
        let started = Date()
        let result = await Self.observe(instance.provider, timeout: instance.config.timeout)
        record(name, result, started: started, duration: Date().timeIntervalSince(started))
    }

    nonisolated static func observe(_ provider: any Provider, timeout: TimeInterval) async -> Result<Observation, ProviderError> {
        do {
            // A little grace beyond `timeout`: the provider's requests carry the same timeout, and its own
            // error ("connection refused by ...") says more than this cut.
            return .success(
                try await Deadline.run(
                    seconds: timeout * 1.1 + 0.2,
                    message: "no complete observation within \(String(format: "%g", timeout))s (timeout)"
                ) { try await provider.observe() })
        } catch let e as ProviderError {
            return .failure(e)
        } catch {
            return .failure(ProviderError(.unavailable, "\(error)"))
        }
    }

    func record(_ name: String, _ result: Result<Observation, ProviderError>, started: Date, duration: TimeInterval) {
        guard var i = instances[name] else { return }
        metrics.polled(provider: name, seconds: duration, error: result.failure?.kind.rawValue)
        i.status.polls += 1
        i.status.lastAttempt = started
        i.status.lastDurationSeconds = duration
        switch result {
        case .success(let o):
            i.entities = o.entities
            i.schedule.succeeded()
            i.status.state = "ok"
            i.status.entities = o.entities.count
            i.status.lastSuccess = started
            i.status.lastError = nil
            i.status.errorKind = nil
            i.status.warnings = o.warnings
        case .failure(let e):
            i.schedule.failed(at: Date())
            i.status.failures += 1
            i.status.state = "failing"
            i.status.lastError = e.message
            i.status.errorKind = e.kind.rawValue
        }
        i.status.consecutiveFailures = i.schedule.consecutiveFailures
        i.status.breaker = i.schedule.breaker.name
        instances[name] = i
        revision += 1
        published.publish(providers: statuses())
        sink(.polled(i.status))
    }

    /// Evaluates the rules on the current state and reports the decisions that changed.
    @discardableResult
    public func evaluate(at time: Date = Date()) -> Evaluation {
        evaluate(snapshot(at: time), at: time)
    }

    /// Each decision's identity across evaluations: type, rule, subject (or file), and its ordinal among
    /// decisions with the same three. What appears or resolves is told by these; the API pages by them.
    public static func identities(of decisions: [Decision]) -> [String] {
        var ordinal: [String: Int] = [:]
        return decisions.map { d in
            let base = "\(d.type.rawValue)|\(d.rule)|\(d.subject ?? d.file ?? "")"
            let n = ordinal[base, default: 0]
            ordinal[base] = n + 1
            return "\(base)|\(n)"
        }
    }

    func evaluate(_ snap: Snapshot, at time: Date) -> Evaluation {
        let evaluation = rules.evaluate(snap, at: time)
        var next: [String: Decision] = [:]
        for (key, d) in zip(Self.identities(of: evaluation.decisions), evaluation.decisions) { next[key] = d }
        var changes: [DecisionChange] = []
        for (k, d) in next.sorted(by: { $0.key < $1.key }) where current[k] == nil {
            changes.append(DecisionChange(change: "new", decision: d))
        }
        for (k, d) in current.sorted(by: { $0.key < $1.key }) where next[k] == nil {
            changes.append(DecisionChange(change: "resolved", decision: d))
        }
        current = next
        lastChanges = changes
        metrics.evaluated(evaluation.stats)
        let publishRules = Self.rulesOf(rules)
        published.publish { v in
            v.snapshot = snap
            v.decisions = evaluation.decisions
            v.stats = evaluation.stats
            v.evaluatedAt = time
            publishRules(&v)
        }
        sink(.evaluated(revision: snap.revision, stats: evaluation.stats, changes: changes))
        return evaluation
    }
}

/// Another runner holds the store.
public struct LeaseRefusal: Error, CustomStringConvertible, Sendable {
    public var holder: RunnerLease?
    public var now: Date

    public var description: String {
        guard let h = holder else { return "could not take the store's runner lease (it kept changing); try again" }
        let age = max(0, Int(now.timeIntervalSince(h.heartbeat)))
        return
            "another meow run (pid \(h.pid) on \(h.host), last heartbeat \(age)s ago) runs the actions of this store; one runner per store (stop it, or give this one another store.path)"
    }
}
