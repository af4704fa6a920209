import AsyncHTTPClient
import Crypto
import Foundation
import MeowDoubles
import MeowModel
import NIOCore
import NIOHTTP1
import Testing

/// The incident doubles (PagerDuty, Opsgenie, Slack, a webhook receiver) answer as the services'
/// documentation says (notes/issue9-research.md §1–3, §5), over real HTTP on 127.0.0.1.
enum Loopback {
    struct Answer {
        var status: Int
        var headers: HTTPHeaders
        var text: String
        var json: Value? { try? JSONDecoder().decode(Value.self, from: Data(text.utf8)) }
    }

    static func send(
        _ method: HTTPMethod, _ url: String, body: String? = nil, headers: [(String, String)] = []
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        if let body {
            if !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
                request.headers.add(name: "Content-Type", value: "application/json")
            }
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let buffer = try await response.body.collect(upTo: 1 << 20)
        return Answer(status: Int(response.status.code), headers: response.headers, text: String(buffer: buffer))
    }

    static func post(_ url: String, _ body: Value, headers: [(String, String)] = []) async throws -> Answer {
        try await send(.POST, url, body: body.jsonString(), headers: headers)
    }
}

/// A clock tests move by hand.
final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current = Date(timeIntervalSince1970: 1_800_000_000)
    var now: Date { lock.withLock { current } }
    func advance(_ seconds: TimeInterval) { lock.withLock { current += seconds } }
}

@Suite struct PagerDutyDoubleTests {
    static let key = "meow-routing-key"

    func start(clock: ManualClock? = nil) async throws -> (PagerDutyDouble, String) {
        let pd: PagerDutyDouble
        if let clock {
            pd = PagerDutyDouble(routingKeys: [Self.key, "other-key"], apiTokens: ["rest-token"], now: { clock.now })
        } else {
            pd = PagerDutyDouble(routingKeys: [Self.key, "other-key"], apiTokens: ["rest-token"])
        }
        let port = try await pd.start()
        return (pd, "http://127.0.0.1:\(port)")
    }

    static func trigger(_ dedup: String?, summary: String = "checkout 5xx high", severity: String = "critical", key: String = key)
        -> Value
    {
        var e: [String: Value] = [
            "routing_key": .string(key), "event_action": "trigger",
            "payload": ["summary": .string(summary), "source": "meow", "severity": .string(severity)],
        ]
        if let dedup { e["dedup_key"] = .string(dedup) }
        return .object(e)
    }

    static func event(_ action: String, _ dedup: String, key: String = key) -> Value {
        ["routing_key": .string(key), "event_action": .string(action), "dedup_key": .string(dedup)]
    }

    @Test func aTriggerIsAcceptedWith202AndOpensIncidentNumberOne() async throws {
        let (pd, base) = try await start()
        defer { Task { await pd.stop() } }
        let a = try await Loopback.post(base + "/v2/enqueue", Self.trigger("meow:INC-1"))
        #expect(a.status == 202)
        #expect(a.json == ["status": "success", "message": "Event processed", "dedup_key": "meow:INC-1"])
        let incidents = await pd.incidents()
        #expect(incidents.count == 1)
        let i = try #require(incidents.first)
        #expect(i.number == 1 && i.status == .triggered && i.triggers == 1 && i.title == "checkout 5xx high")
        #expect(i.id.count == 7 && i.id.hasPrefix("P") && i.severity == "critical" && i.urgency == "high")
        #expect(await pd.events.count == 1)
        #expect(await pd.requestCount == 1)
    }

    @Test func aTriggerWithoutDedupKeyGetsAGeneratedOne() async throws {
        let (pd, base) = try await start()
        defer { Task { await pd.stop() } }
        let a = try await Loopback.post(base + "/v2/enqueue", Self.trigger(nil))
        #expect(a.status == 202)
        let key = try #require(a.json?["dedup_key"]?.stringValue)
        #expect(key.count == 32 && key.allSatisfy(\.isHexDigit))
        #expect(await pd.incidents().first?.dedupKey == key)
    }

    @Test func aBodyThatIsNotJSONIsAnUnrecognizedObject() async throws {
        let (pd, base) = try await start()
        defer { Task { await pd.stop() } }
        let a = try await Loopback.send(.POST, base + "/v2/enqueue", body: "routing_key=abc")
        #expect(a.status == 400)
        #expect(
            a.json == [
                "status": "Unrecognized object", "message": "Event object format is unrecognized", "errors": ["JSON parse error"],
            ])
        #expect(await pd.events.isEmpty)
        #expect(await pd.requestCount == 1)
    }

    @Test func invalidEventsGet400WithOneErrorPerProblem() async throws {
        let (pd, base) = try await start()
        defer { Task { await pd.stop() } }
        func with(_ e: Value, _ change: (inout [String: Value]) -> Void) -> Value {
            var o = e.objectValue!
            change(&o)
            return .object(o)
        }
        let t = Self.trigger("k")
        let cases: [(String, Value, Int)] = [
            ("unknown routing key", with(t) { $0["routing_key"] = "not-a-key" }, 1),
            ("no routing key", with(t) { $0["routing_key"] = nil }, 1),
            ("bad event_action", with(t) { $0["event_action"] = "snooze" }, 1),
            ("dedup_key over 255", Self.trigger(String(repeating: "d", count: 256)), 1),
            ("acknowledge without dedup_key", ["routing_key": .string(Self.key), "event_action": "acknowledge"], 1),
            ("resolve without dedup_key", ["routing_key": .string(Self.key), "event_action": "resolve"], 1),
            ("trigger without payload", with(t) { $0["payload"] = nil }, 1),
            ("summary over 1024", Self.trigger("k", summary: String(repeating: "s", count: 1025)), 1),
            ("blank summary", Self.trigger("k", summary: ""), 1),
            ("bad severity", Self.trigger("k", severity: "fatal"), 1),
            ("no source", with(t) { $0["payload"] = ["summary": "x", "severity": "info"] }, 1),
            ("link without href", with(t) { $0["links"] = [["text": "runbook"]] }, 1),
            ("three problems", ["routing_key": "nope", "event_action": "trigger", "payload": ["summary": "x"]], 3),
        ]
        for (name, body, count) in cases {
            let a = try await Loopback.post(base + "/v2/enqueue", body)
            #expect(a.status == 400, "\(name)")
            #expect(a.json?["status"] == "invalid event" && a.json?["message"] == "Event object is invalid", "\(name)")
            #expect(a.json?["errors"]?.arrayValue?.count == count, "\(name): \(a.text)")
        }
        #expect(await pd.events.isEmpty)
        #expect(await pd.incidents().isEmpty)
        // at the limits: accepted
        let edge = with(Self.trigger(String(repeating: "d", count: 255), summary: String(repeating: "s", count: 1024))) {
            $0["links"] = [["href": "https://runbooks.example/checkout", "text": "runbook"]]
        }
        #expect(try await Loopback.post(base + "/v2/enqueue", edge).status == 202)
        #expect(await pd.incidents().first?.links.count == 1)
    }

    @Test func oneAlertPerDedupKeyUntilResolvedThenANewIncident() async throws {
        let (pd, base) = try await start()
        defer { Task { await pd.stop() } }
        let url = base + "/v2/enqueue"
        #expect(try await Loopback.post(url, Self.trigger("meow:INC-1")).status == 202)
        #expect(
            try await Loopback.post(url, Self.trigger("meow:INC-1", summary: "checkout 5xx higher", severity: "warning")).status
                == 202)
        var incidents = await pd.incidents()
        #expect(incidents.count == 1 && incidents[0].triggers == 2 && incidents[0].title == "checkout 5xx higher")
        #expect(incidents[0].severity == "warning" && incidents[0].urgency == "low")
        // an acknowledge through another routing key is a different alert: dropped
        #expect(try await Loopback.post(url, Self.event("acknowledge", "meow:INC-1", key: "other-key")).status == 202)
        #expect(await pd.incidents()[0].status == .triggered)
        #expect(try await Loopback.post(url, Self.event("acknowledge", "meow:INC-1")).status == 202)
        #expect(await pd.incidents()[0].status == .acknowledged)
        #expect(try await Loopback.post(url, Self.event("resolve", "meow:INC-1")).status == 202)
        incidents = await pd.incidents()
        #expect(incidents[0].status == .resolved && incidents[0].resolvedAt != nil)
        // after a resolve, acknowledge and resolve are dropped (still 202)
        #expect(try await Loopback.post(url, Self.event("acknowledge", "meow:INC-1")).status == 202)
        #expect(try await Loopback.post(url, Self.event("resolve", "meow:INC-1")).status == 202)
        #expect(await pd.incidents().map(\.status) == [.resolved])
        // and a trigger opens a new incident
        #expect(try await Loopback.post(url, Self.trigger("meow:INC-1")).status == 202)
        incidents = await pd.incidents()
        #expect(incidents.map(\.number) == [1, 2] && incidents[1].status == .triggered && incidents[1].triggers == 1)
        #expect(incidents[0].id != incidents[1].id)
        #expect(await pd.triggers(dedupKey: "meow:INC-1") == 3)
        #expect(await pd.events.count == 8)
    }

    @Test func overTheRateLimitEventsGet429AndAreNotIngested() async throws {
        let clock = ManualClock()
        let (pd, base) = try await start(clock: clock)
        defer { Task { await pd.stop() } }
        await pd.setRateLimit(perMinute: 2)
        let url = base + "/v2/enqueue"
        #expect(try await Loopback.post(url, Self.trigger("a")).status == 202)
        clock.advance(30)
        #expect(try await Loopback.post(url, Self.trigger("b")).status == 202)
        #expect(try await Loopback.post(url, Self.trigger("c")).status == 429)
        #expect(try await Loopback.post(url, Self.trigger("c", key: "other-key")).status == 202)  // per routing key
        clock.advance(31)  // the first call left the 60 s window
        #expect(try await Loopback.post(url, Self.trigger("c")).status == 202)
        #expect(await pd.events.count == 4)
        #expect(await pd.requestCount == 5)
    }

    @Test func failNextInjectsRetryableAnswersForEnqueueOnly() async throws {
        let (pd, base) = try await start()
        defer { Task { await pd.stop() } }
        await pd.failNext(1, status: 429)
        await pd.failNext(1, status: 503)
        let url = base + "/v2/enqueue"
        #expect(try await Loopback.post(url, Self.trigger("a")).status == 429)
        let five = try await Loopback.post(url, Self.trigger("a"))
        #expect(five.status == 503 && five.json?["status"] == "error")
        let rest = try await Loopback.send(.GET, base + "/incidents", headers: [("Authorization", "Token token=rest-token")])
        #expect(rest.status == 200)
        #expect(try await Loopback.post(url, Self.trigger("a")).status == 202)
        #expect(await pd.events.count == 1)
        #expect(await pd.requestCount == 3)
        #expect(await pd.incidents().count == 1)
    }

    @Test func restNeedsATokenOfTheDouble() async throws {
        let (pd, base) = try await start()
        defer { Task { await pd.stop() } }
        let failed: Value = ["error": ["message": "Authentication failed", "code": 2006]]
        for auth in [nil, "Token token=wrong", "Bearer rest-token", "rest-token"] {
            let a = try await Loopback.send(.GET, base + "/incidents", headers: auth.map { [("Authorization", $0)] } ?? [])
            #expect(a.status == 401 && a.json == failed, "\(auth ?? "no header")")
        }
        await pd.failNextREST(1, status: 429)
        let limited = try await Loopback.send(.GET, base + "/incidents", headers: [("Authorization", "Token token=rest-token")])
        #expect(limited.status == 429 && limited.json == ["error": ["message": "Rate Limit Exceeded", "code": 2020]])
    }

    @Test func restListsIncidentsWithPagingAndStatusFilters() async throws {
        let (pd, base) = try await start()
        defer { Task { await pd.stop() } }
        let url = base + "/v2/enqueue"
        for (i, severity) in ["critical", "warning", "error"].enumerated() {
            _ = try await Loopback.post(url, Self.trigger("k\(i + 1)", summary: "problem \(i + 1)", severity: severity))
        }
        _ = try await Loopback.post(url, Self.event("acknowledge", "k2"))
        _ = try await Loopback.post(url, Self.event("resolve", "k3"))
        func list(_ query: String) async throws -> Loopback.Answer {
            try await Loopback.send(
                .GET, base + "/incidents" + query,
                headers: [("Authorization", "Token token=rest-token"), ("Accept", "application/vnd.pagerduty+json;version=2")])
        }
        let first = try await list("?limit=2")
        #expect(first.status == 200)
        #expect(
            first.json?["limit"] == 2 && first.json?["offset"] == 0 && first.json?["more"] == true
                && first.json?["total"] == .null)
        let one = try #require(first.json?["incidents"]?[0])
        #expect(one["type"] == "incident" && one["incident_number"] == 1 && one["summary"] == "[#1] problem 1")
        #expect(one["title"] == "problem 1" && one["status"] == "triggered" && one["incident_key"] == "k1")
        #expect(one["urgency"] == "high" && one["resolved_at"] == .null && one["service"]?["type"] == "service_reference")
        let id = try #require(one["id"]?.stringValue)
        #expect(one["self"]?.stringValue == "https://api.pagerduty.com/incidents/\(id)")
        for field in ["html_url", "created_at", "updated_at", "last_status_change_at"] {
            #expect(one[field]?.stringValue?.isEmpty == false, "\(field)")
        }
        let second = try await list("?limit=2&offset=2&total=true")
        #expect(second.json?["incidents"]?.arrayValue?.count == 1 && second.json?["more"] == false && second.json?["total"] == 3)
        let resolved = try await list("?statuses%5B%5D=resolved")
        #expect(resolved.json?["incidents"]?.arrayValue?.map { $0["incident_key"] } == ["k3"])
        #expect(resolved.json?["incidents"]?[0]?["resolved_at"]?.stringValue != nil)
        #expect(resolved.json?["incidents"]?[0]?["urgency"] == "high")  // error
        let open = try await list("?statuses%5B%5D=triggered&statuses%5B%5D=acknowledged")
        #expect(open.json?["incidents"]?.arrayValue?.map { $0["status"] } == ["triggered", "acknowledged"])
        #expect(open.json?["incidents"]?[1]?["urgency"] == "low")  // warning
        let byKey = try await list("?incident_key=k2")
        #expect(byKey.json?["incidents"]?.arrayValue?.map { $0["incident_number"] } == [2])
        let defaults = try await list("")
        #expect(defaults.json?["limit"] == 25 && defaults.json?["incidents"]?.arrayValue?.count == 3)
        let tooMany = try await list("?limit=101")
        #expect(tooMany.status == 400 && tooMany.json?["error"]?["code"] == 2001)
        #expect(tooMany.json?["error"]?["message"] == "Invalid Input Provided")
        #expect(try await list("?statuses%5B%5D=open").status == 400)
    }
}

@Suite struct OpsgenieDoubleTests {
    func start() async throws -> (OpsgenieDouble, String) {
        let og = OpsgenieDouble(apiKeys: ["og-key"])
        let port = try await og.start()
        return (og, "http://127.0.0.1:\(port)")
    }

    static let auth = [("Authorization", "GenieKey og-key")]

    static func isRequestID(_ v: Value?) -> Bool { v?.stringValue.flatMap(UUID.init(uuidString:)) != nil }

    @Test func requestsWithoutTheGenieKeyGet401() async throws {
        let (og, base) = try await start()
        defer { Task { await og.stop() } }
        for headers in [[], [("Authorization", "GenieKey wrong")], [("Authorization", "Bearer og-key")]] {
            let a = try await Loopback.post(base + "/v2/alerts", ["message": "m"], headers: headers)
            #expect(a.status == 401 && a.json?["message"] == "Could not authenticate" && a.json?["took"]?.doubleValue == 0)
            #expect(Self.isRequestID(a.json?["requestId"]))
        }
        #expect(await og.alerts().isEmpty)
    }

    @Test func aCreateIsAcceptedWith202AndMakesAnOpenP3Alert() async throws {
        let (og, base) = try await start()
        defer { Task { await og.stop() } }
        let a = try await Loopback.post(
            base + "/v2/alerts",
            [
                "message": "checkout 5xx high", "alias": "meow:INC-1", "tags": ["meow", "checkout"],
                "details": ["service": "checkout"], "entity": "checkout", "source": "meow",
                "responders": [["type": "team", "name": "sre"]],
            ], headers: Self.auth)
        #expect(a.status == 202 && a.json?["result"] == "Request will be processed" && a.json?["took"] == 0.1)
        #expect(Self.isRequestID(a.json?["requestId"]))
        let alert = try #require(await og.alerts().first)
        #expect(alert.message == "checkout 5xx high" && alert.alias == "meow:INC-1" && alert.priority == "P3")
        #expect(alert.status == .open && !alert.acknowledged && alert.count == 1 && alert.tags == ["meow", "checkout"])
        #expect(alert.details == ["service": "checkout"] && alert.source == "meow" && alert.tinyId == "1")
        // the request status tells what happened
        let requestId = try #require(a.json?["requestId"]?.stringValue)
        let status = try await Loopback.send(.GET, base + "/v2/alerts/requests/\(requestId)", headers: Self.auth)
        #expect(status.json?["data"]?["status"] == "Created alert" && status.json?["data"]?["alertId"]?.stringValue == alert.id)
        // list and get
        let list = try await Loopback.send(.GET, base + "/v2/alerts", headers: Self.auth)
        let listed = try #require(list.json?["data"]?[0])
        #expect(listed["id"]?.stringValue == alert.id && listed["tinyId"] == "1" && listed["alias"] == "meow:INC-1")
        #expect(
            listed["status"] == "open" && listed["acknowledged"] == false && listed["count"] == 1 && listed["priority"] == "P3")
        #expect(listed["tags"] == ["meow", "checkout"] && listed["source"] == "meow" && listed["createdAt"]?.stringValue != nil)
        #expect(listed["updatedAt"]?.stringValue != nil && Self.isRequestID(list.json?["requestId"]))
        let got = try await Loopback.send(.GET, base + "/v2/alerts/meow:INC-1?identifierType=alias", headers: Self.auth)
        #expect(got.status == 200 && got.json?["data"]?["details"] == ["service": "checkout"])
    }

    @Test func invalidCreatesGet422WithTheFieldInErrors() async throws {
        let (og, base) = try await start()
        defer { Task { await og.stop() } }
        func s(_ n: Int) -> Value { .string(String(repeating: "x", count: n)) }
        let cases: [(Value, String)] = [
            (["alias": "a"], "message"),
            (["message": ""], "message"),
            (["message": s(131)], "message"),
            (["message": "m", "alias": s(513)], "alias"),
            (["message": "m", "description": s(15001)], "description"),
            (["message": "m", "tags": .array((0..<21).map { .string("t\($0)") })], "tags"),
            (["message": "m", "tags": ["ok", s(51)]], "tags[1]"),
            (["message": "m", "details": ["k": s(8000)]], "details"),
            (["message": "m", "details": ["k": 1]], "details"),
            (["message": "m", "entity": s(513)], "entity"),
            (["message": "m", "source": s(101)], "source"),
            (["message": "m", "priority": "P6"], "priority"),
        ]
        for (body, field) in cases {
            let a = try await Loopback.post(base + "/v2/alerts", body, headers: Self.auth)
            #expect(a.status == 422, "\(field)")
            #expect(a.json?["message"] == "Request body is not processable. Please check the errors.", "\(field)")
            #expect(a.json?["errors"]?[field] != nil, "\(field): \(a.text)")
            #expect(a.json?["took"] == 0.005 && Self.isRequestID(a.json?["requestId"]))
        }
        let priority = try await Loopback.post(base + "/v2/alerts", ["message": "m", "priority": "P0"], headers: Self.auth)
        #expect(priority.json?["errors"] == ["priority": "should be one of [ P1, P2, P3, P4, P5 ]"])
        let garbage = try await Loopback.send(.POST, base + "/v2/alerts", body: "{not json", headers: Self.auth)
        #expect(garbage.status == 400)
        #expect(await og.alerts().isEmpty)
        // at the limits: accepted
        let edge: Value = [
            "message": s(130), "alias": s(512), "description": s(15000), "tags": .array((0..<20).map { _ in s(50) }),
            "details": ["k": s(7999)], "entity": s(512), "source": s(100), "priority": "P5",
        ]
        #expect(try await Loopback.post(base + "/v2/alerts", edge, headers: Self.auth).status == 202)
    }

    @Test func anOpenAliasIsDeduplicatedUntilClosed() async throws {
        let (og, base) = try await start()
        defer { Task { await og.stop() } }
        let body: Value = ["message": "checkout 5xx high", "alias": "meow:INC-1", "priority": "P1"]
        #expect(try await Loopback.post(base + "/v2/alerts", body, headers: Self.auth).status == 202)
        #expect(try await Loopback.post(base + "/v2/alerts", body, headers: Self.auth).status == 202)
        var alerts = await og.alerts()
        #expect(alerts.count == 1 && alerts[0].count == 2)
        // acknowledge by id, close by alias
        let ack = try await Loopback.post(base + "/v2/alerts/\(alerts[0].id)/acknowledge", ["user": "meow"], headers: Self.auth)
        #expect(ack.status == 202 && ack.json?["result"] == "Request will be processed")
        #expect(await og.alerts()[0].acknowledged)
        let close = try await Loopback.send(.POST, base + "/v2/alerts/meow:INC-1/close?identifierType=alias", headers: Self.auth)
        #expect(close.status == 202)
        #expect(await og.alerts()[0].status == .closed)
        // a closed alias starts a new alert
        #expect(try await Loopback.post(base + "/v2/alerts", body, headers: Self.auth).status == 202)
        alerts = await og.alerts()
        #expect(alerts.map(\.count) == [2, 1] && alerts.map(\.status) == [.closed, .open] && alerts[1].tinyId == "2")
        let open = try await Loopback.send(.GET, base + "/v2/alerts?query=status:open", headers: Self.auth)
        #expect(open.json?["data"]?.arrayValue?.map { $0["id"]?.stringValue } == [alerts[1].id])
    }

    @Test func closingAnUnknownAlertIsAcceptedButTheRequestFails() async throws {
        let (og, base) = try await start()
        defer { Task { await og.stop() } }
        let a = try await Loopback.send(.POST, base + "/v2/alerts/nope/close?identifierType=alias", headers: Self.auth)
        #expect(a.status == 202)
        let id = try #require(a.json?["requestId"]?.stringValue)
        let status = try await Loopback.send(.GET, base + "/v2/alerts/requests/\(id)", headers: Self.auth)
        #expect(status.json?["data"]?["success"] == false && status.json?["data"]?["action"] == "Close")
        let badType = try await Loopback.send(.POST, base + "/v2/alerts/nope/close?identifierType=name", headers: Self.auth)
        #expect(badType.status == 422)
    }

    @Test func failNextInjects429And5xx() async throws {
        let (og, base) = try await start()
        defer { Task { await og.stop() } }
        await og.failNext(1, status: 429)
        await og.failNext(1, status: 500)
        let body: Value = ["message": "m"]
        let limited = try await Loopback.post(base + "/v2/alerts", body, headers: Self.auth)
        #expect(
            limited.status == 429 && limited.json?["message"]?.stringValue != nil && Self.isRequestID(limited.json?["requestId"]))
        #expect(try await Loopback.post(base + "/v2/alerts", body, headers: Self.auth).status == 500)
        #expect(try await Loopback.post(base + "/v2/alerts", body, headers: Self.auth).status == 202)
        #expect(await og.alerts().count == 1)
        #expect(await og.requests.count == 3)
    }
}

@Suite struct SlackDoubleTests {
    func start() async throws -> SlackDouble {
        let slack = SlackDouble()
        _ = try await slack.start()
        return slack
    }

    static func expect(_ a: Loopback.Answer, _ status: Int, _ text: String, _ comment: Comment? = nil) {
        #expect(a.status == status && a.text == text, comment)
        #expect(a.headers.first(name: "content-type")?.hasPrefix("text/plain") == true, comment)
    }

    @Test func aMessageIsAcceptedWith200Ok() async throws {
        let slack = try await start()
        defer { Task { await slack.stop() } }
        let url = await slack.url
        #expect(url.hasSuffix("/services/T000/B000/XXXX") && url.hasPrefix("http://127.0.0.1:"))
        let body: Value = [
            "text": "[P1] checkout 5xx high",
            "blocks": [
                ["type": "header", "text": ["type": "plain_text", "text": "INC-1 checkout 5xx high"]],
                [
                    "type": "section", "text": ["type": "mrkdwn", "text": "*Service:* checkout"],
                    "fields": [["type": "mrkdwn", "text": "*Started*\n06:30 UTC"]],
                ],
                ["type": "context", "elements": [["type": "mrkdwn", "text": "dedup `meow:INC-1`"]]],
                ["type": "divider"],
                [
                    "type": "actions",
                    "elements": [
                        ["type": "button", "text": ["type": "plain_text", "text": "Argo CD"], "url": "https://argocd.example"]
                    ],
                ],
            ],
        ]
        Self.expect(try await Loopback.post(url, body), 200, "ok")
        Self.expect(try await Loopback.post(url, ["blocks": [["type": "divider"]]]), 200, "ok")  // blocks without text
        #expect(await slack.messages == [body, ["blocks": [["type": "divider"]]]])
    }

    @Test func refusedPayloadsGetSlacksPlainTextErrors() async throws {
        let slack = try await start()
        defer { Task { await slack.stop() } }
        let url = await slack.url
        Self.expect(try await Loopback.post(await slack.baseURL + "/services/T000/B000/WRONG", ["text": "x"]), 404, "no_service")
        Self.expect(try await Loopback.send(.POST, url, body: "payload=text"), 400, "invalid_payload")
        Self.expect(try await Loopback.post(url, [:]), 400, "no_text")
        Self.expect(try await Loopback.post(url, ["text": ""]), 400, "no_text")
        func header(_ text: String, type: String = "plain_text") -> Value {
            ["type": "header", "text": ["type": .string(type), "text": .string(text)]]
        }
        func section(_ text: String) -> Value { ["type": "section", "text": ["type": "mrkdwn", "text": .string(text)]] }
        func field(_ n: Int) -> Value { ["type": "mrkdwn", "text": .string(String(repeating: "f", count: n))] }
        let invalid: [(String, Value)] = [
            ("51 blocks", .array(Array(repeating: ["type": "divider"], count: 51))),
            ("header over 150", [header(String(repeating: "h", count: 151))]),
            ("mrkdwn header", [header("h", type: "mrkdwn")]),
            ("section text over 3000", [section(String(repeating: "s", count: 3001))]),
            ("11 fields", [["type": "section", "fields": .array(Array(repeating: field(1), count: 11))]]),
            ("field over 2000", [["type": "section", "fields": [field(2001)]]]),
            ("unknown type", [["type": "table"]]),
            ("no type", [["text": ["type": "plain_text", "text": "x"]]]),
        ]
        for (name, blocks) in invalid {
            Self.expect(try await Loopback.post(url, ["text": "fallback", "blocks": blocks]), 400, "invalid_blocks", "\(name)")
        }
        // at the limits: accepted
        let edge: Value = .array(
            [header(String(repeating: "h", count: 150)), section(String(repeating: "s", count: 3000))]
                + Array(repeating: ["type": "section", "fields": .array(Array(repeating: field(2000), count: 10))], count: 48))
        Self.expect(try await Loopback.post(url, ["text": "fallback", "blocks": edge]), 200, "ok")
        #expect(await slack.messages.count == 1)
    }

    @Test func rateLimitedPostsGet429WithRetryAfter() async throws {
        let slack = try await start()
        defer { Task { await slack.stop() } }
        await slack.failNext(2, status: 429, retryAfter: 7)
        let url = await slack.url
        for _ in 0..<2 {
            let a = try await Loopback.post(url, ["text": "x"])
            Self.expect(a, 429, "rate_limited")
            #expect(a.headers.first(name: "retry-after") == "7")
        }
        Self.expect(try await Loopback.post(url, ["text": "x"]), 200, "ok")
        await slack.archive()
        Self.expect(try await Loopback.post(url, ["text": "x"]), 410, "channel_is_archived")
        #expect(await slack.messages.count == 1)
    }
}

@Suite struct WebhookReceiverTests {
    @Test func everyPostIsRecordedWithHeadersBodyAndScriptedStatus() async throws {
        let hook = WebhookReceiver()
        let port = try await hook.start()
        defer { Task { await hook.stop() } }
        await hook.failNext(2, status: 500)
        let url = "http://127.0.0.1:\(port)/hook"
        let body: Value = ["status": "firing", "version": "4"]
        var statuses: [Int] = []
        for _ in 0..<3 {
            statuses.append(
                try await Loopback.post(url, body, headers: [("User-Agent", "Alertmanager/0.25.0"), ("X-Extra", "1")]).status)
        }
        #expect(statuses == [500, 500, 200])
        let got = await hook.waitFor(count: 3, timeout: 5)
        #expect(got.count == 3 && got.map(\.status) == [500, 500, 200])
        let last = try #require(got.last)
        #expect(last.path == "/hook" && last.json == body && last.body == Data(body.jsonString().utf8))
        #expect(last.header("USER-AGENT") == "Alertmanager/0.25.0" && last.header("x-extra") == "1")
        #expect(last.headers.contains { $0.0 == "content-type" && $0.1 == "application/json" })
    }

    @Test func itListensOnAFixedPortAndWaitingIsBounded() async throws {
        let probe = WebhookReceiver()
        let port = try await probe.start()
        await probe.stop()
        let hook = WebhookReceiver()
        #expect(try await hook.start(port: port) == port)
        defer { Task { await hook.stop() } }
        let started = Date()
        #expect(await hook.waitFor(count: 1, timeout: 0.3).isEmpty)
        #expect(Date().timeIntervalSince(started) < 3)
        #expect(try await Loopback.send(.POST, "http://127.0.0.1:\(port)/x", body: "not json").status == 200)
        let got = await hook.waitFor(count: 1, timeout: 5)
        #expect(got.count == 1 && got[0].json == nil && got[0].body == Data("not json".utf8))
    }

    @Test func standardWebhooksSignaturesVerify() throws {
        // The specification's published vector (standard-webhooks/standard-webhooks), recomputed here.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek"
        let timestamp = "1614265330"
        let body = Data(#"{"test": 2432232314}"#.utf8)
        let key = SymmetricKey(data: try #require(Data(base64Encoded: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")))
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(id).\(timestamp).".utf8) + body, using: key)
        let signature = "v1," + Data(mac).base64EncodedString()
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        func verify(
            _ header: String, secret: String = secret, id: String = id, timestamp: String = timestamp, body: Data = body,
            now: Date? = nil
        ) -> Bool {
            WebhookReceiver.verifyStandardWebhook(
                secret: secret, id: id, timestamp: timestamp, body: body, signatureHeader: header, now: now)
        }
        #expect(verify(signature))
        #expect(verify("v1,AAAAbogus= v1a,whatever " + signature))  // rotation: any entry may match
        #expect(!verify(signature, secret: "whsec_" + Data("another key of 24+ bytes!".utf8).base64EncodedString()))
        #expect(!verify(signature, id: "msg_other"))
        #expect(!verify(signature, timestamp: "1614265331"))
        #expect(!verify(signature, body: Data(#"{"test": 2432232315}"#.utf8)))
        #expect(!verify("v2," + String(signature.dropFirst(3))))
        #expect(!verify(signature, timestamp: "not-a-number"))
        // timestamp tolerance, when a clock is given
        #expect(verify(signature, now: Date(timeIntervalSince1970: 1_614_265_330 + 299)))
        #expect(!verify(signature, now: Date(timeIntervalSince1970: 1_614_265_330 + 301)))
        // a secret without whsec_ is used as its UTF-8 bytes
        let plain = HMAC<SHA256>.authenticationCode(
            for: Data("\(id).\(timestamp).".utf8) + body, using: SymmetricKey(data: Data("plain-secret".utf8)))
        #expect(verify("v1," + Data(plain).base64EncodedString(), secret: "plain-secret"))
    }
}
