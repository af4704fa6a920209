import Foundation
import Logging
import MeowModel
import MeowPlugins
import MeowStore

/// What the pipeline reports as actions move (`meow run` prints these).
public struct ActionEvent: Sendable, Codable, Equatable {
    public var id: Int64
    public var action: String
    public var subject: String
    public var rule: String
    /// The state the action entered.
    public var state: ActionState
    public var message: String
}

/// A provider instance the pipeline can execute through.
public struct ActionTarget: Sendable {
    public var instance: String
    public var plugin: String
    public var provider: any Provider

    public init(instance: String, plugin: String, provider: any Provider) {
        self.instance = instance
        self.plugin = plugin
        self.provider = provider
    }
}

/// The action pipeline (DESIGN §6, docs/actions.md). Each proposed action passes, in order:
///
/// 1. the mode: the strictest of the global mode, the protected environment's and the rule's own
///    (`dry-run` < `approve` < `auto` in what they allow);
/// 2. the guardrails: pause, a fresh subject, cooldown per (rule, subject), rate per rule and global,
///    blast radius per environment, the circuit breaker of the provider instance;
/// 3. approval when the mode is `approve`: four-eyes, an expiry, a reason;
/// 4. execution through the subject's provider, under a timeout, the guardrails checked again first;
/// 5. the state observed after it.
///
/// Every step is written to the ledger (the store) before it happens, under an idempotency key (rule,
/// subject, action, parameters, time window), so that after a crash at any point no approved action is
/// lost and none is executed twice: an action found `executing` at start is reconciled with its provider,
/// never repeated blindly.
public actor ActionPipeline {
    public let store: any MeowStore
    public private(set) var settings: ActionSettings
    let protectedEnvironments: Set<String>
    var targets: [String: ActionTarget]
    /// Test hook (`MEOW_TEST_CRASH_AT`): the process kills itself with SIGKILL right after this step.
    let crashAt: String?
    let logger: Logger
    let sink: @Sendable (ActionEvent) -> Void
    var recovered = false
    /// Idempotency keys already in the store (saves a transaction per repeated proposal).
    var knownKeys = Set<String>()
    /// Snapshot revision when each action finished: its effect is observed in a later snapshot.
    var finishedAtRevision: [Int64: Int] = [:]
    /// Deliveries under way, one queue per incident output, and the steps of those that finished.
    var deliveryQueues: [String: Task<Void, Never>] = [:]
    var delivered: [ActionEvent] = []

    public init(
        store: any MeowStore, settings: ActionSettings, protectedEnvironments: Set<String> = [], targets: [ActionTarget],
        crashAt: String? = nil, notificationsPerHour: Int = 60, logger: Logger = Logger(label: "meow.actions"),
        sink: @escaping @Sendable (ActionEvent) -> Void = { _ in }
    ) {
        self.store = store
        self.notificationsPerHour = notificationsPerHour
        self.settings = settings
        self.protectedEnvironments = protectedEnvironments
        self.targets = Dictionary(targets.map { ($0.instance, $0) }, uniquingKeysWith: { a, _ in a })
        self.crashAt = crashAt
        self.logger = logger
        self.sink = sink
    }

    /// Deliveries per incident output per hour (`incidents.rate_limit.per_hour`).
    let notificationsPerHour: Int

    /// Whether the action tells people rather than changes a system (the manifest's `notification`).
    func isNotification(_ r: ActionRecord) -> Bool {
        guard let instance = r.provider, let target = targets[instance], target.plugin == r.plugin else { return false }
        return target.provider.manifest.action(r.actionName)?.notification ?? false
    }

    /// Adds or replaces an executor (the demo hands over its simulated fleet).
    public func register(_ target: ActionTarget) { targets[target.instance] = target }

    // MARK: One pass

    /// One pass of the pipeline at `now`: reconciles what a crash left `executing` (first pass only),
    /// expires old approvals, records new proposals from `decisions` and decides them, executes approved
    /// actions, and records the state observed after earlier executions. `decisions` is the current
    /// evaluation (all of it: the pipeline keeps what is new).
    @discardableResult
    public func process(decisions: [Decision], snapshot: Snapshot, at now: Date = Date()) async -> [ActionEvent] {
        var events: [ActionEvent] = []
        do {
            let index = SnapshotIndex(snapshot)
            if !recovered {
                events += try await recover(index, now: now)
                recovered = true
            }
            events += try await expire(now: now)
            for d in decisions where d.type == .actionProposed {
                if let e = try await propose(d, index, now: now) { events += e }
            }
            for r in try await store.actions(states: [.proposed], limit: 500).reversed() {
                events += try await decide(r, index, now: now)
            }
            events += try await executeApproved(index, revision: snapshot.revision, now: now)
            events += try await observeAfter(decisions: decisions, index, revision: snapshot.revision, now: now)
        } catch is CancellationError {
            // shutting down: the next start picks up where this pass stopped (every step is in the store)
        } catch {
            logger.error("action pipeline: \(error)")
            sink(ActionEvent(id: 0, action: "", subject: "", rule: "", state: .unknown, message: "store error: \(error)"))
        }
        return events
    }

    /// Executes the approved actions. The changes run one after the other, in this pass (each one's
    /// guardrails count the ones before; a pause holds them). Deliveries (pages, messages) run in the
    /// background, in one queue per incident output: an output that is down and retrying holds back
    /// neither another output's pages, nor the changes, nor the next evaluation. Their steps are reported
    /// through the sink as they happen; `settle()` waits for them.
    func executeApproved(_ index: SnapshotIndex, revision: Int, now: Date) async throws -> [ActionEvent] {
        let approved = Array(try await store.actions(states: [.approved], limit: 500).reversed())
        let deliveries = Dictionary(grouping: approved.filter(isNotification), by: { $0.provider ?? "" })
        let queued = Date()
        for (output, queue) in deliveries.sorted(by: { $0.key < $1.key }) where deliveryQueues[output] == nil {
            deliveryQueues[output] = Task {
                await self.deliver(output, queue, index, revision: revision, now: now, queued: queued)
            }
        }
        guard try await pauseReason() == nil else { return [] }
        var events: [ActionEvent] = []
        for r in approved where !isNotification(r) {
            events += try await execute(r, index, revision: revision, now: now)
        }
        return events
    }

    /// One output's queue of deliveries, queued at wall-clock `queued` in the pass of (possibly simulated)
    /// time `now`: a delivery that waited for the ones before it starts that much later than `now`.
    func deliver(
        _ output: String, _ queue: [ActionRecord], _ index: SnapshotIndex, revision: Int, now: Date, queued: Date
    ) async {
        for r in queue {
            do {
                let started = now.addingTimeInterval(max(0, Date().timeIntervalSince(queued)))
                delivered += try await execute(r, index, revision: revision, now: started)
            } catch is CancellationError {
                break
            } catch {
                logger.error("incident output \(output): \(error)")
            }
        }
        if delivered.count > 1000 { delivered.removeFirst(delivered.count - 1000) }
        deliveryQueues[output] = nil
    }

    /// Waits for the deliveries under way, and returns the steps they made since the last call (`meow run
    /// --once` reports them; tests wait for them).
    @discardableResult
    public func settle() async -> [ActionEvent] {
        while let task = deliveryQueues.values.first { await task.value }
        defer { delivered = [] }
        return delivered
    }

    func emit(_ r: ActionRecord, _ message: String) -> ActionEvent {
        let e = ActionEvent(id: r.id, action: r.action, subject: r.subject, rule: r.rule, state: r.state, message: message)
        sink(e)
        return e
    }

    /// The test hook: dies here when asked to (`MEOW_TEST_CRASH_AT=step`).
    func checkpoint(_ step: String) {
        guard crashAt == step else { return }
        logger.critical("test hook: SIGKILL after step \(step)")
        kill(getpid(), SIGKILL)
    }

    // MARK: Proposals

    /// The idempotency key: the same proposal within one window is the same action.
    public static func key(
        rule: String, subject: String, action: String, params: [String: Value], window: TimeInterval, at now: Date
    )
        -> String
    {
        let slot = Int64((now.timeIntervalSince1970 / max(1, window)).rounded(.down))
        return "\(rule)|\(subject)|\(action)|\(Value.object(params).jsonString())|\(Int64(window))s#\(slot)"
    }

    func propose(_ d: Decision, _ index: SnapshotIndex, now: Date) async throws -> [ActionEvent]? {
        guard let subject = d.subject, let action = d.evidence["action"]?.stringValue else { return nil }
        let params = d.evidence["params"]?.objectValue ?? [:]
        let cooldown = d.evidence["cooldown_seconds"]?.doubleValue ?? 0
        let window = cooldown > 0 ? cooldown : settings.dedupWindow
        // The incident router names its deliveries itself (incident, output, event, revision).
        let key =
            d.evidence["idempotency_key"]?.stringValue
            ?? Self.key(rule: d.rule, subject: subject, action: action, params: params, window: window, at: now)
        guard !knownKeys.contains(key) else { return nil }
        let entity = index.entity(subject)
        let draft = NewAction(
            key: key, rule: d.rule, subject: subject, action: action, params: params,
            environment: d.evidence["environment"]?.stringValue ?? entity.flatMap { index.environment(of: $0) },
            provider: d.evidence["provider"]?.stringValue ?? entity?.record.provider,
            requester: "rule:\(d.rule)", reason: d.evidence["reason"]?.stringValue ?? d.message, evidence: d.evidence,
            mode: d.evidence["mode"]?.stringValue ?? "dry-run")
        let (record, created) = try await store.insert(
            draft,
            ledger: LedgerDraft(
                "proposed", actor: "rule:\(d.rule)",
                "rule \(d.rule) proposes \(action) on \(subject)\(draft.reason.map { ": \($0)" } ?? "")",
                detail: .object([
                    "decision": .object([
                        "rule": .string(d.rule), "message": .string(d.message), "evidence": d.evidence,
                        "file": d.file.map(Value.string) ?? .null, "line": d.line.map { .int(Int64($0)) } ?? .null,
                    ]),
                    "params": .object(params),
                ])), at: now)
        knownKeys.insert(key)
        guard created else { return nil }
        checkpoint("proposed")
        return [emit(record, "proposed by \(d.rule)")] + (try await decide(record, index, now: now))
    }

    /// Mode, routing, guardrails: where a `proposed` action goes next.
    func decide(_ proposed: ActionRecord, _ index: SnapshotIndex, now: Date) async throws -> [ActionEvent] {
        var r = proposed
        // A manual request names only the subject: its provider and environment come from the state.
        if let e = index.entity(r.subject) {
            r.provider = r.provider ?? e.record.provider
            r.environment = r.environment ?? index.environment(of: e)
        }
        let mode = effectiveMode(r)
        if case .failure(let problem) = route(r, index) {
            return try await move(r, to: .refused, reason: problem.message, LedgerDraft("refused", problem.message), now: now)
        }
        let guardrail = try await guardrails(r, index, now: now)
        if mode.mode == .dryRun {
            let verdict = guardrail.map { "it would be refused: \($0.reason)" } ?? "the guardrails would let it through"
            return try await move(
                r, to: .dryRun, reason: "mode dry-run",
                LedgerDraft(
                    "dry_run",
                    "dry-run (\(mode.why)): would run \(r.action) \(Value.object(r.params).jsonString()) on \(r.subject); \(verdict)",
                    detail: ["mode": .string(mode.mode.rawValue), "guardrail": guardrail.map { .string($0.name) } ?? .null]),
                now: now)
        }
        if let g = guardrail {
            return try await move(
                r, to: .refused, reason: g.reason,
                LedgerDraft("refused", "refused by \(g.name): \(g.reason)", detail: ["guardrail": .string(g.name)]), now: now)
        }
        let protected = !isNotification(r) && (r.environment.map(protectedEnvironments.contains) ?? false)
        let modeText = mode.mode.rawValue
        if mode.mode == .approve {
            let required = protected ? settings.protectedRequiredApprovals : settings.requiredApprovals
            let expires = now.addingTimeInterval(settings.approvalExpiry)
            return try await move(
                r, to: .awaitingApproval, reason: "needs \(required) approval(s)",
                LedgerDraft(
                    "awaiting_approval",
                    "guardrails passed; mode approve (\(mode.why)): needs \(required) approval(s) from someone other than \(r.requester) by \(Timestamp.format(expires))",
                    detail: ["required": .int(Int64(required)), "expires_at": .string(Timestamp.format(expires))]), now: now
            ) {
                $0.mode = modeText
                $0.requiredApprovals = required
                $0.expiresAt = expires
            }
        }
        let events = try await move(
            r, to: .approved, reason: "mode auto",
            LedgerDraft("approved", "guardrails passed; mode auto (\(mode.why)): approved without a person"), now: now
        ) { $0.mode = modeText }
        checkpoint("approved")
        return events
    }

    /// Moves an action and reports it; nothing when another process moved it first.
    func move(
        _ r: ActionRecord, to state: ActionState, reason: String?, _ ledger: LedgerDraft, now: Date,
        update: @escaping @Sendable (inout ActionRecord) -> Void = { _ in }
    ) async throws -> [ActionEvent] {
        let finishing = state.isTerminal
        let (provider, environment) = (r.provider, r.environment)
        guard
            let moved = try await store.transition(
                r.id, from: [r.state], to: state, reason: reason, ledger: ledger, at: now,
                update: {
                    $0.provider = $0.provider ?? provider
                    $0.environment = $0.environment ?? environment
                    update(&$0)
                    if finishing { $0.finishedAt = now }
                })
        else { return [] }
        return [emit(moved, ledger.message)]
    }

    /// The strictest of the global mode, the protected environment's and the rule's (a manual request
    /// always needs approval: someone else must confirm it).
    func effectiveMode(_ r: ActionRecord) -> (mode: MeowConfig.ActionMode, why: String) {
        func rank(_ m: MeowConfig.ActionMode) -> Int {
            switch m {
            case .dryRun: 2
            case .approve: 1
            case .auto: 0
            }
        }
        if isNotification(r) {
            // Pages and messages have their own mode (incidents.mode): they change nothing, so neither the
            // global mode of changes nor the protected environments' apply.
            let m = MeowConfig.ActionMode(rawValue: r.mode) ?? .dryRun
            return (m, "incidents.mode \(m.rawValue)")
        }
        var candidates: [(MeowConfig.ActionMode, String)] = [(settings.mode, "global \(settings.mode.rawValue)")]
        if let env = r.environment, protectedEnvironments.contains(env) {
            candidates.append((settings.protectedMode, "protected \(env): \(settings.protectedMode.rawValue)"))
        }
        if r.rule == "manual" {
            candidates.append((.approve, "manual request: approve"))
        } else {
            candidates.append(((MeowConfig.ActionMode(rawValue: r.mode) ?? .dryRun), "rule \(r.mode)"))
        }
        let strictest = candidates.max { rank($0.0) < rank($1.0) }!
        return (strictest.0, candidates.map(\.1).joined(separator: ", "))
    }

    /// The provider instance that executes an action on its subject, and the action's name there: the
    /// subject's own instance when it is of the action's plugin, or one that implements the action under
    /// its qualified name (the simulator).
    func route(_ r: ActionRecord, _ index: SnapshotIndex) -> Result<(ActionTarget, PluginManifest.Action), RouteProblem> {
        guard let instance = r.provider ?? index.entity(r.subject)?.record.provider else {
            return .failure(
                RouteProblem("\(r.subject) is not in the current state (not observed), so no provider instance can act on it"))
        }
        guard let target = targets[instance] else {
            return .failure(RouteProblem("provider instance \(instance) of \(r.subject) is not configured here"))
        }
        let action: PluginManifest.Action?
        if target.plugin == r.plugin {
            action = target.provider.manifest.action(r.actionName)
        } else {
            action = target.provider.manifest.action(r.action)
        }
        guard let action else {
            return .failure(
                RouteProblem(
                    "\(instance) (plugin \(target.plugin)) cannot run \(r.action) (its actions: \(target.provider.manifest.actions.map(\.name).joined(separator: ", ")))"
                ))
        }
        do {
            _ = try ActionParams.validate(r.params, against: action.params, action: r.action)
        } catch {
            return .failure(RouteProblem("\(error)"))
        }
        return .success((target, action))
    }

    // MARK: Approval expiry

    func expire(now: Date) async throws -> [ActionEvent] {
        var events: [ActionEvent] = []
        for r in try await store.actions(states: [.awaitingApproval], limit: 1000) {
            guard let e = r.expiresAt, e <= now else { continue }
            events += try await move(
                r, to: .expired, reason: "not approved before \(Timestamp.format(e))",
                LedgerDraft("expired", "not approved before \(Timestamp.format(e)); nothing was executed"), now: now)
        }
        return events
    }

    func pauseReason() async throws -> String? {
        if settings.paused { return "actions are paused in meow.yaml (actions.paused)" }
        let p = try await store.pauseState()
        guard p.paused else { return nil }
        return
            "actions were paused by \(p.by ?? "someone")\(p.at.map { " at \(Timestamp.format($0))" } ?? "")\(p.reason.map { ": \($0)" } ?? "")"
    }
}

/// Why an action cannot be routed to a provider.
struct RouteProblem: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
