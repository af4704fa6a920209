import Foundation
import MeowModel
import MeowPlugins
import MeowStore

/// A guardrail that refused, and why.
public struct GuardrailRefusal: Sendable, Equatable {
    /// pause, stale, cooldown, rate_rule, rate_global, blast_radius, breaker.
    public var name: String
    public var reason: String
}

/// Entities by id, and their environment.
struct SnapshotIndex {
    let byID: [String: Entity]

    init(_ snapshot: Snapshot) {
        byID = Dictionary(snapshot.entities.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
    }

    func entity(_ id: String) -> Entity? { byID[id] }

    func environment(of e: Entity) -> String? {
        let doc = e.document()
        if let env = doc["environment"]?.stringValue { return env }
        // A DAG run or task instance: its DAG's environment.
        if let dag = doc["dag"]?.stringValue, let d = byID[dag] { return d.document()["environment"]?.stringValue }
        if let run = doc["dag_run"]?.stringValue, let r = byID[run] { return environment(of: r) }
        return nil
    }
}

extension ActionPipeline {
    // MARK: Guardrails

    /// The first guardrail that refuses the action now, or nil. They are checked when an action is
    /// proposed and again right before it runs (an approval can come hours later).
    func guardrails(_ r: ActionRecord, _ index: SnapshotIndex, now: Date) async throws -> GuardrailRefusal? {
        if isNotification(r) { return try await notificationGuardrails(r, now: now) }
        // The pause stops the automation: rules' proposals are refused; a person's request may still wait
        // for approval (execution waits for the resume either way).
        if let p = try await pauseReason(), r.rule != "manual" || r.state == .approved {
            return GuardrailRefusal(name: "pause", reason: p)
        }
        guard let entity = index.entity(r.subject) else {
            return GuardrailRefusal(name: "stale", reason: "\(r.subject) is not in the current state (not observed)")
        }
        if entity.isStale {
            return GuardrailRefusal(
                name: "stale",
                reason:
                    "\(r.subject) is stale: its provider \(entity.record.provider ?? "?") failed its last poll, so meow cannot see what it would change"
            )
        }
        if let seen = entity.record.observedAt, now.timeIntervalSince(seen) > settings.staleAfter {
            return GuardrailRefusal(
                name: "stale",
                reason:
                    "\(r.subject) was last observed at \(Timestamp.format(seen)), more than \(Timestamp.formatDuration(settings.staleAfter)) ago"
            )
        }
        do {
            if r.rule != "manual" {
                let cooldown = r.evidence["cooldown_seconds"]?.doubleValue ?? settings.cooldown
                if cooldown > 0,
                    try await store.executions(
                        since: now.addingTimeInterval(-cooldown), rule: r.rule, subject: r.subject, environment: nil,
                        excluding: r.id)
                        > 0
                {
                    return GuardrailRefusal(
                        name: "cooldown",
                        reason:
                            "rule \(r.rule) acted on \(r.subject) less than \(Timestamp.formatDuration(cooldown)) ago (cooldown)")
                }
                let perRule = min(settings.perRulePerHour, r.evidence["per_hour"]?.intValue.map { Int($0) } ?? Int.max)
                let byRule = try await store.executions(
                    since: now.addingTimeInterval(-3600), rule: r.rule, subject: nil, environment: nil, excluding: r.id)
                if byRule >= perRule {
                    return GuardrailRefusal(
                        name: "rate_rule",
                        reason: "rule \(r.rule) has executed \(byRule) actions in the last hour (limit \(perRule))")
                }
            }
            let all = try await store.executions(
                since: now.addingTimeInterval(-3600), rule: nil, subject: nil, environment: nil, excluding: r.id)
            if all >= settings.globalPerHour {
                return GuardrailRefusal(
                    name: "rate_global",
                    reason: "\(all) actions executed in the last hour (global limit \(settings.globalPerHour))")
            }
        }
        let env = r.environment
        let protected = env.map(protectedEnvironments.contains) ?? false
        let limit = protected ? settings.protectedMaxActions : settings.maxActions
        let recent = try await store.executions(
            since: now.addingTimeInterval(-settings.blastWindow), rule: nil, subject: nil, environment: env, excluding: r.id)
        if recent >= limit {
            return GuardrailRefusal(
                name: "blast_radius",
                reason:
                    "\(recent) actions executed in \(env ?? "no environment") in the last \(Timestamp.formatDuration(settings.blastWindow)) (limit \(limit)\(protected ? ", protected environment" : ""))"
            )
        }
        if let provider = r.provider ?? entity.record.provider { return try await breaker(provider, now: now) }
        return nil
    }

    /// A page or a message changes nothing, so only two guardrails apply: the output's rate limit
    /// (`incidents.rate_limit.per_hour`) and its circuit breaker.
    func notificationGuardrails(_ r: ActionRecord, now: Date) async throws -> GuardrailRefusal? {
        guard let provider = r.provider else { return nil }
        let sent = try await store.notifications(since: now.addingTimeInterval(-3600), provider: provider, excluding: r.id)
        if sent >= notificationsPerHour {
            return GuardrailRefusal(
                name: "rate_output",
                reason:
                    "\(sent) deliveries through \(provider) in the last hour (incidents.rate_limit.per_hour \(notificationsPerHour))"
            )
        }
        return try await breaker(provider, now: now)
    }

    func breaker(_ provider: String, now: Date) async throws -> GuardrailRefusal? {
        let outcomes = try await store.recentOutcomes(provider: provider, limit: settings.breakerFailures)
        if outcomes.count == settings.breakerFailures, outcomes.allSatisfy({ $0.state == .failed }),
            let last = outcomes.first, now.timeIntervalSince(last.at) < settings.breakerCooldown
        {
            return GuardrailRefusal(
                name: "breaker",
                reason:
                    "the last \(outcomes.count) actions on \(provider) failed (circuit breaker open until \(Timestamp.format(last.at.addingTimeInterval(settings.breakerCooldown))))"
            )
        }
        return nil
    }

    // MARK: Execution

    func execute(_ r: ActionRecord, _ index: SnapshotIndex, revision: Int, now: Date) async throws -> [ActionEvent] {
        let routed: (ActionTarget, PluginManifest.Action)
        switch route(r, index) {
        case .failure(let problem):
            return try await move(
                r, to: .refused, reason: problem.message, LedgerDraft("refused", "at execution: \(problem.message)"), now: now)
        case .success(let t): routed = t
        }
        if let g = try await guardrails(r, index, now: now) {
            if g.name == "pause" { return [] }
            return try await move(
                r, to: .refused, reason: g.reason,
                LedgerDraft("refused", "at execution, refused by \(g.name): \(g.reason)", detail: ["guardrail": .string(g.name)]),
                now: now)
        }
        let (target, action) = routed
        let request = ActionRequest(action: action.name, subject: r.subject, params: r.params, key: r.key, startedAt: now)
        let provider = target.instance
        guard
            let running = try await store.transition(
                r.id, from: [.approved], to: .executing, reason: "running on \(provider)",
                ledger: LedgerDraft(
                    "executing",
                    "running \(r.action) on \(r.subject) through \(provider) (timeout \(Timestamp.formatDuration(settings.timeout)))",
                    detail: ["instance": .string(provider), "action": .string(action.name), "params": .object(r.params)]),
                at: now,
                update: {
                    $0.executedAt = now
                    $0.attempts += 1
                    $0.provider = provider
                })
        else { return [] }
        var events = [emit(running, "executing through \(provider)")]
        checkpoint("executing")
        let wallStart = Date()
        let outcome: Result<ActionOutcome, ProviderError>
        do {
            let p = target.provider
            outcome = .success(
                try await Deadline.run(
                    seconds: settings.timeout, message: "no answer within \(Timestamp.formatDuration(settings.timeout)) (timeout)"
                ) { try await p.perform(request) })
        } catch let e as ProviderError {
            outcome = .failure(e)
        } catch {
            outcome = .failure(ProviderError(.unavailable, "\(error)"))
        }
        checkpoint("performed")
        // `now` may be simulated time (the demo): the finish is `now` plus the time the call took.
        let at = now.addingTimeInterval(Date().timeIntervalSince(wallStart))
        switch outcome {
        case .success(let o):
            events += try await move(
                running, to: o.ok ? .succeeded : .failed, reason: o.message,
                LedgerDraft(o.ok ? "succeeded" : "failed", o.message, detail: o.details), now: at
            ) { $0.result = o.details }
        case .failure(let e):
            events += try await move(
                running, to: .failed, reason: e.message,
                LedgerDraft("failed", "\(e.kind.rawValue): \(e.message)", detail: ["error": .string(e.kind.rawValue)]), now: at
            ) { $0.result = .object(["error": .string(e.message), "kind": .string(e.kind.rawValue)]) }
        }
        finishedAtRevision[r.id] = revision
        checkpoint("finished")
        return events
    }

    // MARK: Recovery

    /// Actions a crash left `executing`: asks their provider whether the call took effect. Done → the
    /// action succeeded (reconciled); not done → approved again, to run once; cannot tell → `unknown`,
    /// for a person (never repeated blindly).
    func recover(_ index: SnapshotIndex, now: Date) async throws -> [ActionEvent] {
        var events: [ActionEvent] = []
        for r in try await store.actions(states: [.executing], limit: 1000) {
            guard let instance = r.provider, let target = targets[instance] else {
                events += try await move(
                    r, to: .unknown, reason: "interrupted; its provider is not configured now",
                    LedgerDraft(
                        "unknown",
                        "found executing after a restart; provider \(r.provider ?? "?") is not configured, so it cannot be checked"
                    ),
                    now: now)
                continue
            }
            let name = target.plugin == r.plugin ? r.actionName : r.action
            let request = ActionRequest(action: name, subject: r.subject, params: r.params, key: r.key, startedAt: r.executedAt)
            let verdict = await target.provider.reconcile(request)
            switch verdict {
            case .done(let why):
                events += try await move(
                    r, to: .succeeded, reason: "reconciled: \(why)",
                    LedgerDraft(
                        "reconciled", "found executing after a restart; \(instance) shows it took effect: \(why). Not repeated."),
                    now: now
                ) { $0.result = .object(["reconciled": .string(why)]) }
            case .notDone(let why):
                events += try await move(
                    r, to: .approved, reason: "reconciled: not executed",
                    LedgerDraft(
                        "reconciled",
                        "found executing after a restart; \(instance) shows it did not take effect (\(why)): it runs now, once"),
                    now: now)
            case .unknown(let why):
                events += try await move(
                    r, to: .unknown, reason: why,
                    LedgerDraft(
                        "unknown",
                        "found executing after a restart and \(instance) cannot tell whether it took effect (\(why)); not repeated: check it and close it with meow actions resolve"
                    ), now: now)
            }
        }
        return events
    }

    // MARK: After

    /// Records, once per executed action, what the subject looks like in the first snapshot after it,
    /// and whether the rule still proposes the action.
    func observeAfter(decisions: [Decision], _ index: SnapshotIndex, revision: Int, now: Date) async throws -> [ActionEvent] {
        var events: [ActionEvent] = []
        for r in try await store.unobserved(limit: 200) {
            if let at = finishedAtRevision[r.id], revision <= at { continue }
            let entity = index.entity(r.subject)
            let still = decisions.contains { $0.type == .actionProposed && $0.rule == r.rule && $0.subject == r.subject }
            let summary = entity.map(Self.summary) ?? "\(r.subject) is no longer observed"
            let verdict =
                r.rule == "manual" || isNotification(r)
                ? "" : still ? "; rule \(r.rule) still proposes it" : "; rule \(r.rule) no longer proposes it"
            let message = "after: \(summary)\(verdict)"
            try await store.append(
                r.id,
                LedgerDraft(
                    "observed", message,
                    detail: ["state": entity.map { Self.stateDetail($0) } ?? .null, "still_proposed": .bool(still)]), at: now,
                update: { $0.observedAt = now })
            finishedAtRevision[r.id] = nil
            checkpoint("observed")
            // A page changes nothing: the observation is kept in its ledger, not reported as news.
            if isNotification(r) { continue }
            events.append(emit(r, message))
        }
        return events
    }

    static func summary(_ e: Entity) -> String {
        switch e {
        case .workload(let w):
            let r = w.replicas
            return
                "\(w.id) has \(r?.desired ?? 0) replicas (\(r?.ready ?? 0) ready)\(w.usage?.cpu.map { String(format: ", cpu %.2f", $0) } ?? "")"
        case .application(let a):
            return
                "\(a.id) is \(a.syncStatus ?? "?")/\(a.health ?? "?") at \(a.syncedRevision.map { String($0.prefix(7)) } ?? "?")"
        case .dagRun(let r):
            return "\(r.id) is \(r.state ?? "?")"
        case .dag(let d):
            return "\(d.id) is \(d.paused == true ? "paused" : "active")"
        default:
            return "\(e.id) observed"
        }
    }

    static func stateDetail(_ e: Entity) -> Value {
        let doc = e.document()
        var out: [String: Value] = [:]
        for k in ["replicas", "health", "sync_status", "synced_revision", "state", "paused", "usage"] {
            if let v = doc[k] { out[k] = v }
        }
        return .object(out)
    }
}
