import Foundation
import MeowModel

/// A stand-in for PagerDuty's Events API v2 (`POST /v2/enqueue`) and the incident listing of its REST
/// API (`GET /incidents`), built from PagerDuty's documentation (PagerDuty/developer-docs,
/// PagerDuty/api-schema `reference/events-v2/openapiv3.json`).
///
/// Events are validated as documented and answered 202/400; one alert lives per
/// (routing_key, dedup_key): a trigger while it is open updates it, acknowledge and resolve move it
/// on, and after a resolve, acknowledge and resolve are dropped while a trigger opens a new incident.
/// Each routing key has a sliding 60 s rate limit (120 events by default, then 429 and the event is
/// not ingested); `failNext` and `failNextREST` inject 429/5xx answers for retry tests.
///
///     let pd = PagerDutyDouble(routingKeys: ["meow-key"], apiTokens: ["rest-token"])
///     let port = try await pd.start()
///     // POST http://127.0.0.1:\(port)/v2/enqueue {"routing_key":"meow-key","event_action":"trigger",...}
///     let open = await pd.incidents().filter { $0.status != .resolved }
public actor PagerDutyDouble {
    public struct Incident: Sendable, Equatable {
        public enum Status: String, Sendable { case triggered, acknowledged, resolved }

        /// `P` and 6 characters, as PagerDuty's ids (`PT4KHLK`).
        public var id: String
        /// The account-wide incident number: 1, 2, ...
        public var number: Int
        public var routingKey: String
        public var dedupKey: String
        public var status: Status
        /// `payload.summary` of the latest trigger.
        public var title: String
        /// `payload.severity` of the latest trigger: critical, error, warning or info.
        public var severity: String
        /// Trigger events that went into this incident (the first one included).
        public var triggers: Int
        public var createdAt: Date
        public var updatedAt: Date
        public var lastStatusChangeAt: Date
        public var resolvedAt: Date?
        /// The latest event applied to the incident, as posted.
        public var lastEvent: Value
        /// `links` of the latest trigger that had some.
        public var links: [Value]

        public var summary: String { title }
        /// What PagerDuty's REST API reports: high for critical and error, low otherwise.
        public var urgency: String { severity == "critical" || severity == "error" ? "high" : "low" }
    }

    let routingKeys: Set<String>
    let apiTokens: Set<String>
    let now: @Sendable () -> Date
    /// The service of each routing key: `(id, summary)`.
    let services: [String: (id: String, summary: String)]
    var all: [Incident] = []
    /// The latest incident of each `routing_key \0 dedup_key`, by index into `all`.
    var current: [String: Int] = [:]
    var rateLimit: Int? = 120
    var recentCalls: [String: [Date]] = [:]
    var enqueueFailures = FailureQueue()
    var restFailures = FailureQueue()
    var server: LoopbackServer?

    /// Accepted events (answered 202, dropped ones included), in order, as posted.
    public private(set) var events: [Value] = []
    /// Every `POST /v2/enqueue`, refused ones included.
    public private(set) var requestCount = 0
    /// Every request, REST calls included.
    public private(set) var requests: [DoubleRequest] = []

    /// `now` is the clock of the rate-limit window and of the incidents' times.
    public init(routingKeys: Set<String>, apiTokens: Set<String> = [], now: @escaping @Sendable () -> Date = { Date() }) {
        self.routingKeys = routingKeys
        self.apiTokens = apiTokens
        self.now = now
        services = Dictionary(
            uniqueKeysWithValues: routingKeys.sorted().enumerated().map { i, key in
                (key, (id: "PSVC" + String(format: "%03d", i + 1), summary: "Service \(i + 1)"))
            })
    }

    public func start(port: Int = 0) async throws -> Int {
        let s = try await LoopbackServer.start(port: port, tls: nil) { [self] r in await self.respond(r) }
        server = s
        return s.port
    }

    public func stop() async {
        await server?.stop()
        server = nil
    }

    public var baseURL: String { server?.baseURL ?? "" }

    // MARK: Control

    /// Events per routing key in any 60 s window before 429; nil: no limit.
    public func setRateLimit(perMinute: Int?) { rateLimit = perMinute }
    /// The next `count` enqueue calls get `status` (429, 500, 502, 503) and are not ingested.
    public func failNext(_ count: Int, status: Int) { enqueueFailures.add(count, status: status) }
    /// The next `count` REST calls get `status`.
    public func failNextREST(_ count: Int, status: Int) { restFailures.add(count, status: status) }

    // MARK: Inspection

    public func incidents() -> [Incident] { all }

    /// Trigger events accepted for this dedup key, over all its incidents.
    public func triggers(dedupKey: String) -> Int {
        all.filter { $0.dedupKey == dedupKey }.reduce(0) { $0 + $1.triggers }
    }

    // MARK: Serving

    func respond(_ r: DoubleRequest) async -> DoubleResponse {
        requests.append(r)
        switch (r.method, r.path) {
        case ("POST", "/v2/enqueue"): return enqueue(r)
        case ("GET", "/incidents"): return listIncidents(r)
        default: return Self.restError(404, "Not Found", code: 2100)
        }
    }

    // Events API v2, PagerDuty/developer-docs docs/events-API-v2/02-Trigger-Events.md and 01-Overview.md.
    func enqueue(_ r: DoubleRequest) -> DoubleResponse {
        requestCount += 1
        if let status = enqueueFailures.next() {
            // A 429 body is not documented (the old v2 doc shows an empty one).
            return status == 429
                ? .text("", status: 429)
                : .json(["status": "error", "message": .string(Self.reason(status))], status: status)
        }
        guard case .object(var event)? = r.json else {
            return .json(
                [
                    "status": "Unrecognized object", "message": "Event object format is unrecognized",
                    "errors": ["JSON parse error"],
                ], status: 400)
        }
        let at = now()
        let routingKey = event["routing_key"]?.stringValue ?? ""
        if let limit = rateLimit {
            let window = (recentCalls[routingKey] ?? []).filter { at.timeIntervalSince($0) < 60 }
            guard window.count < limit else {
                recentCalls[routingKey] = window
                return .text("", status: 429)  // "429 - Request Limit Exceeded", not ingested (05-Rate-Limits.md)
            }
            recentCalls[routingKey] = window + [at]
        }
        let errors = Self.problems(event, routingKeys: routingKeys)
        guard errors.isEmpty else {
            return .json(
                ["status": "invalid event", "message": "Event object is invalid", "errors": .array(errors.map { .string($0) })],
                status: 400)
        }
        let action = event["event_action"]?.stringValue ?? ""
        let dedupKey = event["dedup_key"]?.stringValue ?? UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        event["dedup_key"] = .string(dedupKey)
        events.append(.object(event))
        apply(action: action, routingKey: routingKey, dedupKey: dedupKey, event: .object(event), at: at)
        return .json(["status": "success", "message": "Event processed", "dedup_key": .string(dedupKey)], status: 202)
    }

    /// One message per problem; PagerDuty's texts are free-form, these follow its
    /// "'<field>' is missing or blank" pattern.
    static func problems(_ e: [String: Value], routingKeys: Set<String>) -> [String] {
        var errors: [String] = []
        func blank(_ v: Value?) -> Bool { (v?.stringValue ?? "").trimmingCharacters(in: .whitespaces).isEmpty }
        if blank(e["routing_key"]) {
            errors.append("'routing_key' is missing or blank")
        } else if !routingKeys.contains(e["routing_key"]?.stringValue ?? "") {
            errors.append("Invalid routing key")
        }
        let action = e["event_action"]?.stringValue
        if blank(e["event_action"]) {
            errors.append("'event_action' is missing or blank")
        } else if !["trigger", "acknowledge", "resolve"].contains(action ?? "") {
            errors.append("'event_action' is invalid (must be one of trigger, acknowledge, resolve)")
        }
        if let key = e["dedup_key"], !key.isNull {
            if let s = key.stringValue {
                if s.count > 255 { errors.append("Length of 'dedup_key' is too long (maximum is 255 characters)") }
            } else {
                errors.append("'dedup_key' must be a string")
            }
        }
        if action == "acknowledge" || action == "resolve", blank(e["dedup_key"]) {
            errors.append("'dedup_key' is missing or blank")
        }
        if action == "trigger" {
            if case .object(let p)? = e["payload"] {
                if blank(p["summary"]) {
                    errors.append("'payload.summary' is missing or blank")
                } else if (p["summary"]?.stringValue ?? "").count > 1024 {
                    errors.append("Length of 'payload.summary' is too long (maximum is 1024 characters)")
                }
                if blank(p["source"]) { errors.append("'payload.source' is missing or blank") }
                if blank(p["severity"]) {
                    errors.append("'payload.severity' is missing or blank")
                } else if !["critical", "error", "warning", "info"].contains(p["severity"]?.stringValue ?? "") {
                    errors.append("'payload.severity' is invalid (must be one of critical, error, warning, info)")
                }
            } else {
                errors.append("'payload' is missing or blank")
            }
        }
        if let links = e["links"], !links.isNull {
            if let list = links.arrayValue {
                for (i, link) in list.enumerated() where blank(link["href"]) {
                    errors.append("'links[\(i)].href' is missing or blank")
                }
            } else {
                errors.append("'links' must be an array")
            }
        }
        return errors
    }

    // Dedup semantics, 02-Trigger-Events.md: one alert per key; after a resolve acknowledge and
    // resolve are dropped and a trigger opens a new alert; ack/resolve count only on the trigger's routing_key.
    func apply(action: String, routingKey: String, dedupKey: String, event: Value, at: Date) {
        let key = routingKey + "\u{0}" + dedupKey
        let open = current[key].flatMap { all[$0].status == .resolved ? nil : $0 }
        switch action {
        case "trigger":
            let payload = event["payload"]
            let title = payload?["summary"]?.stringValue ?? ""
            let severity = payload?["severity"]?.stringValue ?? "info"
            let links = event["links"]?.arrayValue
            if let i = open {
                all[i].title = title
                all[i].severity = severity
                all[i].triggers += 1
                all[i].updatedAt = at
                all[i].lastEvent = event
                if let links { all[i].links = links }
                return
            }
            all.append(
                Incident(
                    id: newID(), number: all.count + 1, routingKey: routingKey, dedupKey: dedupKey, status: .triggered,
                    title: title, severity: severity, triggers: 1, createdAt: at, updatedAt: at, lastStatusChangeAt: at,
                    resolvedAt: nil, lastEvent: event, links: links ?? []))
            current[key] = all.count - 1
        case "acknowledge":
            guard let i = open else { return }  // dropped
            if all[i].status != .acknowledged {
                all[i].status = .acknowledged
                all[i].lastStatusChangeAt = at
            }
            all[i].updatedAt = at
            all[i].lastEvent = event
        default:  // resolve
            guard let i = open else { return }  // dropped
            all[i].status = .resolved
            all[i].resolvedAt = at
            all[i].lastStatusChangeAt = at
            all[i].updatedAt = at
            all[i].lastEvent = event
        }
    }

    func newID() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        while true {
            let id = "P" + String((0..<6).map { _ in alphabet.randomElement()! })
            if !all.contains(where: { $0.id == id }) { return id }
        }
    }

    // REST API v2 `GET /incidents`: auth docs/REST-API/02-Authentication.md, paging 09-Pagination.md,
    // errors 14-Errors.md, rate limit 04-Rate-Limits.md; the incident shape of the official example.
    func listIncidents(_ r: DoubleRequest) -> DoubleResponse {
        if let status = restFailures.next() {
            return status == 429
                ? Self.restError(429, "Rate Limit Exceeded", code: 2020) : Self.restError(status, Self.reason(status), code: nil)
        }
        guard let auth = r.authorization, auth.hasPrefix("Token token="), apiTokens.contains(String(auth.dropFirst(12))) else {
            return Self.restError(401, "Authentication failed", code: 2006)
        }
        var problems: [String] = []
        let limitText = r.parameter("limit")
        let offsetText = r.parameter("offset")
        let limit = limitText.map { Int($0) ?? -1 } ?? 25
        let offset = offsetText.map { Int($0) ?? -1 } ?? 0
        if limit < 1 || limit > 100 { problems.append("Limit must be between 1 and 100") }
        if offset < 0 { problems.append("Offset must be a non-negative integer") }
        if offset + limit > 10000 { problems.append("Offset+limit must not exceed 10000") }
        let statuses = r.parameters("statuses[]")
        for s in statuses where Incident.Status(rawValue: s) == nil {
            problems.append("Statuses must be one of triggered, acknowledged, resolved")
        }
        let urgencies = r.parameters("urgencies[]")
        for u in urgencies where u != "high" && u != "low" { problems.append("Urgencies must be one of high, low") }
        guard problems.isEmpty else { return Self.restError(400, "Invalid Input Provided", code: 2001, errors: problems) }

        // The default window is the last 30 days; `date_range=all` lifts it.
        let at = now()
        var since = at.addingTimeInterval(-30 * 86400)
        var until = at.addingTimeInterval(1)
        if r.parameter("date_range") == "all" {
            since = .distantPast
            until = .distantFuture
        } else {
            let s = r.parameter("since").map(Timestamp.parse)
            let u = r.parameter("until").map(Timestamp.parse)
            if s == .some(nil) || u == .some(nil) {
                return Self.restError(400, "Invalid time values in 'since' and/or 'until' parameters", code: 2004)
            }
            if let s = s ?? nil { since = s }
            if let u = u ?? nil { until = u }
        }
        let serviceIDs = r.parameters("service_ids[]")
        let selected = all.filter { i in
            (statuses.isEmpty || statuses.contains(i.status.rawValue))
                && (urgencies.isEmpty || urgencies.contains(i.urgency))
                && (r.parameter("incident_key").map { $0 == i.dedupKey } ?? true)
                && (serviceIDs.isEmpty || serviceIDs.contains(services[i.routingKey]?.id ?? ""))
                && i.createdAt >= since && i.createdAt < until
        }
        let page = selected.dropFirst(offset).prefix(limit)
        return .json([
            "incidents": .array(page.map(json)), "limit": .int(Int64(limit)), "offset": .int(Int64(offset)),
            "more": .bool(offset + page.count < selected.count),
            "total": r.parameter("total") == "true" ? .int(Int64(selected.count)) : .null,
        ])
    }

    func json(_ i: Incident) -> Value {
        let service = services[i.routingKey] ?? (id: "PSVC000", summary: "Unknown")
        let resolved: Int64 = i.status == .resolved ? 1 : 0
        return [
            "id": .string(i.id), "type": "incident", "summary": .string("[#\(i.number)] \(i.title)"),
            "self": .string("https://api.pagerduty.com/incidents/\(i.id)"),
            "html_url": .string("https://meow-double.pagerduty.com/incidents/\(i.id)"),
            "incident_number": .int(Int64(i.number)), "title": .string(i.title),
            "created_at": .string(Timestamp.format(i.createdAt)), "updated_at": .string(Timestamp.format(i.updatedAt)),
            "status": .string(i.status.rawValue), "incident_key": .string(i.dedupKey),
            "service": [
                "id": .string(service.id), "type": "service_reference", "summary": .string(service.summary),
                "self": .string("https://api.pagerduty.com/services/\(service.id)"),
                "html_url": .string("https://meow-double.pagerduty.com/service-directory/\(service.id)"),
            ],
            "assignments": [], "last_status_change_at": .string(Timestamp.format(i.lastStatusChangeAt)),
            "resolved_at": i.resolvedAt.map { .string(Timestamp.format($0)) } ?? .null, "urgency": .string(i.urgency),
            "alert_counts": ["all": 1, "triggered": .int(1 - resolved), "resolved": .int(resolved)],
        ]
    }

    static func restError(_ status: Int, _ message: String, code: Int?, errors: [String] = []) -> DoubleResponse {
        var error: [String: Value] = ["message": .string(message)]
        if let code { error["code"] = .int(Int64(code)) }
        if !errors.isEmpty { error["errors"] = .array(errors.map { .string($0) }) }
        return .json(["error": .object(error)], status: status)
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: "HTTP \(status)"
        }
    }
}
