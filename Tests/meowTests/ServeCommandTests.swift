import AsyncHTTPClient
import Foundation
import MeowModel
import MeowTesting
import NIOHTTP1
import Testing

/// `meow serve` on the simulator (examples/api/meow.yaml), driven over real HTTP on 127.0.0.1: every route,
/// the roles, bad input as problem+json, ETags, paging, four-eyes with the tokens' identities, SSE resume;
/// then every recorded answer is checked against the OpenAPI document (scripts/openapi-check.py).
@Suite(.serialized) struct ServeCommandTests {
    static let tokens = [
        "MEOW_TOKEN_DASHBOARD": "viewer-token-0123456789abcdef", "MEOW_TOKEN_ALICE": "alice-token-0123456789abcdef",
        "MEOW_TOKEN_BOB": "bob-token-0123456789abcdef", "MEOW_TOKEN_ADMIN": "admin-token-0123456789abcdef",
    ]
    let viewer = tokens["MEOW_TOKEN_DASHBOARD"]!
    let alice = tokens["MEOW_TOKEN_ALICE"]!
    let bob = tokens["MEOW_TOKEN_BOB"]!
    let admin = tokens["MEOW_TOKEN_ADMIN"]!
    let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("meow-serve-\(UUID().uuidString)")

    init() throws { try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true) }

    /// examples/api/meow.yaml with its rules and store made absolute, in a directory of its own.
    func config(extra: String = "") throws -> String {
        var text = try String(contentsOf: PackageRoot.url().appendingPathComponent("examples/api/meow.yaml"), encoding: .utf8)
        text = text.replacingOccurrences(of: "dir: ../../rules", with: "dir: \(PackageRoot.url().path)/rules")
        text = text.replacingOccurrences(of: "path: .meow/meow.db", with: "path: \(tmp.path)/meow.db")
        let path = tmp.appendingPathComponent("meow.yaml").path
        try (text + extra).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func serve(listen: String = "127.0.0.1:0", config: String) async throws -> (RunningProcess, String) {
        let p = try CLI.start(["serve", "--config", config, "--listen", listen], env: Self.tokens)
        var url: String?
        // (bounded generously: under a full parallel test run a debug meow takes a while to start)
        _ = try await MeowTesting.eventually(120) {
            if let r = p.stderr().range(of: #"listening on (\S+)"#, options: .regularExpression) {
                url = String(p.stderr()[r].dropFirst("listening on ".count))
            }
            return url != nil || !p.process.isRunning
        }
        if let url { return (p, url) }
        p.terminate()
        Issue.record("meow serve did not start: \(p.stderr())")
        throw CancellationError()
    }

    @Test func everyRouteOverHTTP() async throws {
        let (process, base) = try await serve(config: try config())
        defer { process.terminate() }
        let api = APIClient(base: base)

        // health needs no token; ready once the simulator was polled and the rules evaluated
        let health = try await api.call(.GET, "/healthz")
        #expect(health.status == 200 && health.json?["status"] == "ok")
        try await eventually("/readyz is 200") { try await api.call(.GET, "/readyz").status == 200 }
        let ready = try await api.call(.GET, "/readyz")
        #expect(ready.json?["ready"] == .bool(true))
        #expect(ready.json?["providers"]?[0]?["name"] == "sim")

        // auth: no token, a wrong token, a malformed header; the role decides
        let anonymous = try await api.call(.GET, "/v1/applications")
        #expect(anonymous.status == 401)
        #expect(anonymous.contentType == "application/problem+json")
        #expect(anonymous.headers.first(name: "www-authenticate")?.hasPrefix("Bearer") == true)
        let wrong = try await api.call(.GET, "/v1/applications", token: "not-a-token-of-this-server")
        #expect(wrong.status == 401 && wrong.json?["type"] == "urn:meow:problem:unauthorized")
        #expect(wrong.headers.first(name: "www-authenticate")?.contains("invalid_token") == true)
        let basic = try await api.call(.GET, "/v1/applications", headers: ["Authorization": "Basic YWxpY2U6eA=="])
        #expect(basic.status == 401)
        let status = try await api.call(.GET, "/v1/status", token: viewer)
        #expect(status.status == 200)
        #expect(status.json?["caller"]?["name"] == "dashboard" && status.json?["caller"]?["role"] == "viewer")
        #expect(status.json?["entities"]?["application"] == .int(60))

        // environments and clusters
        let envs = try await api.call(.GET, "/v1/environments", token: viewer)
        #expect(envs.json?["items"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["dev", "staging", "prod"])
        #expect(envs.json?["items"]?[2]?["protected"] == .bool(true))
        let clusters = try await api.call(.GET, "/v1/clusters", path: "/v1/clusters?environment=prod", token: viewer)
        let clusterItems = try #require(clusters.json?["items"]?.arrayValue)
        #expect(!clusterItems.isEmpty && clusterItems.allSatisfy { $0["environment"] == "prod" })

        // applications: paging with a cursor covers every application once
        var ids: [String] = []
        var cursor: String?
        repeat {
            let q =
                "/v1/applications?limit=7"
                + (cursor.map { "&cursor=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)" } ?? "")
            let page = try await api.call(.GET, "/v1/applications", path: q, token: viewer)
            #expect(page.status == 200)
            ids += page.json?["items"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            #expect(page.json?["total"] == .int(60))
            cursor = page.json?["next_cursor"]?.stringValue
        } while cursor != nil && ids.count < 200
        #expect(ids.count == 60 && Set(ids).count == 60 && ids == ids.sorted())
        let first = try await api.call(
            .GET, "/v1/applications", path: "/v1/applications?environment=prod&limit=1000", token: viewer)
        let prodApps = try #require(first.json?["items"]?.arrayValue)
        #expect(!prodApps.isEmpty && prodApps.allSatisfy { $0["environment"] == "prod" })
        #expect(prodApps.allSatisfy { $0["insights"]?["decisions"] != nil && $0["health"] != nil && $0["decisions"] != nil })
        let degraded = try await api.call(
            .GET, "/v1/applications", path: "/v1/applications?health=Degraded,Progressing&has_decisions=true", token: viewer)
        #expect(
            degraded.json?["items"]?.arrayValue?.allSatisfy {
                ["Degraded", "Progressing"].contains($0["health"]?.stringValue ?? "")
            } == true)

        // ETag: the same read again with If-None-Match is 304 until the state changes
        // (the simulator changes the state every 2 s, so the pair is tried a few times)
        var revalidated = false
        for _ in 0..<10 where !revalidated {
            let again = try await api.call(.GET, "/v1/environments", token: viewer)
            let etag = try #require(again.headers.first(name: "etag"))
            let conditional = try await api.call(.GET, "/v1/environments", token: viewer, headers: ["If-None-Match": etag])
            if conditional.status == 304 {
                #expect(conditional.body.isEmpty && conditional.headers.first(name: "etag") == etag)
                revalidated = true
            } else {
                #expect(conditional.status == 200 && conditional.headers.first(name: "etag") != etag)
            }
        }
        #expect(revalidated)

        // one application, by its whole id, raw or percent-encoded
        let appID = try #require(prodApps.first?["id"]?.stringValue)
        let one = try await api.call(.GET, "/v1/applications/{id}", path: "/v1/applications/\(appID)", token: viewer)
        #expect(one.status == 200 && one.json?["id"] == .string(appID))
        #expect(one.json?["workloads"]?.arrayValue?.isEmpty == false)
        #expect(one.json?["activity"]?["decisions"] != nil && one.json?["activity"]?["actions"] != nil)
        #expect(one.json?["history"]?.arrayValue != nil)  // the deployments, as in the list
        let encoded = try await api.call(
            .GET, "/v1/applications/{id}",
            path: "/v1/applications/\(appID.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)", token: viewer)
        #expect(encoded.json?["id"] == .string(appID))
        let missing = try await api.call(
            .GET, "/v1/applications/{id}", path: "/v1/applications/application/sim/nope", token: viewer)
        #expect(missing.status == 404 && missing.contentType == "application/problem+json")
        #expect(missing.json?["detail"]?.stringValue?.contains("application/sim/nope") == true)

        // bad input: an unknown query parameter, a bad limit, a bad enum value, a bad time
        let typo = try await api.call(.GET, "/v1/applications", path: "/v1/applications?limt=5", token: viewer)
        #expect(typo.status == 400 && typo.json?["errors"]?[0]?["field"] == "limt")
        let badLimit = try await api.call(.GET, "/v1/applications", path: "/v1/applications?limit=0", token: viewer)
        #expect(badLimit.status == 400 && badLimit.json?["detail"]?.stringValue?.contains("limit") == true)
        let badType = try await api.call(.GET, "/v1/decisions", path: "/v1/decisions?type=violations", token: viewer)
        #expect(badType.status == 400 && badType.json?["detail"]?.stringValue?.contains("violation") == true)
        let badTime = try await api.call(.GET, "/v1/decisions", path: "/v1/decisions?since=yesterday", token: viewer)
        #expect(badTime.status == 400)
        let noRoute = try await api.call(.GET, "/v1/nothing-here", token: viewer, record: false)
        #expect(noRoute.status == 404 && noRoute.contentType == "application/problem+json")
        let wrongMethod = try await api.call(.DELETE, "/v1/applications", token: viewer, record: false)
        #expect(wrongMethod.status == 405 && wrongMethod.headers.first(name: "allow") == "GET")

        // DAGs, runs, task instances
        let dags = try await api.call(.GET, "/v1/dags", token: viewer)
        let dagID = try #require(dags.json?["items"]?[0]?["id"]?.stringValue)
        let dag = try await api.call(.GET, "/v1/dags/{id}", path: "/v1/dags/\(dagID)", token: viewer)
        #expect(dag.status == 200 && dag.json?["runs"]?.arrayValue != nil)
        let paused = try await api.call(.GET, "/v1/dags", path: "/v1/dags?paused=false&environment=dev", token: viewer)
        #expect(paused.json?["items"]?.arrayValue?.allSatisfy { $0["environment"] == "dev" } == true)
        let runs = try await api.call(.GET, "/v1/runs", path: "/v1/runs?dag=\(dagID)", token: viewer)
        let runItems = try #require(runs.json?["items"]?.arrayValue)
        #expect(runItems.allSatisfy { $0["dag"] == .string(dagID) })
        let tasks = try await api.call(.GET, "/v1/task-instances", path: "/v1/task-instances?limit=5", token: viewer)
        #expect(tasks.json?["items"]?.arrayValue?.count == 5)
        let missingDAG = try await api.call(.GET, "/v1/dags/{id}", path: "/v1/dags/dag/sim/none", token: viewer)
        #expect(missingDAG.status == 404)

        // decisions with filters
        let violations = try await api.call(
            .GET, "/v1/decisions", path: "/v1/decisions?type=violation&environment=prod&limit=1000", token: viewer)
        let vs = try #require(violations.json?["items"]?.arrayValue)
        #expect(!vs.isEmpty && vs.allSatisfy { $0["type"] == "violation" && $0["environment"] == "prod" })
        let byRule = try await api.call(
            .GET, "/v1/decisions", path: "/v1/decisions?rule=app-degraded&severity=high", token: viewer)
        #expect(byRule.json?["items"]?.arrayValue?.allSatisfy { $0["rule"] == "app-degraded" } == true)

        // rules: list, validate (dry-run, viewer may), reload (operator)
        let rules = try await api.call(.GET, "/v1/rules", token: viewer)
        #expect((rules.json?["items"]?.arrayValue?.count ?? 0) >= 28)
        let good = try String(contentsOf: PackageRoot.url().appendingPathComponent("rules/app-degraded.lua"), encoding: .utf8)
        let valid = try await api.call(
            .POST, "/v1/rules/validate", path: "/v1/rules/validate?name=mine.lua", token: viewer, body: Data(good.utf8),
            contentType: "text/x-lua")
        #expect(valid.status == 200 && valid.json?["valid"] == .bool(true) && valid.json?["rules"] == ["app-degraded"])
        let broken =
            "policy {\n  id = \"broken\",\n  severity = \"high\",\n  match = { kind = \"application\" },\n  check = function(e) return e.nope.x end,\n}\n"
        let invalid = try await api.call(
            .POST, "/v1/rules/validate", token: viewer, body: Data(broken.utf8), contentType: "text/x-lua")
        #expect(invalid.status == 200 && invalid.json?["valid"] == .bool(false))
        #expect(invalid.json?["decisions"]?.arrayValue?.contains { $0["type"] == "rule_error" && $0["line"] == .int(5) } == true)
        let syntax = try await api.call(
            .POST, "/v1/rules/validate", token: viewer, body: Data("policy {\n id = ".utf8), contentType: "text/x-lua")
        #expect(syntax.json?["valid"] == .bool(false) && syntax.json?["errors"]?[0]?["line"] != nil)
        let empty = try await api.call(.POST, "/v1/rules/validate", token: viewer, body: Data(), contentType: "text/x-lua")
        #expect(empty.status == 400)
        let notOperator = try await api.call(.POST, "/v1/rules/reload", token: viewer, body: Data())
        #expect(notOperator.status == 403 && notOperator.json?["type"] == "urn:meow:problem:forbidden")
        let reload = try await api.call(.POST, "/v1/rules/reload", token: alice, body: Data())
        #expect(reload.status == 200 && (reload.json?["rules"]?.intValue ?? 0) >= 28)

        // simulate: a snapshot, a fleet, and bad bodies
        let fleetSnapshot = try await CLI.runAsync(["fleet", "--apps", "5", "--seed", "3"])
        let snapshot = try JSONDecoder().decode(Value.self, from: Data(fleetSnapshot.stdout.utf8))
        let sim = try await api.json(.POST, "/v1/simulate", token: viewer, ["snapshot": snapshot, "only": ["app-degraded"]])
        #expect(sim.status == 200 && sim.json?["decisions"]?.arrayValue?.allSatisfy { $0["rule"] == "app-degraded" } == true)
        let fleet = try await api.json(
            .POST, "/v1/simulate", token: viewer, ["fleet": ["apps": 10, "duration": "1h", "faults": 1]])
        #expect(fleet.status == 200 && fleet.json?["steps"] == .int(6) && fleet.json?["faults"]?.arrayValue?.count == 1)
        let badFleet = try await api.json(.POST, "/v1/simulate", token: viewer, ["fleet": ["apps": 10, "duration": "1x"]])
        #expect(badFleet.status == 422 && badFleet.json?["errors"]?[0]?["field"] == "fleet.duration")
        let both = try await api.json(.POST, "/v1/simulate", token: viewer, ["nothing": 1])
        #expect(both.status == 422)
        let notJSON = try await api.call(.POST, "/v1/simulate", token: viewer, body: Data("{not json".utf8))
        #expect(notJSON.status == 400 && notJSON.contentType == "application/problem+json")
        let wrongType = try await api.call(.POST, "/v1/simulate", token: viewer, body: Data("x".utf8), contentType: "text/plain")
        #expect(wrongType.status == 415)
        let huge = try await api.call(.POST, "/v1/simulate", token: viewer, body: Data(repeating: 32, count: 1_100_000))
        #expect(huge.status == 413)

        // actions: a person's request, four-eyes with the tokens' identities, the ledger (in dev: prod's blast
        // radius allows one execution per 10 minutes)
        let devApp = try #require(
            try await api.call(.GET, "/v1/applications", path: "/v1/applications?environment=dev&limit=1", token: viewer).json?[
                "items"]?[0]?["id"]?.stringValue)
        let devDetail = try await api.call(.GET, "/v1/applications/{id}", path: "/v1/applications/\(devApp)", token: viewer)
        let workload = try #require(devDetail.json?["workloads"]?[0]?["id"]?.stringValue)
        let request: Value = [
            "action": "kubernetes.scale", "subject": .string(workload), "params": ["replicas": 4], "reason": "load test",
        ]
        let byViewer = try await api.json(.POST, "/v1/actions", token: viewer, request)
        #expect(byViewer.status == 403)
        let proposed = try await api.json(.POST, "/v1/actions", token: alice, request)
        #expect(proposed.status == 201 && proposed.json?["requester"] == "alice")
        let id = try #require(proposed.json?["id"]?.intValue)
        #expect(proposed.headers.first(name: "location") == "/v1/actions/\(id)")
        var seen: Value?
        try await eventually("action \(id) awaits approval (last seen: \(String(describing: seen)))") {
            seen = try await api.call(.GET, "/v1/actions/{id}", path: "/v1/actions/\(id)", token: viewer).json
            return seen?["state"] == "awaiting_approval"
        }
        let aliceApproves = try await api.json(
            .POST, "/v1/actions/{id}/approve", path: "/v1/actions/\(id)/approve", token: alice, ["reason": "mine"])
        #expect(aliceApproves.status == 403)
        let noReason = try await api.json(.POST, "/v1/actions/{id}/approve", path: "/v1/actions/\(id)/approve", token: bob, [:])
        #expect(noReason.status == 422 && noReason.json?["errors"]?[0]?["field"] == "reason")
        let approved = try await api.json(
            .POST, "/v1/actions/{id}/approve", path: "/v1/actions/\(id)/approve", token: bob, ["reason": "looks right"])
        #expect(approved.status == 200)
        let needed = approved.json?["required_approvals"]?.intValue ?? 1
        let twice = try await api.json(
            .POST, "/v1/actions/{id}/approve", path: "/v1/actions/\(id)/approve", token: bob, ["reason": "again"])
        #expect(twice.status == 409)
        if needed > 1 {
            let second = try await api.json(
                .POST, "/v1/actions/{id}/approve", path: "/v1/actions/\(id)/approve", token: admin,
                ["reason": "second pair of eyes"])
            #expect(second.status == 200 && second.json?["state"] == "approved")
        }
        try await eventually("action \(id) is executed") {
            let s = try await api.call(.GET, "/v1/actions/{id}", path: "/v1/actions/\(id)", token: viewer).json?["state"]?
                .stringValue
            return s == "succeeded" || s == "failed"
        }
        let detail = try await api.call(.GET, "/v1/actions/{id}", path: "/v1/actions/\(id)", token: viewer)
        #expect(detail.json?["state"] == "succeeded")
        #expect(detail.json?["approvals"]?[0]?["approver"] == "bob")
        let steps = detail.json?["ledger"]?.arrayValue ?? []
        #expect(steps.contains { $0["step"] == "approval" && $0["actor"] == "bob" })
        #expect(steps.contains { $0["step"] == "proposed" && $0["actor"] == "alice" })
        // four-eyes: bob (an approver may request) cannot approve his own request
        // (another workload: the cooldown after the scale would refuse a second action on the same one)
        let other = try #require(devDetail.json?["workloads"]?[1]?["id"]?.stringValue)
        let own = try await api.json(
            .POST, "/v1/actions", token: bob, ["action": "kubernetes.restart", "subject": .string(other), "reason": "stuck pods"])
        let ownID = try #require(own.json?["id"]?.intValue)
        try await eventually("action \(ownID) awaits approval (last seen: \(String(describing: seen)))") {
            seen = try await api.call(.GET, "/v1/actions/{id}", path: "/v1/actions/\(ownID)", token: viewer).json
            return seen?["state"] == "awaiting_approval"
        }
        let selfApproval = try await api.json(
            .POST, "/v1/actions/{id}/approve", path: "/v1/actions/\(ownID)/approve", token: bob, ["reason": "mine"])
        #expect(selfApproval.status == 403 && selfApproval.json?["type"] == "urn:meow:problem:four-eyes")
        let rejected = try await api.json(
            .POST, "/v1/actions/{id}/reject", path: "/v1/actions/\(ownID)/reject", token: admin, ["reason": "not now"])
        #expect(rejected.status == 200 && rejected.json?["state"] == "rejected")
        let list = try await api.call(
            .GET, "/v1/actions", path: "/v1/actions?state=rejected,succeeded&subject=\(workload)", token: viewer)
        #expect(list.json?["items"]?.arrayValue?.compactMap { $0["id"]?.intValue } == [id])
        let paged = try await api.call(.GET, "/v1/actions", path: "/v1/actions?limit=1&cursor=\(ownID)", token: viewer)
        #expect(paged.json?["items"]?[0]?["id"]?.intValue.map { $0 < ownID } == true)
        let badAction = try await api.json(
            .POST, "/v1/actions", token: alice, ["action": "kubernetes.explode", "subject": .string(workload), "reason": "x"])
        #expect(badAction.status == 422 && badAction.json?["errors"]?[0]?["field"] == "action")
        let badParams = try await api.json(
            .POST, "/v1/actions", token: alice,
            ["action": "kubernetes.scale", "subject": .string(workload), "params": ["replicas": -1], "reason": "x"])
        #expect(badParams.status == 422 && badParams.json?["errors"]?[0]?["field"] == "params")
        let wrongKind = try await api.json(
            .POST, "/v1/actions", token: alice,
            ["action": "kubernetes.scale", "subject": .string(appID), "params": ["replicas": 2], "reason": "x"])
        #expect(wrongKind.status == 422 && wrongKind.json?["errors"]?[0]?["field"] == "subject")
        let noAction = try await api.call(.GET, "/v1/actions/{id}", path: "/v1/actions/999999", token: viewer)
        #expect(noAction.status == 404)
        let badID = try await api.call(.GET, "/v1/actions/{id}", path: "/v1/actions/abc", token: viewer)
        #expect(badID.status == 400)

        // incidents: none routed in this config (docs/incidents.md); the routes and their refusals
        let incidents = try await api.call(
            .GET, "/v1/incidents", path: "/v1/incidents?state=open,resolved&limit=5", token: viewer)
        #expect(incidents.status == 200 && incidents.json?["total"] == 0 && incidents.json?["items"]?.arrayValue?.isEmpty == true)
        let badState = try await api.call(.GET, "/v1/incidents", path: "/v1/incidents?state=closed", token: viewer)
        #expect(badState.status == 400 && badState.json?["errors"]?[0]?["field"] == "state")
        let noIncident = try await api.call(.GET, "/v1/incidents/{id}", path: "/v1/incidents/INC-7", token: viewer)
        #expect(noIncident.status == 404 && noIncident.json?["detail"]?.stringValue?.contains("INC-7") == true)
        let badIncident = try await api.call(.GET, "/v1/incidents/{id}", path: "/v1/incidents/seven", token: viewer)
        #expect(badIncident.status == 400)

        // pause and resume: admin only
        let pauseByBob = try await api.json(.POST, "/v1/actions/pause", token: bob, ["reason": "freeze"])
        #expect(pauseByBob.status == 403)
        let pause = try await api.json(.POST, "/v1/actions/pause", token: admin, ["reason": "change freeze"])
        #expect(pause.status == 200 && pause.json?["paused"] == .bool(true) && pause.json?["by"] == "admin")
        let resume = try await api.json(.POST, "/v1/actions/resume", token: admin, ["reason": "freeze over"])
        #expect(resume.status == 200 && resume.json?["paused"] == .bool(false))

        // the event stream's refusals (its resume is tested below)
        #expect(try await api.call(.GET, "/v1/events").status == 401)
        #expect(try await api.call(.GET, "/v1/events", path: "/v1/events?types=nope", token: viewer).status == 400)

        // metrics and the OpenAPI document
        let metrics = try await api.call(.GET, "/metrics")
        #expect(metrics.status == 200 && metrics.contentType.hasPrefix("text/plain"))
        for name in [
            "meow_evaluation_duration_seconds_count", "meow_provider_poll_duration_seconds_count{provider=\"sim\"}",
            "meow_actions_total{state=\"succeeded\"}", "http_server_request_duration_count{http_route=\"/v1/applications\"",
        ] {
            #expect(metrics.text.contains(name), "missing \(name)")
        }
        let doc = try await api.call(.GET, "/openapi.json")
        #expect(doc.status == 200 && doc.json?["openapi"] == "3.1.0")

        // every answer above, checked against the OpenAPI document
        let recorded = tmp.appendingPathComponent("responses.json")
        try api.writeRecorded(to: recorded)
        let check = try await Shell.runAsync(
            "python3", ["scripts/openapi-check.py", "Sources/MeowServer/openapi.json", recorded.path], in: PackageRoot.url())
        #expect(check.status == 0, "\(check.output)")
        #expect(api.recordedCount > 80)
        let routes = try await Shell.runAsync(
            "python3", ["scripts/openapi-check.py", "Sources/MeowServer/openapi.json", recorded.path, "-v"], in: PackageRoot.url()
        )
        #expect(!routes.output.contains("not covered"), "\(routes.output)")

        process.terminate()
        #expect(try await process.wait(timeout: 20) == 0)
    }

    @Test func eventsResumeAfterLastEventID() async throws {
        let (process, base) = try await serve(config: try config())
        defer { process.terminate() }
        let api = APIClient(base: base)
        try await eventually("/readyz is 200") { try await api.call(.GET, "/readyz").status == 200 }
        let start = try #require(try await api.call(.GET, "/v1/status", token: viewer).json?["last_event_id"]?.stringValue)
        let app = try #require(
            try await api.call(.GET, "/v1/applications", path: "/v1/applications?environment=dev&limit=1", token: viewer).json?[
                "items"]?[0]?["id"]?.stringValue)
        let workload = try #require(
            try await api.call(.GET, "/v1/applications/{id}", path: "/v1/applications/\(app)", token: viewer).json?["workloads"]?[
                0]?[
                    "id"]?.stringValue)
        var proposed: [Int64] = []
        for n in 1...3 {
            let r = try await api.json(
                .POST, "/v1/actions", token: alice,
                [
                    "action": "kubernetes.scale", "subject": .string(workload), "params": ["replicas": .int(Int64(n))],
                    "reason": "sse test",
                ])
            proposed.append(try #require(r.json?["id"]?.intValue))
        }
        // from where the status said we were: the three requests, in order (among the rules' proposals)
        let all = try await api.events(path: "/v1/events?types=action", token: viewer, lastEventID: start, count: 500, timeout: 4)
        #expect(all.status == 200 && all.contentType.hasPrefix("text/event-stream"))
        let requested = all.events.filter { $0.data?["state"] == "proposed" && $0.data?["rule"] == "manual" }
        #expect(requested.compactMap { $0.data?["id"]?.intValue }.prefix(3) == proposed[...])
        // resuming after the first gives exactly what came after it: nothing lost, nothing repeated
        let firstID = try #require(requested.first?.id)
        let resumed = try await api.events(
            path: "/v1/events?types=action", token: viewer, lastEventID: firstID, count: 2, timeout: 20)
        #expect(resumed.events.map(\.id) == Array(all.events.map(\.id).drop { $0 != firstID }.dropFirst().prefix(2)))
        #expect(resumed.events.first.map { seq($0.id) } == seq(firstID) + 1 || resumed.events.first?.data?["rule"] != "manual")
        // the query parameter works as the header does (for EventSource, which cannot set headers)
        let byQuery = try await api.events(
            path: "/v1/events?types=action&last_event_id=\(firstID)", token: viewer, count: 1, timeout: 20)
        #expect(byQuery.events.first?.id == resumed.events.first?.id)
        // an id of another process (meow restarted): a reset first, so the client refetches
        let foreign = try await api.events(token: viewer, lastEventID: "zzzz-12", count: 1, timeout: 20)
        #expect(foreign.events.first?.type == "reset")
        #expect(foreign.events.first?.data?["reason"]?.stringValue?.contains("refetch") == true)
        // live: an event published while connected arrives
        async let live = api.events(path: "/v1/events?types=action", token: viewer, count: 1, timeout: 30)
        try await Task.sleep(for: .seconds(1))
        _ = try await api.json(
            .POST, "/v1/actions/{id}/reject", path: "/v1/actions/\(proposed[0])/reject", token: bob, ["reason": "no"])
        let got = try await live
        #expect(got.events.first?.type == "action")
        // auth applies to the stream too
        let refused = try await api.call(.GET, "/v1/events")
        #expect(refused.status == 401)
        let badType = try await api.call(.GET, "/v1/events", path: "/v1/events?types=everything", token: viewer)
        #expect(badType.status == 400)
        process.terminate()
        #expect(try await process.wait(timeout: 20) == 0)
    }

    func seq(_ id: String) -> Int { Int(id.split(separator: "-").last ?? "") ?? -1 }

    @Test func unixSocketAndConfigRefusals() async throws {
        let socket = tmp.appendingPathComponent("meow.sock").path
        let (process, shown) = try await serve(listen: "unix:\(socket)", config: try config())
        defer { process.terminate() }
        #expect(shown == "unix:\(socket)")
        let api = APIClient(base: "http+unix://\(socket.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)")
        let health = try await api.call(.GET, "/healthz")
        #expect(health.status == 200)
        process.terminate()
        #expect(try await process.wait(timeout: 20) == 0)

        // beyond loopback with anonymous access (no tokens): refused before start
        let tokenless = tmp.appendingPathComponent("open.yaml").path
        try """
        rules: {dir: \(PackageRoot.url().path)/rules}
        store: {path: \(tmp.path)/open.db}
        server: {listen: "0.0.0.0:7070"}
        providers: [{name: sim, plugin: simulator, apps: 3}]
        """.write(toFile: tokenless, atomically: true, encoding: .utf8)
        let open = try await CLI.runAsync(["serve", "--config", tokenless])
        #expect(open.status == 2 && open.stderr.contains("server.listen") && open.stderr.contains("not a loopback address"))
        let shortToken = try await CLI.runAsync(
            ["serve", "--config", try config()], env: Self.tokens.merging(["MEOW_TOKEN_BOB": "short"]) { _, b in b })
        #expect(shortToken.status == 2 && shortToken.stderr.contains("server.tokens[2].token_env"))
        let missing = try await CLI.runAsync(
            ["serve", "--config", try config()], env: Self.tokens.filter { $0.key != "MEOW_TOKEN_ALICE" },
            removing: ["MEOW_TOKEN_ALICE"])
        #expect(missing.status == 2 && missing.stderr.contains("MEOW_TOKEN_ALICE"))
        let badListen = try await CLI.runAsync(["serve", "--config", try config(), "--listen", "localhost"], env: Self.tokens)
        #expect(badListen.status == 2 && badListen.stderr.contains("--listen localhost"))
    }

    /// `meow config validate` shows the server settings; `meow bench api` runs and reports its scenarios.
    @Test func configValidateShowsTheServerAndTheBenchRuns() async throws {
        let v = try await CLI.runAsync(["config", "validate", "--config", try config()], env: Self.tokens)
        #expect(v.status == 0, "\(v.stderr)")
        #expect(
            v.stdout.contains(
                "server (meow serve): 127.0.0.1:7070, dashboard (viewer), alice (operator), bob (approver), admin (admin), anonymous refused"
            ), "\(v.stdout)")
        let bench = try await CLI.runAsync([
            "bench", "api", "--apps", "20", "--connections", "2", "--duration", "0.3", "--output", "json",
        ])
        #expect(bench.status == 0, "\(bench.stderr)")
        let report = try bench.json()
        #expect(report["apps"] as? Int == 20)
        let scenarios = try #require(report["scenarios"] as? [[String: Any]])
        #expect(scenarios.count == 6)
        for s in scenarios {
            #expect((s["requests"] as? Int ?? 0) > 0 && s["errors"] as? Int == 0, "\(s)")
        }
        #expect(scenarios.first { ($0["name"] as? String)?.contains("304") == true }?["meanBytes"] as? Int == 0)
    }

    /// The TypeScript BFF example (examples/bff): type-checked with tsc, then its route handlers and client
    /// run with node against this server. `make test` installs tsc (Debian's node-typescript).
    @Test(
        .enabled(
            if: Shell.which("tsc") != nil || ProcessInfo.processInfo.environment["MEOW_REQUIRE_TSC"] == "1",
            "tsc (Debian node-typescript) is not installed; make test installs it"))
    func typeScriptBFFExampleAgainstTheServer() async throws {
        let (process, base) = try await serve(config: try config())
        defer { process.terminate() }
        let api = APIClient(base: base)
        try await eventually("/readyz is 200") { try await api.call(.GET, "/readyz").status == 200 }
        let r = try await Shell.runAsync(
            "bash", ["examples/bff/test.sh"], in: PackageRoot.url(),
            env: [
                "MEOW_URL": base, "MEOW_TOKEN_VIEWER": viewer, "MEOW_TOKEN_OPERATOR": alice, "MEOW_TOKEN_APPROVER": bob,
            ])
        #expect(r.status == 0, "\(r.output)")
    }
}

/// Runs a command and collects its combined output.
enum Shell {
    struct Result {
        var status: Int32
        var output: String
    }

    static func run(_ command: String, _ args: [String], in dir: URL, env extra: [String: String] = [:]) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [command] + args
        p.currentDirectoryURL = dir
        p.environment = ProcessInfo.processInfo.environment.merging(extra) { _, b in b }
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }

    static func runAsync(_ command: String, _ args: [String], in dir: URL, env: [String: String] = [:]) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Swift.Result { try run(command, args, in: dir, env: env) }) }.start()
        }
    }

    static func which(_ name: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let path = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }
}
