import Foundation
import MeowDoubles
import MeowModel
import MeowTesting
import Testing

@testable import MeowPlugins

/// Incidents end to end: the `meow` binary on the simulator with an injected fault, a **real
/// Alertmanager** (`make test` starts it: scripts/alertmanager-test.sh) whose webhook receiver is this
/// test, and the PagerDuty double. `make test` sets MEOW_REQUIRE_ALERTMANAGER=1: there a missing
/// Alertmanager fails the suite. Serialized: the Alertmanager's receiver port is fixed.
@Suite(.serialized, .enabled(if: RealAlertmanager.url != nil || RealAlertmanager.required))
struct IncidentCommandTests {
    static let routingKey = "R0UTINGKEYE2E00000000000000000001"

    func alertmanagerURL() throws -> String {
        try #require(RealAlertmanager.url, "make test starts Alertmanager and sets MEOW_ALERTMANAGER_URL")
    }

    /// A directory with the standard rules and this meow.yaml.
    func workspace(_ yaml: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("meow-incidents-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: PackageRoot.url().appendingPathComponent("rules"), to: dir.appendingPathComponent("rules"))
        try yaml.write(to: dir.appendingPathComponent("meow.yaml"), atomically: true, encoding: .utf8)
        return dir
    }

    func incidents(_ dir: URL) async throws -> [[String: Any]] {
        let out = try await CLI.runAsync(
            ["incidents", "list", "--config", dir.appendingPathComponent("meow.yaml").path, "--output", "json"], in: dir)
        #expect(out.status == 0, "\(out.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [[String: Any]])
    }

    /// The Done-when of issue 9: an injected fault → an anomaly → an incident with its context delivered
    /// to the Alertmanager receiver and to PagerDuty, deduplicated, resolved when the fault ends.
    @Test func anInjectedFaultPagesAlertmanagerAndPagerDutyOnceAndResolvesWhenItEnds() async throws {
        let am = try alertmanagerURL()
        let receiver = WebhookReceiver()
        _ = try await receiver.start(port: RealAlertmanager.receiverPort)
        defer { Task { await receiver.stop() } }
        let pd = PagerDutyDouble(routingKeys: [Self.routingKey])
        let pdPort = try await pd.start()
        defer { Task { await pd.stop() } }

        let dir = try workspace(
            """
            environments: [{name: dev}, {name: staging}, {name: prod, protected: true}]
            rules: {dir: rules}
            store: {path: .meow/meow.db}
            incidents:
              mode: auto
              resolve_after: 3s
              links: {argocd: "https://argocd.example.com", runbooks: "https://runbooks.example.com/meow"}
              routes:
                - name: anomalies
                  types: [anomaly]
                  min_severity: warning
                  outputs: [alertmanager, pagerduty]
            providers:
              - {name: sim, plugin: simulator, apps: 6, seed: 3, faults: 1, fault_kinds: [traffic_spike], fault_window: 10m, speed: 300, poll_interval: 1s}
              - {name: alertmanager, plugin: incident, output: alertmanager, url: "\(am)", poll_interval: 2s}
              - {name: pagerduty, plugin: incident, output: pagerduty, url: "http://127.0.0.1:\(pdPort)", routing_key_env: MEOW_E2E_PD_KEY, poll_interval: 1h}
            """)
        // `meow serve`: `meow run` plus the HTTP API, whose incident routes are checked at the end.
        let meow = try CLI.start(
            ["serve", "--config", dir.appendingPathComponent("meow.yaml").path, "--listen", "127.0.0.1:0"],
            env: ["MEOW_E2E_PD_KEY": Self.routingKey])
        defer { meow.terminate() }

        // The anomaly opens an incident, delivered to both.
        let anomaly = try await meow.waitForLine(timeout: 120) { $0.contains("+ anomaly") && $0.contains("workload-cpu-spike") }
        let opened = try await meow.waitForLine(timeout: 120) {
            $0.contains("succeeded incident.open") && $0.contains("pagerduty")
        }
        #expect(opened.contains("INC-1 opened in pagerduty"), "\(opened)")
        let firing = try #require(
            try await firstNotification(receiver, timeout: 60) { $0["status"] == "firing" },
            "no firing notification from Alertmanager")
        let alert = try #require(firing["alerts"]?[0])
        #expect(alert["labels"]?["alertname"] == "MeowIncident")
        #expect(alert["labels"]?["meow_incident"]?.stringValue?.hasPrefix("meow:workload-cpu-spike:") == true)
        #expect(alert["labels"]?["rule"] == "workload-cpu-spike")
        #expect(alert["labels"]?["team"] != nil && alert["labels"]?["environment"] != nil)
        let description = try #require(alert["annotations"]?["description"]?.stringValue)
        #expect(
            description.contains("What: cpu") && description.contains("Evidence:")
                && description.contains("Runbook: https://runbooks.example.com/meow/workload-cpu-spike"))
        #expect(description.contains("Argo CD:"), "\(description)")
        #expect(firing["groupLabels"]?["alertname"] == "MeowIncident")
        #expect(anomaly.contains("workload/"))

        // Resolved when the fault ends: the resolve reaches PagerDuty and the receiver.
        let resolvedLine = try await meow.waitForLine(timeout: 180) {
            $0.contains("succeeded incident.resolve") && $0.contains("pagerduty")
        }
        #expect(resolvedLine.contains("resolved in pagerduty"))
        let resolved = try #require(
            try await firstNotification(receiver, timeout: 60) { $0["status"] == "resolved" }, "no resolved notification")
        #expect(resolved["alerts"]?[0]?["status"] == "resolved")
        #expect(
            resolved["alerts"]?[0]?["annotations"]?["description"]?.stringValue?.contains("What: cpu") == true,
            "the resolve re-sends the context")
        // The same incident over HTTP, checked against the OpenAPI document.
        var base: String?
        _ = try await eventually(30) {
            if let r = meow.stderr().range(of: #"listening on (\S+)"#, options: .regularExpression) {
                base = String(meow.stderr()[r].dropFirst("listening on ".count))
            }
            return base != nil
        }
        let api = APIClient(base: try #require(base, "\(meow.stderr())"))
        let listed = try await api.call(.GET, "/v1/incidents", path: "/v1/incidents?state=resolved")
        #expect(listed.status == 200 && (listed.json?["total"]?.intValue ?? 0) >= 1)
        let one = try await api.call(.GET, "/v1/incidents/{id}", path: "/v1/incidents/INC-1")
        #expect(one.status == 200 && one.json?["state"] == "resolved")
        let deliveries = one.json?["deliveries"]?.arrayValue ?? []
        #expect(deliveries.count == 4, "open and resolve on two outputs: \(deliveries)")
        #expect(deliveries.allSatisfy { $0["state"] == "succeeded" })
        #expect(one.json?["notice"]?["summary"]?.stringValue?.hasPrefix("cpu") == true)
        let recorded = dir.appendingPathComponent("responses.json")
        try api.writeRecorded(to: recorded)
        let check = try await Shell.runAsync(
            "python3", ["scripts/openapi-check.py", "Sources/MeowServer/openapi.json", recorded.path], in: PackageRoot.url())
        #expect(check.status == 0, "\(check.output)")

        meow.terminate()
        #expect(try await meow.wait(timeout: 30) == 0)

        // Deduplicated: one PagerDuty incident per meow incident, each triggered once (the severity never
        // rose), all resolved; meow's own record agrees.
        let list = try await incidents(dir)
        let pdIncidents = await pd.incidents()
        #expect(!list.isEmpty)
        #expect(pdIncidents.count == list.count, "meow: \(list.count) incidents, PagerDuty: \(pdIncidents.count)")
        for i in pdIncidents {
            #expect(i.triggers == 1, "\(i.dedupKey) triggered \(i.triggers) times")
            #expect(i.status.rawValue == "resolved")
        }
        #expect(list.allSatisfy { $0["state"] as? String == "resolved" })
        #expect(Set(pdIncidents.map(\.dedupKey)) == Set(list.compactMap { $0["key"] as? String }))
        let event = try #require(await pd.events.first)
        #expect(event["payload"]?["custom_details"]?["evidence"]?["metric"] == "cpu")
    }

    /// A restart pages nobody twice: killed right after a delivery was made but before it was recorded,
    /// meow asks the output on restart (PagerDuty dedups on the key, so it sends again) and every cause
    /// stays one PagerDuty incident; a third run sends nothing.
    @Test func aRestartDoesNotPageTwice() async throws {
        let pd = PagerDutyDouble(routingKeys: [Self.routingKey])
        let pdPort = try await pd.start()
        defer { Task { await pd.stop() } }
        let dir = try workspace(
            """
            environments: [{name: dev}, {name: staging}, {name: prod, protected: true}]
            rules: {dir: rules}
            store: {path: .meow/meow.db}
            incidents:
              mode: auto
              routes:
                - {name: warnings, types: [violation], min_severity: warning, outputs: [pagerduty]}
            providers:
              - {name: sim, plugin: simulator, apps: 3, seed: 7}
              - {name: pagerduty, plugin: incident, output: pagerduty, url: "http://127.0.0.1:\(pdPort)", routing_key_env: MEOW_E2E_PD_KEY}
            """)
        let config = dir.appendingPathComponent("meow.yaml").path
        let env = ["MEOW_E2E_PD_KEY": Self.routingKey]
        let crashed = try await CLI.runAsync(
            ["run", "--once", "--config", config], in: dir, env: env.merging(["MEOW_TEST_CRASH_AT": "performed"]) { $1 })
        #expect(crashed.status == 9, "expected the SIGKILL after the first delivery: \(crashed.status) \(crashed.stderr)")
        #expect(await pd.events.count == 1)

        let restarted = try await CLI.runAsync(["run", "--once", "--config", config], in: dir, env: env)
        #expect(restarted.status == 0 || restarted.status == 1, "\(restarted.stderr)")
        #expect(restarted.stdout.contains("found executing after a restart"), "\(restarted.stdout)")
        let list = try await incidents(dir)
        #expect(list.count >= 1)
        var incidents = await pd.incidents()
        #expect(incidents.count == list.count, "one PagerDuty incident per cause: \(incidents.map(\.dedupKey))")
        let events = await pd.events.count
        #expect(events == list.count + 1, "the interrupted delivery was sent again once (deduplicated), the others once")

        let third = try await CLI.runAsync(["run", "--once", "--config", config], in: dir, env: env)
        #expect(third.status == 0 || third.status == 1, "\(third.stderr)")
        #expect(await pd.events.count == events, "a third run sends nothing")
        incidents = await pd.incidents()
        #expect(incidents.count == list.count && incidents.allSatisfy { $0.status.rawValue == "triggered" })
    }

    /// meow's alerts through the real Alertmanager: grouped (alertname, environment) into one notification,
    /// read back as incident entities, and resolved one by one.
    @Test func alertmanagerGroupsTheIncidentsAndTheyAreReadBack() async throws {
        let am = try alertmanagerURL()
        let receiver = WebhookReceiver()
        _ = try await receiver.start(port: RealAlertmanager.receiverPort)
        defer { Task { await receiver.stop() } }
        let env = "prod-\(UUID().uuidString.prefix(8).lowercased())"
        let p = try IncidentProvider(
            manifest: PluginRegistry.builtin.plugin("incident")!.manifest,
            context: ProviderContext(
                name: "am", settings: ["output": "alertmanager", "url": .string(am), "labels": ["source": "meow-test"]],
                timeout: 5))
        defer { Task { await p.shutdown() } }
        func notice(_ n: Int64, _ app: String) -> IncidentNotice {
            var x = IncidentNotice(
                number: n, key: "meow:workload-cpu-spike:application/argocd-\(env)/\(app)", event: "open",
                title: "workload-cpu-spike on \(app) (\(env))", severity: "critical", type: "anomaly", rule: "workload-cpu-spike",
                subject: "workload/\(env)/payments/\(app)", summary: "cpu 2.4 outside 0.3…0.6 on \(app)",
                startedAt: Timestamp.format(Date()), route: "anomalies")
            x.environment = env
            x.team = "payments"
            x.links = [.init(text: "Argo CD: \(app)", href: "https://argocd.example.com/applications/\(app)")]
            return x
        }
        let a = notice(1, "payments-api")
        let b = notice(2, "payments-worker")
        for n in [a, b] {
            _ = try await p.perform(ActionRequest(action: "open", subject: n.subject, params: ["incident": n.value]))
        }
        let mine: (Value) -> Bool = { $0["groupLabels"]?["environment"]?.stringValue == env }
        let first = try #require(try await firstNotification(receiver, timeout: 30) { mine($0) && $0["status"] == "firing" })
        #expect(first["alerts"]?.arrayValue?.count == 2, "both incidents arrive in one notification (group_wait)")
        #expect(first["commonLabels"]?["source"] == "meow-test" && first["commonLabels"]?["team"] == "payments")
        #expect(first["alerts"]?[0]?["generatorURL"]?.stringValue?.hasPrefix("https://argocd.example.com/applications/") == true)

        let observed = try await p.observe().entities.compactMap { e -> Incident? in
            if case .incident(let i) = e, i.labels?["environment"] == env { return i }
            return nil
        }
        #expect(observed.count == 2)
        #expect(observed.allSatisfy { $0.source == "alertmanager" && $0.status == "triggered" && $0.severity == "critical" })
        #expect(Set(observed.compactMap(\.title)) == ["[INC-1] \(a.title)", "[INC-2] \(b.title)"])
        #expect(observed.allSatisfy { $0.id.hasPrefix("incident/am/") })

        await receiver.clear()
        _ = try await p.perform(ActionRequest(action: "resolve", subject: a.subject, params: ["incident": a.value]))
        let partly = try #require(
            try await firstNotification(receiver, timeout: 30) { n in
                mine(n) && (n["alerts"]?.arrayValue ?? []).contains { $0["status"] == "resolved" }
            })
        #expect(partly["status"] == "firing", "the group stays firing while one incident is open")
        _ = try await p.perform(ActionRequest(action: "resolve", subject: b.subject, params: ["incident": b.value]))
        let done = try #require(try await firstNotification(receiver, timeout: 30) { mine($0) && $0["status"] == "resolved" })
        #expect(done["alerts"]?[0]?["annotations"]?["summary"]?.stringValue?.hasPrefix("[INC-") == true)
        let left = try await p.observe().entities.filter {
            if case .incident(let i) = $0 { return i.labels?["environment"] == env }
            return false
        }
        #expect(left.isEmpty, "resolved alerts are no longer active")
    }

    /// The first notification the receiver got that satisfies `match`, waiting up to `timeout` seconds.
    func firstNotification(_ receiver: WebhookReceiver, timeout: TimeInterval, _ match: @escaping (Value) -> Bool) async throws
        -> Value?
    {
        var found: Value?
        _ = try await eventually(timeout, every: 0.1) {
            found = await receiver.deliveries.compactMap(\.json).first(where: match)
            return found != nil
        }
        return found
    }
}

enum RealAlertmanager {
    static let url = ProcessInfo.processInfo.environment["MEOW_ALERTMANAGER_URL"]
    static let required = ProcessInfo.processInfo.environment["MEOW_REQUIRE_ALERTMANAGER"] == "1"
    static let receiverPort = Int(ProcessInfo.processInfo.environment["MEOW_AM_RECEIVER_PORT"] ?? "") ?? 19094
}
