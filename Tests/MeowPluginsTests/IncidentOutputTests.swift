import Foundation
import MeowDoubles
import MeowModel
import MeowTesting
import Testing

@testable import MeowPlugins

/// Each incident output against its double (PagerDuty, Opsgenie, Slack, the signed webhook): the shape
/// the target validates, dedup, retries with backoff on 429/5xx (Retry-After honoured), refusals that are
/// not retried, and the read-back of PagerDuty incidents.
@Suite struct IncidentOutputTests {
    static func notice(severity: String = "critical", title: String = "workload-cpu-spike on payments-api (prod)")
        -> IncidentNotice
    {
        var n = IncidentNotice(
            number: 7, key: "meow:workload-cpu-spike:application/argocd-prod/payments-api", event: "open", title: title,
            severity: severity, type: "anomaly", rule: "workload-cpu-spike", subject: "workload/prod-1/payments/payments-api",
            summary: "cpu 2.4 outside the expected 0.3…0.6 (z = 40) for 2 points", startedAt: "2026-11-27T03:00:00Z",
            route: "prod-pages")
        n.environment = "prod"
        n.team = "payments"
        n.application = "application/argocd-prod/payments-api"
        n.evidence = ["metric": "cpu", "value": 2.4, "detector": "robust_z"]
        n.runbook = "https://runbooks.example.com/meow/workload-cpu-spike"
        n.changes = [.init(at: "2026-11-27T02:40:00Z", what: "commit 1c92220 by dana: raise worker pool")]
        n.suspectedCause = "commit 1c92220 by dana to payments-api 20 min before: raise worker pool"
        n.links = [.init(text: "Argo CD: payments-api", href: "https://argocd.example.com/applications/payments-api")]
        return n
    }

    static func provider(_ settings: [String: Value]) throws -> IncidentProvider {
        var s = settings
        s["retry_backoff"] = s["retry_backoff"] ?? 0.02
        s["max_retry_wait"] = s["max_retry_wait"] ?? 2
        return try IncidentProvider(
            manifest: PluginRegistry.builtin.plugin("incident")!.manifest,
            context: ProviderContext(name: "out", settings: s, timeout: 5))
    }

    static func request(_ action: String, _ n: IncidentNotice = notice()) -> ActionRequest {
        ActionRequest(action: action, subject: n.subject, params: ["incident": n.value], key: "incident|INC-7|\(action)|out|r0")
    }

    @Test func theManifestDeclaresNotificationsOnAnySubject() throws {
        let m = try #require(PluginRegistry.builtin.plugin("incident")?.manifest)
        #expect(m.actions.map(\.name) == ["open", "resolve"])
        #expect(m.actions.allSatisfy { $0.notification && $0.subject == nil && $0.subjectName == "any" })
        #expect(PluginRegistry.builtin.plugin("simulator")?.manifest.actions.contains { $0.notification } == false)
    }

    @Test func pagerDutyTriggersDedupsResolvesAndIsReadBack() async throws {
        setenv("MEOW_TEST_PD_ROUTING", "R0UTINGKEY0000000000000000000001", 1)
        setenv("MEOW_TEST_PD_API", "pd-rest-token", 1)
        let pd = PagerDutyDouble(routingKeys: ["R0UTINGKEY0000000000000000000001"], apiTokens: ["pd-rest-token"])
        let port = try await pd.start()
        defer { Task { await pd.stop() } }
        let p = try Self.provider([
            "output": "pagerduty", "url": .string("http://127.0.0.1:\(port)"), "routing_key_env": "MEOW_TEST_PD_ROUTING",
            "api_url": .string("http://127.0.0.1:\(port)"), "api_token_env": "MEOW_TEST_PD_API",
        ])
        defer { Task { await p.shutdown() } }

        let opened = try await p.perform(Self.request("open"))
        #expect(opened.ok && opened.message.contains("INC-7 opened in pagerduty"), "\(opened.message)")
        // The ledger keeps what was sent, without the routing key.
        #expect(opened.details["sent"]?["routing_key"] == "(routing_key_env)")
        #expect(opened.details["sent"]?["payload"]?["severity"] == "critical")
        #expect(opened.details["attempts"] == 1 && opened.details["status"] == 202)
        let event = try #require(await pd.events.first)
        #expect(event["event_action"] == "trigger")
        #expect(event["dedup_key"] == "meow:workload-cpu-spike:application/argocd-prod/payments-api")
        #expect(event["payload"]?["severity"] == "critical")
        #expect(event["payload"]?["summary"]?.stringValue?.hasPrefix("[INC-7] workload-cpu-spike") == true)
        #expect(event["payload"]?["source"] == "workload/prod-1/payments/payments-api")
        #expect(event["payload"]?["group"] == "prod")
        let details = try #require(event["payload"]?["custom_details"])
        #expect(details["suspected_cause"]?.stringValue?.contains("1c92220") == true)
        #expect(details["runbook"] == "https://runbooks.example.com/meow/workload-cpu-spike")
        #expect(details["evidence"]?["value"] == 2.4)
        #expect(details["recent_changes"]?.arrayValue?.count == 1)
        #expect(event["links"]?.arrayValue?.first?["href"] == "https://argocd.example.com/applications/payments-api")

        // The same incident again (an update, or a delivery after a crash): PagerDuty's dedup keeps one incident.
        _ = try await p.perform(Self.request("open"))
        var incidents = await pd.incidents()
        #expect(incidents.count == 1)
        #expect(incidents.first?.triggers == 2)

        // Read back as an incident entity.
        let observed = try await p.observe().entities
        #expect(observed.count == 1)
        guard case .incident(let inc)? = observed.first else { Issue.record("not an incident: \(observed)"); return }
        #expect(inc.source == "pagerduty" && inc.status == "triggered")
        #expect(inc.labels?["incident_key"] == "meow:workload-cpu-spike:application/argocd-prod/payments-api")
        #expect(inc.id == "incident/out/\(incidents[0].id)")

        let resolved = try await p.perform(Self.request("resolve"))
        #expect(resolved.message.contains("INC-7 resolved"))
        #expect(await pd.events.last?["event_action"] == "resolve")
        incidents = await pd.incidents()
        #expect(incidents.count == 1 && incidents.first?.status.rawValue == "resolved")
        #expect(try await p.observe().entities.isEmpty)
        if case .notDone = await p.reconcile(Self.request("open")) {} else { Issue.record("PagerDuty dedups: resend") }
    }

    @Test func pagerDutyRetries429And5xxThenGivesUpAndNeverRetriesAnInvalidEvent() async throws {
        setenv("MEOW_TEST_PD_ROUTING2", "R0UTINGKEY0000000000000000000002", 1)
        let pd = PagerDutyDouble(routingKeys: ["R0UTINGKEY0000000000000000000002"])
        let port = try await pd.start()
        defer { Task { await pd.stop() } }
        let p = try Self.provider([
            "output": "pagerduty", "url": .string("http://127.0.0.1:\(port)"), "routing_key_env": "MEOW_TEST_PD_ROUTING2",
            "retries": 3,
        ])
        defer { Task { await p.shutdown() } }

        await pd.failNext(1, status: 429)
        await pd.failNext(1, status: 502)
        let o = try await p.perform(Self.request("open"))
        #expect(o.details["attempts"] == 3, "\(o.details)")
        #expect(o.message.contains("after 3 attempts"))
        #expect(await pd.requestCount == 3)
        #expect(await pd.incidents().count == 1)

        await pd.failNext(4, status: 503)
        let before = await pd.requestCount
        do {
            _ = try await p.perform(Self.request("open"))
            Issue.record("expected a failure")
        } catch let e as ProviderError {
            #expect(e.kind == .unavailable)
            #expect(e.message.contains("gave up after 4 attempts"), "\(e.message)")
        }
        #expect(await pd.requestCount - before == 4)

        // A key PagerDuty does not know: 400 invalid event, named, not retried.
        setenv("MEOW_TEST_PD_ROUTING2", "UNKNOWNKEY0000000000000000000000", 1)
        let count = await pd.requestCount
        do {
            _ = try await p.perform(Self.request("open"))
            Issue.record("expected a refusal")
        } catch let e as ProviderError {
            #expect(e.kind == .invalid)
            #expect(e.message.contains("400") && e.message.contains("not retried"), "\(e.message)")
            #expect(e.message.contains("Event object is invalid"), "\(e.message)")
        }
        #expect(await pd.requestCount == count + 1)
    }

    @Test func opsgenieCreatesWithinItsLimitsAndClosesByAlias() async throws {
        setenv("MEOW_TEST_GENIE", "genie-key-1", 1)
        let og = OpsgenieDouble(apiKeys: ["genie-key-1"])
        let port = try await og.start()
        defer { Task { await og.stop() } }
        let p = try Self.provider([
            "output": "opsgenie", "url": .string("http://127.0.0.1:\(port)"), "api_key_env": "MEOW_TEST_GENIE",
            "responders": ["payments-oncall"],
        ])
        defer { Task { await p.shutdown() } }
        let long = Self.notice(title: String(repeating: "very long title ", count: 20))
        _ = try await p.perform(Self.request("open", long))
        var alerts = await og.alerts()
        #expect(alerts.count == 1)
        let a = try #require(alerts.first)
        #expect(a.message.count <= 130 && a.message.hasPrefix("[INC-7]"))
        #expect(a.priority == "P1")
        #expect(a.alias == long.key)
        #expect(a.details["runbook"] == "https://runbooks.example.com/meow/workload-cpu-spike")
        #expect(a.description?.contains("Suspected cause: commit 1c92220") == true)
        #expect(a.tags.contains("team:payments"))
        _ = try await p.perform(Self.request("open", long))
        alerts = await og.alerts()
        #expect(alerts.count == 1 && alerts.first?.count == 2)
        _ = try await p.perform(Self.request("resolve", long))
        #expect(await og.alerts().first?.status.rawValue == "closed")

        setenv("MEOW_TEST_GENIE", "wrong-key", 1)
        await #expect(throws: ProviderError.self) { try await p.perform(Self.request("open")) }
    }

    @Test func slackGetsValidBlockKitAndHonoursRetryAfter() async throws {
        let slack = SlackDouble()
        let port = try await slack.start()
        defer { Task { await slack.stop() } }
        let p = try Self.provider(["output": "slack", "url": .string("http://127.0.0.1:\(port)/services/T000/B000/XXXX")])
        defer { Task { await p.shutdown() } }

        let long = Self.notice(title: String(repeating: "x", count: 400))
        await slack.failNext(1, status: 429, retryAfter: 1)
        let started = Date()
        let o = try await p.perform(Self.request("open", long))
        #expect(Date().timeIntervalSince(started) >= 0.9, "Retry-After: 1 was not honoured")
        #expect(o.details["attempts"] == 2)
        let message = try #require(await slack.messages.first)
        let blocks = try #require(message["blocks"]?.arrayValue)
        #expect(blocks.first?["type"] == "header")
        #expect((blocks.first?["text"]?["text"]?.stringValue?.count ?? 999) <= 150)
        let text = blocks.compactMap { $0["text"]?["text"]?.stringValue }.joined(separator: "\n")
        #expect(text.contains("Suspected cause") && text.contains("Recent changes") && text.contains("Runbook"))
        #expect(blocks.contains { $0["type"] == "actions" })

        _ = try await p.perform(Self.request("resolve"))
        #expect(await slack.messages.last?["text"]?.stringValue?.contains("RESOLVED INC-7") == true)

        await slack.archive()
        do {
            _ = try await p.perform(Self.request("open"))
            Issue.record("expected channel_is_archived")
        } catch let e as ProviderError {
            #expect(e.message.contains("410") && e.message.contains("channel_is_archived") && e.message.contains("not retried"))
        }
        if case .unknown = await p.reconcile(Self.request("open")) {} else { Issue.record("a Slack message cannot be told") }
    }

    @Test func theWebhookIsSignedAndKeepsItsIdAcrossRetries() async throws {
        let secret = "whsec_" + Data("a-secret-key-of-24-bytes!!".utf8).base64EncodedString()
        setenv("MEOW_TEST_HOOK_SECRET", secret, 1)
        let receiver = WebhookReceiver()
        let port = try await receiver.start()
        defer { Task { await receiver.stop() } }
        let p = try Self.provider([
            "output": "webhook", "url": .string("http://127.0.0.1:\(port)/meow/incidents?tenant=payments"),
            "secret_env": "MEOW_TEST_HOOK_SECRET",
        ])
        defer { Task { await p.shutdown() } }
        await receiver.failNext(1, status: 503)
        _ = try await p.perform(Self.request("open"))
        let deliveries = await receiver.waitFor(count: 2, timeout: 5)
        #expect(deliveries.count == 2)
        #expect(deliveries.map(\.status) == [503, 200])
        #expect(deliveries.allSatisfy { $0.path == "/meow/incidents" })
        #expect(
            deliveries.allSatisfy { d in d.query.contains { $0.0 == "tenant" && $0.1 == "payments" } }, "the URL's query is kept")
        let ids = Set(deliveries.compactMap { $0.header("webhook-id") })
        #expect(ids.count == 1, "a retry keeps webhook-id: \(ids)")
        for d in deliveries {
            let ok = WebhookReceiver.verifyStandardWebhook(
                secret: secret, id: try #require(d.header("webhook-id")), timestamp: try #require(d.header("webhook-timestamp")),
                body: d.body, signatureHeader: try #require(d.header("webhook-signature")), now: Date())
            #expect(ok, "signature does not verify")
            #expect(
                !WebhookReceiver.verifyStandardWebhook(
                    secret: "whsec_" + Data("another-key-of-24-bytes!!!".utf8).base64EncodedString(), id: d.header("webhook-id")!,
                    timestamp: d.header("webhook-timestamp")!, body: d.body, signatureHeader: d.header("webhook-signature")!))
        }
        let body = try #require(deliveries.last?.json)
        #expect(body["type"] == "incident.opened")
        #expect(body["data"]?["key"] == "meow:workload-cpu-spike:application/argocd-prod/payments-api")
        #expect(body["data"]?["links"]?.arrayValue?.count == 1)
        #expect(body["text"]?.stringValue?.contains("Suspected cause") == true)
        _ = try await p.perform(Self.request("resolve"))
        #expect(await receiver.waitFor(count: 3, timeout: 5).last?.json?["type"] == "incident.resolved")
    }

    /// docs/incidents.md's receiver (examples/incidents/receiver.py) verifies what meow signs, refuses a
    /// wrong signature and drops a repeated webhook-id.
    @Test func theDocumentedPythonReceiverVerifiesTheSignature() async throws {
        let secret = "whsec_bWVvdy1leGFtcGxlLXdlYmhvb2stc2VjcmV0"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", PackageRoot.url().appendingPathComponent("examples/incidents/receiver.py").path, "--port", "0",
        ]
        process.environment = ProcessInfo.processInfo.environment.merging(["MEOW_WEBHOOK_SECRET": secret]) { $1 }
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("meow-receiver-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: log)
        process.standardError = FileHandle.nullDevice
        let lines = LogFile(url: log)
        try process.run()
        defer {
            // SIGKILL: a child of the test process may have SIGTERM blocked (the mask is inherited).
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        #expect(try await eventually(30) { lines.text.contains("listening on http://127.0.0.1:") })
        let url = try #require(lines.text.split(separator: "\n").first?.split(separator: " ").last.map(String.init))

        setenv("MEOW_TEST_PY_SECRET", secret, 1)
        let p = try Self.provider(["output": "webhook", "url": .string(url + "/hook"), "secret_env": "MEOW_TEST_PY_SECRET"])
        defer { Task { await p.shutdown() } }
        _ = try await p.perform(Self.request("open"))
        #expect(
            try await eventually(30) {
                lines.text.contains("verified msg_") && lines.text.contains("incident.opened 7 [critical]")
            })
        _ = try await p.perform(Self.request("open"))
        #expect(try await eventually(30) { lines.text.contains("repeat msg_") }, "\(lines.text)")

        setenv("MEOW_TEST_PY_SECRET", "whsec_" + Data("not-the-receivers-secret-key".utf8).base64EncodedString(), 1)
        await #expect(throws: ProviderError.self) { try await p.perform(Self.request("resolve")) }
        #expect(lines.text.contains("refused msg_"), "\(lines.text)")
    }

    /// docs/incidents.md's example config loads as the doc describes it.
    @Test func theExampleConfigLoads() throws {
        let c = try MeowConfig.load(
            path: PackageRoot.url().appendingPathComponent("examples/incidents/meow.yaml").path, checkSecrets: false)
        #expect(c.incidents.mode == .auto && c.incidents.resolveAfter == 15 && c.incidents.groupBy == .application)
        #expect(c.incidents.routes.map(\.name) == ["anomalies", "prod-policy"])
        #expect(c.incidents.routes.first?.outputs == ["pagerduty", "slack", "webhook"])
        #expect(c.providers.filter { $0.plugin == "incident" }.map(\.name) == ["pagerduty", "slack", "webhook"])
    }

    @Test func shapesStayWithinTheTargetsLimits() {
        var n = Self.notice(title: String(repeating: "t", count: 2000))
        n.key = String(repeating: "k", count: 600)
        let pd = IncidentShapes.pagerDuty(n, routingKey: "r")
        #expect((pd["dedup_key"]?.stringValue?.utf8.count ?? 999) <= 255)
        #expect((pd["payload"]?["summary"]?.stringValue?.count ?? 9999) <= 1024)
        let og = IncidentShapes.opsgenie(n, responders: [])
        #expect((og["alias"]?.stringValue?.count ?? 999) <= 512)
        #expect((og["message"]?.stringValue?.count ?? 999) <= 130)
        // Two long keys that share a prefix stay two keys.
        var m = n
        m.key = String(repeating: "k", count: 599) + "j"
        #expect(IncidentShapes.dedupKey(n.key) != IncidentShapes.dedupKey(m.key))
        #expect(IncidentShapes.pagerDutySeverity("high") == "error" && IncidentShapes.pagerDutySeverity("low") == "info")
        let am = IncidentShapes.alertmanager(n, extraLabels: ["cluster": "prod-1"], now: Date())
        #expect(am[0]?["labels"]?["cluster"] == "prod-1" && am[0]?["labels"]?["alertname"] == "MeowIncident")
        #expect(am[0]?["endsAt"] == nil)
        n.event = "resolve"
        n.resolvedAt = "2026-11-27T04:00:00Z"
        let resolved = IncidentShapes.alertmanager(n, extraLabels: [:], now: Date())
        #expect(resolved[0]?["endsAt"] == "2026-11-27T04:00:00Z")
        #expect(resolved[0]?["annotations"]?["description"] != nil, "a resolve re-sends the annotations")
    }
}

/// What a child process wrote to its log file.
struct LogFile: Sendable {
    let url: URL
    var text: String { (try? String(contentsOf: url, encoding: .utf8)) ?? "" }
}
