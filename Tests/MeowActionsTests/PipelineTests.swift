import Foundation
import MeowModel
import MeowPlugins
import MeowRuntime
import MeowTesting
import Testing

@testable import MeowActions
@testable import MeowStore

@Suite struct PipelineTests {
    @Test func autoModeExecutesOnceAndTheSameProposalInItsWindowIsTheSameAction() async throws {
        let h = try Harness()
        let p = h.pipeline()
        let d = Harness.proposal(params: ["revision": "abc"])
        await p.process(decisions: [d], snapshot: h.snapshot(), at: h.now)
        await p.process(decisions: [d], snapshot: h.snapshot(revision: 2), at: h.now.addingTimeInterval(60))
        // A new pipeline (a restart) sees the same key in the store.
        await h.pipeline().process(decisions: [d], snapshot: h.snapshot(revision: 3), at: h.now.addingTimeInterval(120))
        let r = try await h.only()
        #expect(r.state == .succeeded)
        #expect(await h.provider.performed.count == 1)
        #expect(await h.provider.performed.first?.params["revision"] == "abc")
        #expect(await h.provider.performed.first?.action == "sync")
        #expect(await h.provider.performed.first?.key == r.key)
        #expect(r.key.contains("sync-drift|application/fake-1/a|fake.sync|"))
        // The effect was observed in the next snapshot.
        #expect(try await h.steps(r.id) == ["proposed", "approved", "executing", "succeeded", "observed"])
    }

    @Test(arguments: [
        // global, rule, environment → state
        ("dry-run", "auto", "dev", ActionState.dryRun),
        ("approve", "auto", "dev", .awaitingApproval),
        ("auto", "approve", "dev", .awaitingApproval),
        ("auto", "dry-run", "dev", .dryRun),
        ("auto", "auto", "dev", .succeeded),
        ("auto", "auto", "prod", .awaitingApproval),
    ])
    func theStricterModeWins(global: String, rule: String, env: String, expected: ActionState) async throws {
        let h = try Harness()
        var s = ActionSettings.auto
        s.mode = MeowConfig.ActionMode(rawValue: global)!
        s.protectedMode = .approve
        await h.pipeline(s).process(
            decisions: [Harness.proposal(mode: rule)], snapshot: h.snapshot([("a", env, false)]), at: h.now)
        let r = try await h.only()
        #expect(r.state == expected)
        if expected == .awaitingApproval {
            #expect(r.requiredApprovals == (env == "prod" ? 2 : 1))
        }
        #expect(await h.provider.performed.count == (expected == .succeeded ? 1 : 0))
    }

    @Test func dryRunRecordsThePlanAndTheGuardrailVerdictButExecutesNothing() async throws {
        let h = try Harness()
        var s = ActionSettings.auto
        s.mode = .dryRun
        await h.pipeline(s).process(
            decisions: [Harness.proposal(params: ["revision": "v2"])], snapshot: h.snapshot(), at: h.now)
        let r = try await h.only()
        #expect(r.state == .dryRun)
        let last = try #require(try await h.store.ledger(r.id).last)
        #expect(last.message.contains("would run fake.sync {\"revision\":\"v2\"} on application/fake-1/a"))
        #expect(last.message.contains("the guardrails would let it through"))
        #expect(await h.provider.performed.isEmpty)
    }

    /// Each guardrail alone refuses, and says why.
    @Test(arguments: ["pause", "stale", "not_observed", "cooldown", "rate_rule", "rate_global", "blast_radius", "breaker"])
    func eachGuardrailRefusesWithAReason(_ guardrail: String) async throws {
        let h = try Harness()
        var s = ActionSettings.auto
        var snapshot = h.snapshot([("a", "prod", false), ("b", "prod", false), ("c", "prod", false), ("d", "dev", false)])
        var decision = Harness.proposal("a")
        var expected = ""
        // The history a guardrail looks at: earlier executions, made by a first pipeline pass.
        func earlier(_ apps: [String], rule: String = "other", fail: Bool = false) async throws {
            var prep = ActionSettings.auto
            prep.protectedMaxActions = 99
            prep.maxActions = 99
            await h.provider.set(failure: fail ? ProviderError(.unavailable, "503 from fake") : nil)
            await h.pipeline(prep).process(
                decisions: apps.map { Harness.proposal($0, rule: rule) }, snapshot: snapshot, at: h.now.addingTimeInterval(-60))
            await h.provider.set(failure: nil)
        }
        switch guardrail {
        case "pause":
            try await h.store.setPaused(true, by: "alice", reason: "incident 42", at: h.now)
            expected = "actions were paused by alice"
        case "stale":
            snapshot = h.snapshot([("a", "dev", true)])
            expected = "is stale: its provider fake-1 failed its last poll"
        case "not_observed":
            snapshot = h.snapshot([("b", "dev", false)])
            expected = "application/fake-1/a is not in the current state"
        case "cooldown":
            try await earlier(["a"], rule: "sync-drift")
            decision = Harness.proposal("a", params: ["revision": "v3"], cooldown: 3600)
            expected = "rule sync-drift acted on application/fake-1/a less than 1h ago (cooldown)"
        case "rate_rule":
            try await earlier(["b", "c"], rule: "sync-drift")
            decision = Harness.proposal("a", perHour: 2)
            expected = "rule sync-drift has executed 2 actions in the last hour (limit 2)"
        case "rate_global":
            s.globalPerHour = 3
            try await earlier(["b", "c", "d"])
            expected = "3 actions executed in the last hour (global limit 3)"
        case "blast_radius":
            try await earlier(["b"])
            expected = "1 actions executed in prod in the last 10m (limit 1, protected environment)"
        case "breaker":
            s.protectedMaxActions = 99
            try await earlier(["b", "c", "d"], fail: true)
            expected = "the last 3 actions on fake-1 failed (circuit breaker open until"
        default: Issue.record("unknown guardrail \(guardrail)")
        }
        let before = await h.provider.performed.count
        await h.pipeline(s).process(decisions: [decision], snapshot: snapshot, at: h.now)
        let all = try await h.store.actions(states: nil, limit: 20)
        let r = try #require(all.first { $0.subject == "application/fake-1/a" && $0.state != .succeeded })
        #expect(r.state == .refused)
        #expect(r.stateReason?.contains(expected) == true, "\(r.stateReason ?? "nil")")
        let last = try #require(try await h.store.ledger(r.id).last)
        #expect(last.step == "refused")
        if !["stale", "not_observed"].contains(guardrail) {
            #expect(last.detail["guardrail"]?.stringValue == guardrail)
        }
        #expect(await h.provider.performed.count == before)
    }

    @Test func anActionThePluginDoesNotHaveOrBadParametersAreRefused() async throws {
        let h = try Harness()
        let p = h.pipeline()
        await p.process(
            decisions: [Harness.proposal("a", action: "fake.explode"), Harness.proposal("a", params: ["revision": 3])],
            snapshot: h.snapshot(), at: h.now)
        let all = try await h.store.actions(states: nil, limit: 10)
        #expect(all.count == 2)
        #expect(all.allSatisfy { $0.state == .refused })
        #expect(all.contains { $0.stateReason?.contains("cannot run fake.explode (its actions: sync)") == true })
        #expect(all.contains { $0.stateReason?.contains("revision") == true })
        #expect(await h.provider.performed.isEmpty)
    }

    @Test func fourEyesTheRequesterCannotApproveAndEachPersonApprovesOnce() async throws {
        let h = try Harness()
        var s = ActionSettings.auto
        s.protectedMode = .approve
        let (r, _) = try await h.store.insert(
            NewAction(
                key: "manual-1", rule: "manual", subject: "application/fake-1/a", action: "fake.sync", params: [:],
                environment: nil, provider: nil, requester: "alice", reason: "hotfix", evidence: .object([:]), mode: "approve"),
            ledger: LedgerDraft("proposed", actor: "alice", "alice requests fake.sync"), at: h.now)
        let p = h.pipeline(s)
        await p.process(decisions: [], snapshot: h.snapshot([("a", "prod", false)]), at: h.now)
        var a = try #require(try await h.store.action(r.id))
        #expect(a.state == .awaitingApproval)
        #expect(a.environment == "prod")
        #expect(a.requiredApprovals == 2)
        await #expect(
            throws: ApprovalError(
                .fourEyes, "action \(r.id) was requested by alice: four-eyes rule, someone else must approve it")
        ) {
            _ = try await h.store.approve(r.id, by: "alice", reason: "lgtm", at: h.now)
        }
        a = try await h.store.approve(r.id, by: "bob", reason: "checked the diff", at: h.now)
        #expect(a.state == .awaitingApproval)
        await #expect(throws: ApprovalError.self) { _ = try await h.store.approve(r.id, by: "bob", reason: "again", at: h.now) }
        await p.process(decisions: [], snapshot: h.snapshot([("a", "prod", false)], revision: 2), at: h.now)
        #expect(await h.provider.performed.isEmpty, "one approval of two: nothing runs")
        a = try await h.store.approve(r.id, by: "carol", reason: "on call, ok", at: h.now)
        #expect(a.state == .approved)
        await p.process(decisions: [], snapshot: h.snapshot([("a", "prod", false)], revision: 3), at: h.now)
        #expect(await h.provider.performed.count == 1)
        #expect(try await h.store.approvals(r.id).map(\.approver) == ["bob", "carol"])
    }

    @Test func anApprovalAfterTheExpiryIsRefusedAndTheActionExpires() async throws {
        let h = try Harness()
        var s = ActionSettings.auto
        s.mode = .approve
        s.approvalExpiry = 600
        let p = h.pipeline(s)
        await p.process(decisions: [Harness.proposal()], snapshot: h.snapshot(), at: h.now)
        let r = try await h.only()
        #expect(r.expiresAt == h.now.addingTimeInterval(600))
        await #expect(throws: ApprovalError.self) {
            _ = try await h.store.approve(r.id, by: "bob", reason: "late", at: h.now.addingTimeInterval(601))
        }
        #expect(try await h.store.action(r.id)?.state == .expired)
        // Another awaiting action expires by the pipeline's own pass.
        await p.process(decisions: [Harness.proposal("b")], snapshot: h.snapshot([("b", "dev", false)]), at: h.now)
        await p.process(decisions: [], snapshot: h.snapshot([("b", "dev", false)]), at: h.now.addingTimeInterval(700))
        #expect(try await h.store.actions(states: [.expired], limit: 10).count == 2)
        #expect(await h.provider.performed.isEmpty)
    }

    @Test func rejectedActionsNeverRun() async throws {
        let h = try Harness()
        var s = ActionSettings.auto
        s.mode = .approve
        let p = h.pipeline(s)
        await p.process(decisions: [Harness.proposal()], snapshot: h.snapshot(), at: h.now)
        let r = try await h.only()
        _ = try await h.store.reject(r.id, by: "bob", reason: "freeze week", at: h.now)
        await p.process(decisions: [Harness.proposal()], snapshot: h.snapshot(revision: 2), at: h.now)
        #expect(try await h.store.action(r.id)?.state == .rejected)
        #expect(await h.provider.performed.isEmpty)
    }

    @Test func pausedApprovedActionsWaitAndRunAfterResume() async throws {
        let h = try Harness()
        var s = ActionSettings.auto
        s.mode = .approve
        let p = h.pipeline(s)
        await p.process(decisions: [Harness.proposal()], snapshot: h.snapshot(), at: h.now)
        let r = try await h.only()
        _ = try await h.store.approve(r.id, by: "bob", reason: "ok", at: h.now)
        try await h.store.setPaused(true, by: "carol", reason: "incident", at: h.now)
        await p.process(decisions: [], snapshot: h.snapshot(revision: 2), at: h.now)
        #expect(try await h.store.action(r.id)?.state == .approved)
        #expect(await h.provider.performed.isEmpty)
        try await h.store.setPaused(false, by: "carol", reason: "over", at: h.now)
        await p.process(decisions: [], snapshot: h.snapshot(revision: 3), at: h.now)
        #expect(try await h.store.action(r.id)?.state == .succeeded)
        #expect(await h.provider.performed.count == 1)
    }

    @Test func aHangingProviderIsCutAtTheTimeoutAndTheActionFails() async throws {
        let h = try Harness()
        var s = ActionSettings.auto
        s.timeout = 0.3
        await h.provider.set(delay: 30)
        // Uncut, the provider would answer "synced" after 30 s and the action would succeed.
        await h.pipeline(s).process(decisions: [Harness.proposal()], snapshot: h.snapshot(), at: h.now)
        let r = try await h.only()
        #expect(r.state == .failed)
        #expect(r.stateReason?.contains("timeout") == true)
        #expect(r.result?["kind"] == "timeout")
    }

    /// An action a crash left `executing` is reconciled with its provider, never repeated blindly.
    @Test(arguments: ["done", "not_done", "unknown"])
    func recoveryAsksTheProviderInsteadOfRepeating(_ verdict: String) async throws {
        let h = try Harness()
        let (r, _) = try await h.store.insert(
            NewAction(
                key: "k1", rule: "sync-drift", subject: "application/fake-1/a", action: "fake.sync", params: [:],
                environment: "dev", provider: "fake-1", requester: "rule:sync-drift", reason: nil, evidence: .object([:]),
                mode: "auto"),
            ledger: LedgerDraft("proposed", "p"), at: h.now)
        for (from, to) in [(ActionState.proposed, ActionState.approved), (.approved, .executing)] {
            _ = try await h.store.transition(
                r.id, from: [from], to: to, reason: nil, ledger: LedgerDraft(to.rawValue, to.rawValue), at: h.now,
                update: { $0.executedAt = to == .executing ? h.now : nil })
        }
        switch verdict {
        case "done": await h.provider.set(verdict: .done("operation started at T"))
        case "not_done": await h.provider.set(verdict: .notDone("no operation"))
        default: await h.provider.set(verdict: .unknown("cannot tell"))
        }
        // The restarted meow's first pass.
        await h.pipeline().process(decisions: [], snapshot: h.snapshot(), at: h.now.addingTimeInterval(5))
        let after = try #require(try await h.store.action(r.id))
        let performed = await h.provider.performed.count
        switch verdict {
        case "done":
            #expect(after.state == .succeeded)
            #expect(performed == 0)
        case "not_done":
            #expect(after.state == .succeeded)
            #expect(performed == 1)
        default:
            #expect(after.state == .unknown)
            #expect(performed == 0)
        }
        #expect(try await h.steps(r.id).contains("reconciled") == (verdict != "unknown"))
    }

    /// The audit log tells the whole story of an action, in order, with who did what.
    @Test func theLedgerTellsTheWholeStory() async throws {
        let h = try Harness()
        var s = ActionSettings.auto
        s.mode = .approve
        let p = h.pipeline(s)
        await p.process(decisions: [Harness.proposal(params: ["revision": "v9"])], snapshot: h.snapshot(), at: h.now)
        let r = try await h.only()
        _ = try await h.store.approve(r.id, by: "bob", reason: "diff reviewed", at: h.now.addingTimeInterval(30))
        await p.process(
            decisions: [Harness.proposal(params: ["revision": "v9"])], snapshot: h.snapshot(revision: 2),
            at: h.now.addingTimeInterval(31))
        await p.process(decisions: [], snapshot: h.snapshot(revision: 3), at: h.now.addingTimeInterval(40))
        let ledger = try await h.store.ledger(r.id)
        #expect(
            ledger.map(\.step) == ["proposed", "awaiting_approval", "approval", "approved", "executing", "succeeded", "observed"])
        #expect(ledger.map(\.actor) == ["rule:sync-drift", "meow", "bob", "bob", "meow", "meow", "meow"])
        #expect(ledger[0].detail["decision"]?["rule"] == "sync-drift")
        #expect(ledger[0].detail["decision"]?["evidence"]?["reason"] == "drifted")
        #expect(ledger[2].message.contains("diff reviewed"))
        #expect(ledger[4].detail["params"]?["revision"] == "v9")
        #expect(ledger[5].message == "synced application/fake-1/a")
        #expect(ledger[6].message.contains("rule sync-drift no longer proposes it"))
        #expect(ledger.map(\.seq) == ledger.map(\.seq).sorted())
        // The audit log across actions has the same entries.
        #expect(try await h.store.audit(since: h.now.addingTimeInterval(-1), limit: 100).count == ledger.count)
    }
}

@Suite struct StoreTests {
    @Test func theStoreIsWALMigratedAndReopens() async throws {
        let h = try Harness()
        let mode = try await h.store.pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
        _ = try await h.store.insert(
            NewAction(
                key: "k", rule: "r", subject: "s", action: "p.a", params: ["n": 1], environment: nil, provider: nil,
                requester: "rule:r", reason: nil, evidence: .object([:]), mode: "auto"),
            ledger: LedgerDraft("proposed", "x"), at: h.now)
        let again = try SQLiteStore(path: h.store.path)
        #expect(try await again.actions(states: nil, limit: 5).first?.params["n"] == 1)
        let migrations = try await again.pool.read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
        }
        #expect(migrations == ["v1: actions, ledger, approvals, control, history", "v2: incidents"])
    }

    @Test func aStoreThatCannotBeOpenedSaysWhere() throws {
        #expect(throws: StoreError.self) { _ = try SQLiteStore(path: "/proc/meow/cannot/meow.db") }
    }

    @Test func retentionPrunesOldHistoryAndFinishedActionsOnly() async throws {
        let h = try Harness()
        let old = h.now.addingTimeInterval(-40 * 86400)
        let d = Harness.proposal()
        try await h.store.record(decisions: [
            DecisionHistoryRecord(at: old, change: "new", decision: d),
            DecisionHistoryRecord(at: h.now, change: "new", decision: d),
        ])
        for (key, state) in [("done", ActionState.succeeded), ("waiting", .awaitingApproval)] {
            let (r, _) = try await h.store.insert(
                NewAction(
                    key: key, rule: "r", subject: "s", action: "p.a", params: [:], environment: nil, provider: nil,
                    requester: "rule:r", reason: nil, evidence: .object([:]), mode: "auto"),
                ledger: LedgerDraft("proposed", "x"), at: old.addingTimeInterval(-100 * 86400))
            _ = try await h.store.transition(
                r.id, from: [.proposed], to: state, reason: nil, ledger: LedgerDraft("x", "x"),
                at: old.addingTimeInterval(-100 * 86400), update: { _ in })
        }
        let report = try await h.store.prune(now: h.now, retention: Retention(history: 30 * 86400, actions: 90 * 86400))
        #expect(report.decisions == 1)
        #expect(report.actions == 1)
        #expect(try await h.store.actions(states: nil, limit: 10).map(\.key) == ["waiting"])
        #expect(try await h.store.decisionHistory(since: .distantPast, subject: nil, limit: 10).count == 1)
    }
}

/// The runtime with a store: decisions, events and runs go to the history; proposals to the pipeline.
@Suite struct RuntimeStoreTests {
    @Test func runOnceKeepsTheHistoryAndDryRunsTheProposal() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("meow-runtime-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let rules = PackageRoot.url().appendingPathComponent("examples/actions/rules").path
        let yaml = """
            environments: [{name: dev}, {name: staging}, {name: prod, protected: true}]
            rules: {dir: \(rules)}
            providers:
              - {name: sim, plugin: simulator, apps: 3, seed: 7, history: 48h, step: 5m}
            """
        let config = try MeowConfig.parse(yaml, file: dir.appendingPathComponent("meow.yaml").path)
        #expect(config.actions.mode == .dryRun)
        #expect(config.storePath == dir.appendingPathComponent(".meow/meow.db").path)
        let store = try SQLiteStore(path: config.storePath)
        let runtime = try Runtime(config: config, store: store)
        let report = await runtime.runOnce()
        #expect(report.actions.map(\.state) == [.proposed, .dryRun])
        let action = try #require(try await store.actions(states: nil, limit: 5).first)
        #expect(action.subject == "workload/dev-1/payments/payments-scheduler-0000")
        #expect(action.mode == "auto")
        let history = try await store.decisionHistory(since: .distantPast, subject: action.subject, limit: 10)
        #expect(history.map(\.change) == ["new"])
        #expect(history.first?.decision.rule == "scale-payments-scheduler")
        let counts = try await store.historyCounts()
        #expect(counts.events > 0)
        #expect(counts.runs > 0)
        // A second pass writes no duplicate events or runs and no new decision change.
        _ = await runtime.runOnce()
        #expect(try await store.historyCounts().events == counts.events)
        #expect(try await store.decisionHistory(since: .distantPast, subject: nil, limit: 10).count == 1)
        await runtime.shutdown()
    }

    @Test func theActionsSectionIsValidatedWithLines() throws {
        let yaml = """
            actions:
              mode: yolo
              blast_radius: {max_actions: 0}
              approvals: {expiry: soon}
            providers: []
            """
        #expect {
            _ = try MeowConfig.parse(yaml, file: "meow.yaml")
        } throws: { error in
            let text = "\(error)"
            return text.contains("meow.yaml:2") && text.contains("actions.mode")
                && text.contains("actions.blast_radius.max_actions")
                && text.contains("actions.approvals.expiry")
        }
        let ok = try MeowConfig.parse(
            "actions: {mode: auto, cooldown: 5m, blast_radius: {protected_max_actions: 2}}\nproviders: []\n", file: "m.yaml")
        #expect(ok.actions.mode == .auto)
        #expect(ok.actions.cooldown == 300)
        #expect(ok.actions.protectedMaxActions == 2)
        #expect(ok.actions.maxActions == 3)
        #expect(ok.actions.protectedRequiredApprovals == 2)
    }
}

@Suite struct RunnerLeaseTests {
    func runtime(_ store: SQLiteStore) throws -> Runtime {
        let config = try MeowConfig.parse(
            "rules: {dir: \(PackageRoot.url().appendingPathComponent("examples/actions/rules").path)}\nproviders: []\n",
            file: FileManager.default.temporaryDirectory.appendingPathComponent("meow.yaml").path)
        return try Runtime(config: config, store: store)
    }

    @Test func anotherHostsFreshLeaseIsRefusedAndAStaleOneTakenOver() async throws {
        let h = try Harness()
        let other = RunnerLease(id: "other", pid: 1, host: "elsewhere", heartbeat: h.now)
        #expect(try await h.store.replaceRunnerLease(expected: nil, with: other))
        let r = try runtime(h.store)
        await #expect(throws: LeaseRefusal.self) { try await r.acquireLease(now: h.now.addingTimeInterval(5)) }
        // 15 s without a heartbeat: gone.
        try await r.acquireLease(now: h.now.addingTimeInterval(16))
        #expect(try await h.store.runnerLease()?.pid == getpid())
        // A stale expectation does not overwrite: compare-and-set.
        #expect(try await !h.store.replaceRunnerLease(expected: other, with: nil))
        await r.shutdown()
        #expect(try await h.store.runnerLease() == nil)
    }

    @Test func aDeadProcessOnThisHostLeavesItsLeaseToTheNextRunnerAtOnce() async throws {
        let h = try Harness()
        // A pid that does not exist (beyond the kernel's pid_max).
        let dead = RunnerLease(id: "dead", pid: 99_999_999, host: ProcessInfo.processInfo.hostName, heartbeat: Date())
        #expect(try await h.store.replaceRunnerLease(expected: nil, with: dead))
        let r = try runtime(h.store)
        try await r.acquireLease()
        #expect(try await h.store.runnerLease()?.pid == getpid())
        await r.shutdown()
    }
}
