import Foundation
import MeowModel
import MeowPlugins
import MeowTesting
import Testing

@testable import MeowActions
@testable import MeowStore

/// An incident output that records what it was sent (the real `incident` manifest: open and resolve,
/// notifications on any subject).
actor Notifier: Provider {
    nonisolated let name: String
    nonisolated let manifest: PluginManifest
    private(set) var sent: [IncidentNotice] = []
    private(set) var actions: [String] = []
    var failure: ProviderError?

    init(name: String) {
        self.name = name
        manifest = PluginRegistry.builtin.plugin("incident")!.manifest
    }

    /// While held, deliveries wait (an output that hangs or retries).
    var held = false

    func set(failure: ProviderError?) { self.failure = failure }
    func hold(_ on: Bool) { held = on }
    func observe() async throws -> Observation { Observation(entities: []) }

    func perform(_ request: ActionRequest) async throws -> ActionOutcome {
        actions.append(request.action)
        while held { try await Task.sleep(for: .milliseconds(20)) }
        if let failure { throw failure }
        sent.append(try IncidentNotice.from(request.params))
        return ActionOutcome(ok: true, message: "sent")
    }
}

/// Routing, grouping, the incident's life (open, update, resolve) and its deliveries through the pipeline.
@Suite struct IncidentRouterTests {
    let h: Harness
    let pager = Notifier(name: "pager")
    let chat = Notifier(name: "chat")

    init() throws { h = try Harness() }

    /// Workloads of two applications: payments-api (prod, team payments, 2 workloads) and batch (dev).
    func snapshot() -> Snapshot {
        func workload(_ name: String, app: String, env: String, team: String) -> Entity {
            .workload(
                Workload(
                    id: "workload/\(env)-1/\(team)/\(name)", name: name, labels: ["team": team], observedAt: h.now,
                    provider: "k8s",
                    cluster: "\(env)-1", environment: env, namespace: team, application: "application/argocd-\(env)/\(app)"))
        }
        return Snapshot(
            revision: 1, observedAt: h.now,
            entities: [
                .application(
                    Application(
                        id: "application/argocd-prod/payments-api", name: "payments-api", observedAt: h.now, provider: "argocd",
                        environment: "prod", owner: "payments")),
                workload("payments-api-web", app: "payments-api", env: "prod", team: "payments"),
                workload("payments-api-worker", app: "payments-api", env: "prod", team: "payments"),
                workload("batch", app: "batch", env: "dev", team: "data"),
            ])
    }

    static func anomaly(_ subject: String, severity: Severity = .warning, rule: String = "workload-cpu-spike") -> Decision {
        Decision(
            type: .anomaly, rule: rule, subject: subject, severity: severity, message: "cpu outside the expected range",
            evidence: ["metric": "cpu", "value": 2.4], file: nil, line: nil)
    }

    static let web = "workload/prod-1/payments/payments-api-web"
    static let worker = "workload/prod-1/payments/payments-api-worker"
    static let batch = "workload/dev-1/data/batch"

    func settings(mode: MeowConfig.ActionMode = .auto, resolveAfter: TimeInterval = 0) -> IncidentSettings {
        var s = IncidentSettings()
        s.mode = mode
        s.resolveAfter = resolveAfter
        s.argocdURL = "https://argocd.example.com"
        s.routes = [
            .init(
                name: "prod-pages", environments: ["prod"], teams: ["payments"], minSeverity: .warning, outputs: ["pager"],
                continue: true),
            .init(name: "chat", minSeverity: .high, outputs: ["chat"]),
        ]
        return s
    }

    func pipeline() -> ActionPipeline {
        var a = ActionSettings.auto
        a.mode = .dryRun  // changes stay dry-run: notifications have their own mode
        a.maxActions = 1
        a.protectedMaxActions = 1
        return ActionPipeline(
            store: h.store, settings: a, protectedEnvironments: ["prod"],
            targets: [
                ActionTarget(instance: "pager", plugin: "incident", provider: pager),
                ActionTarget(instance: "chat", plugin: "incident", provider: chat),
            ], notificationsPerHour: 10)
    }

    /// One pass: route, then the pipeline.
    func pass(_ router: IncidentRouter, _ pipeline: ActionPipeline, _ decisions: [Decision], at: Date) async throws {
        let proposals = try await router.route(decisions: decisions, snapshot: snapshot(), at: at)
        await pipeline.process(decisions: decisions + proposals, snapshot: snapshot(), at: at)
        await pipeline.settle()
    }

    @Test func routesByEnvironmentTeamAndSeverityAndGroupsOneCausePerApplication() {
        let s = settings()
        #expect(
            s.routes(type: "anomaly", rule: "r", severity: .warning, environment: "prod", team: "payments").map(\.name) == [
                "prod-pages"
            ])
        #expect(
            s.routes(type: "anomaly", rule: "r", severity: .critical, environment: "prod", team: "payments").map(\.name) == [
                "prod-pages", "chat",
            ])
        #expect(s.routes(type: "anomaly", rule: "r", severity: .warning, environment: "dev", team: "data").isEmpty)
        #expect(
            s.routes(type: "anomaly", rule: "r", severity: .critical, environment: "dev", team: "data").map(\.name) == ["chat"])
        #expect(s.routes(type: "anomaly", rule: "r", severity: .low, environment: "prod", team: "payments").isEmpty)
    }

    @Test func anIncidentOpensOnceIsUpdatedWhenItWorsensAndResolvesWhenTheConditionClears() async throws {
        let router = IncidentRouter(settings: settings(resolveAfter: 60), store: h.store)
        let p = pipeline()
        let t0 = h.now
        // Two workloads of one application, and one of a dev app the routes do not take.
        let problems = [Self.anomaly(Self.web), Self.anomaly(Self.worker), Self.anomaly(Self.batch)]
        try await pass(router, p, problems, at: t0)
        var list = try await h.store.incidents(states: nil, resolvedSince: nil, before: nil, limit: 10)
        #expect(list.count == 1)
        let inc = try #require(list.first)
        #expect(inc.key == "meow:workload-cpu-spike:application/argocd-prod/payments-api")
        #expect(inc.outputs == ["pager"] && inc.route == "prod-pages")
        var sent = await pager.sent
        #expect(sent.count == 1 && sent.first?.event == "open")
        let notice = try #require(sent.first)
        #expect(notice.name == "INC-\(inc.id)")
        #expect(notice.subjects == [Self.web, Self.worker])
        #expect(notice.team == "payments" && notice.environment == "prod")
        #expect(notice.links.first?.href == "https://argocd.example.com/applications/payments-api")
        #expect(await chat.sent.isEmpty)

        // The same problems again: nothing new is sent.
        try await pass(router, p, problems, at: t0.addingTimeInterval(5))
        #expect(await pager.sent.count == 1)

        // Worse: critical. The incident is updated (PagerDuty's trigger again, same key) and chat now
        // matches too, but outputs are fixed when the incident opens.
        try await pass(
            router, p, [Self.anomaly(Self.web, severity: .critical), Self.anomaly(Self.worker)], at: t0.addingTimeInterval(10))
        sent = await pager.sent
        #expect(sent.count == 2 && sent.last?.event == "update" && sent.last?.severity == "critical")
        #expect(sent.last?.startedAt == Timestamp.format(t0))
        list = try await h.store.incidents(states: nil, resolvedSince: nil, before: nil, limit: 10)
        #expect(list.first?.revision == 1 && list.first?.severity == "critical")

        // Gone, but not for resolve_after yet: still open.
        try await pass(router, p, [], at: t0.addingTimeInterval(40))
        #expect(try await h.store.incidents(states: [.open], resolvedSince: nil, before: nil, limit: 10).count == 1)
        try await pass(router, p, [], at: t0.addingTimeInterval(75))
        sent = await pager.sent
        #expect(
            sent.count == 3 && sent.last?.event == "resolve"
                && sent.last?.resolvedAt == Timestamp.format(t0.addingTimeInterval(75)))
        #expect(try await h.store.incidents(states: [.resolved], resolvedSince: nil, before: nil, limit: 10).count == 1)
        try await pass(router, p, [], at: t0.addingTimeInterval(80))
        #expect(await pager.sent.count == 3, "the resolve is sent once")

        // It comes back: a new incident, a new number.
        try await pass(router, p, [Self.anomaly(Self.web)], at: t0.addingTimeInterval(100))
        list = try await h.store.incidents(states: [.open], resolvedSince: nil, before: nil, limit: 10)
        #expect(list.count == 1 && list.first?.id != inc.id)
        #expect(await pager.sent.count == 4)

        // Deliveries are not changes: they count for no blast radius (1 per prod window here).
        #expect(try await h.store.executions(since: t0, rule: nil, subject: nil, environment: "prod", excluding: nil) == 0)
        #expect(try await h.store.notifications(since: t0, provider: "pager", excluding: nil) == 4)
    }

    @Test func dryRunRecordsWhatWouldBeSentAndSendsNothing() async throws {
        let router = IncidentRouter(settings: settings(mode: .dryRun), store: h.store)
        let p = pipeline()
        try await pass(router, p, [Self.anomaly(Self.web, severity: .critical)], at: h.now)
        let attempted = await pager.actions.count + chat.actions.count
        #expect(attempted == 0)
        let actions = try await h.store.actions(states: nil, limit: 10)
        #expect(actions.count == 2)
        #expect(actions.allSatisfy { $0.state == .dryRun && $0.action == "incident.open" })
        #expect(Set(actions.compactMap(\.provider)) == ["pager", "chat"])
        let ledger = try await h.store.ledger(actions[0].id)
        #expect(ledger.last?.message.contains("dry-run (incidents.mode dry-run)") == true, "\(ledger.map(\.message))")
    }

    @Test func theOutputsOwnGuardrailsApplyAndTheChangesOnesDoNot() async throws {
        let router = IncidentRouter(settings: settings(), store: h.store)
        let p = ActionPipeline(
            store: h.store, settings: .auto, protectedEnvironments: ["prod"],
            targets: [ActionTarget(instance: "pager", plugin: "incident", provider: pager)], notificationsPerHour: 1)
        try await h.store.setPaused(true, by: "alice", reason: "maintenance", at: h.now)
        // Paused: changes stop, pages still go out.
        try await pass(router, p, [Self.anomaly(Self.web)], at: h.now)
        #expect(await pager.sent.count == 1)
        // A second incident within the hour: the output's rate limit (1/h) refuses it, named.
        try await pass(
            router, p, [Self.anomaly(Self.web), Self.anomaly(Self.web, rule: "memory-growth")], at: h.now.addingTimeInterval(1))
        #expect(await pager.sent.count == 1)
        let refused = try await h.store.actions(states: [.refused], limit: 10)
        #expect(refused.count == 1)
        #expect(refused.first?.stateReason?.contains("incidents.rate_limit.per_hour 1") == true, "\(refused.map(\.stateReason))")
    }

    @Test func anOutputThatHangsDoesNotHoldBackTheOthers() async throws {
        let router = IncidentRouter(settings: settings(), store: h.store)
        let p = pipeline()
        await pager.hold(true)
        let running = Task { try await pass(router, p, [Self.anomaly(Self.web, severity: .critical)], at: h.now) }
        // Chat gets its message while the pager's delivery has started and is still hanging (each queue
        // starts in a task of its own: under load either may start first, so wait for both; bounded at
        // 120 s like the other waits, since a loaded CI machine has stalled trivial tests for 30 s).
        #expect(
            try await eventually(120) {
                let (chatSent, pagerTried) = (await chat.sent.count, await pager.actions.count)
                return chatSent == 1 && pagerTried == 1
            })
        let (sentSoFar, tried) = (await pager.sent.count, await pager.actions.count)
        #expect(sentSoFar == 0 && tried == 1)
        await pager.hold(false)
        try await running.value
        #expect(await pager.sent.count == 1)
    }

    @Test func aFailedDeliveryIsTriedAgainLaterUnderANewKey() async throws {
        let router = IncidentRouter(settings: settings(), store: h.store)
        let p = pipeline()
        await pager.set(failure: ProviderError(.unavailable, "pagerduty: 503 (gave up after 5 attempts)"))
        let t0 = h.now
        try await pass(router, p, [Self.anomaly(Self.web)], at: t0)
        #expect(try await h.store.actions(states: [.failed], limit: 10).count == 1)
        // Too soon: no new try.
        try await pass(router, p, [Self.anomaly(Self.web)], at: t0.addingTimeInterval(10))
        #expect(await pager.actions.count == 1)
        await pager.set(failure: nil)
        // 30 s after the failed try finished (its finish is the pass's time plus the wall time the call
        // took, which a loaded machine stretches): 60 s leaves room for that.
        try await pass(router, p, [Self.anomaly(Self.web)], at: t0.addingTimeInterval(60))
        #expect(await pager.sent.count == 1)
        let done = try await h.store.actions(states: [.succeeded], limit: 10)
        #expect(done.count == 1 && done.first?.key.hasSuffix("#try2") == true, "\(done.map(\.key))")
        try await pass(router, p, [Self.anomaly(Self.web)], at: t0.addingTimeInterval(400))
        #expect(await pager.sent.count == 1, "delivered: not sent again")
    }

    @Test func theConfigRefusesARouteToAnOutputThatIsNotAnIncidentInstance() throws {
        let yaml = """
            environments: [{name: prod}]
            incidents:
              routes:
                - {name: pages, environments: [prod, qa], outputs: [pager, sim]}
            providers:
              - {name: sim, plugin: simulator}
              - {name: pager, plugin: incident, output: webhook, url: "http://127.0.0.1:9/hook"}
            """
        #expect {
            try MeowConfig.parse(yaml, file: "meow.yaml")
        } throws: { error in
            let text = "\(error)"
            return text.contains(
                "meow.yaml:4: incidents.routes[0].outputs[1]: \"sim\" is not a provider instance of the incident plugin")
                && text.contains("incidents.routes[0].environments[1]: unknown environment \"qa\"")
        }
        let ok = try MeowConfig.parse(
            yaml.replacingOccurrences(of: ", qa]", with: "]").replacingOccurrences(of: ", sim]", with: "]"), file: "meow.yaml")
        #expect(ok.incidents.routes.first?.outputs == ["pager"] && ok.incidents.mode == .dryRun)
    }
}
