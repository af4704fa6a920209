import Foundation
import MeowModel

/// A stand-in for Opsgenie's Alert API (`/v2/alerts`), built from https://docs.opsgenie.com/docs/alert-api
/// and the opsgenie/opsgenie-oas spec (`paths/alert.yaml`, `definitions/alert.yaml`).
///
/// `GenieKey` auth (401 otherwise); create validates the documented field limits (422 with one error
/// per field, 400 for a body that is not JSON) and answers 202 "Request will be processed"; an open
/// alert with the same alias is deduplicated (`count` grows). Close and acknowledge by id, alias or
/// tiny id answer 202 even for an unknown alert, as the API processes requests asynchronously; the
/// outcome is in `GET /v2/alerts/requests/{requestId}`. `failNext` injects 429/5xx answers.
///
///     let og = OpsgenieDouble(apiKeys: ["og-key"])
///     let port = try await og.start()
///     // POST http://127.0.0.1:\(port)/v2/alerts  Authorization: GenieKey og-key  {"message":"...","alias":"..."}
///     let alerts = await og.alerts()
public actor OpsgenieDouble {
    public struct Alert: Sendable, Equatable {
        public enum Status: String, Sendable { case open, closed }

        public var id: String
        public var tinyId: String
        /// The posted alias; the alert's id when none was posted.
        public var alias: String
        public var message: String
        public var description: String?
        public var status: Status
        public var acknowledged: Bool
        /// Create requests deduplicated into this alert, the first one included.
        public var count: Int
        public var priority: String
        public var tags: [String]
        public var details: [String: String]
        public var entity: String?
        public var source: String
        public var createdAt: Date
        public var updatedAt: Date
        public var lastOccurredAt: Date
        public var acknowledgedAt: Date?
        public var closedAt: Date?
        /// The create request's body, as posted.
        public var request: Value
    }

    /// What `GET /v2/alerts/requests/{requestId}` reports about one request.
    struct RequestStatus {
        var action: String
        var success: Bool
        var status: String
        var alertId: String?
        var alias: String?
        var processedAt: Date
    }

    let apiKeys: Set<String>
    let now: @Sendable () -> Date
    var all: [Alert] = []
    var statuses: [String: RequestStatus] = [:]
    var failures = FailureQueue()
    var server: LoopbackServer?
    /// Every request, refused ones included.
    public private(set) var requests: [DoubleRequest] = []

    public init(apiKeys: Set<String>, now: @escaping @Sendable () -> Date = { Date() }) {
        self.apiKeys = apiKeys
        self.now = now
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

    /// The next `count` requests get `status` (429, 500, 502, 503) and change nothing.
    public func failNext(_ count: Int, status: Int) { failures.add(count, status: status) }

    public func alerts() -> [Alert] { all }

    // MARK: Serving

    func respond(_ r: DoubleRequest) async -> DoubleResponse {
        requests.append(r)
        let requestId = UUID().uuidString.lowercased()
        if let status = failures.next() {
            let message = status == 429 ? "Too many requests" : "Internal Server Error"  // texts unverified
            return Self.answer(["message": .string(message)], status: status, took: 0.0, requestId: requestId)
        }
        // Auth, https://docs.opsgenie.com/docs/authentication: `Authorization: GenieKey <key>`.
        guard let auth = r.authorization, auth.hasPrefix("GenieKey "), apiKeys.contains(String(auth.dropFirst(9))) else {
            return Self.answer(["message": "Could not authenticate"], status: 401, took: 0.0, requestId: requestId)
        }
        // An alias in the path is percent-encoded by the client (it may contain "/").
        let parts = r.path.split(separator: "/").map { $0.removingPercentEncoding ?? String($0) }
        guard parts.count >= 2, parts[0] == "v2", parts[1] == "alerts" else { return Self.notFound(requestId, "Not Found") }
        switch (r.method, parts.count) {
        case ("POST", 2): return create(r, requestId: requestId)
        case ("GET", 2): return list(r, requestId: requestId)
        case ("GET", 4) where parts[2] == "requests": return requestStatus(parts[3], requestId: requestId)
        case ("GET", 3): return get(parts[2], r, requestId: requestId)
        case ("POST", 4) where parts[3] == "close" || parts[3] == "acknowledge":
            return act(parts[3], on: parts[2], r, requestId: requestId)
        default: return Self.notFound(requestId, "Not Found")
        }
    }

    // Create Alert, https://docs.opsgenie.com/docs/alert-api#create-alert ("JSON Body Fields ... Limit").
    func create(_ r: DoubleRequest, requestId: String) -> DoubleResponse {
        guard case .object(let body)? = r.json else { return Self.unparsable(requestId) }
        let errors = Self.problems(body)
        guard errors.isEmpty else {
            return Self.answer(
                [
                    "message": "Request body is not processable. Please check the errors.",
                    "errors": .object(errors.mapValues { .string($0) }),
                ], status: 422, took: 0.005, requestId: requestId)
        }
        let at = now()
        let alias = body["alias"]?.stringValue
        if let alias, let i = all.firstIndex(where: { $0.alias == alias && $0.status == .open }) {
            all[i].count += 1
            all[i].lastOccurredAt = at
            all[i].updatedAt = at
            statuses[requestId] = RequestStatus(
                action: "Create", success: true, status: "Alert deduplicated", alertId: all[i].id, alias: alias, processedAt: at)
            return Self.accepted(requestId)
        }
        let id = UUID().uuidString.lowercased() + "-" + String(Int64(at.timeIntervalSince1970 * 1000))
        let alert = Alert(
            id: id, tinyId: String(all.count + 1), alias: alias ?? id, message: body["message"]?.stringValue ?? "",
            description: body["description"]?.stringValue, status: .open, acknowledged: false, count: 1,
            priority: body["priority"]?.stringValue ?? "P3", tags: body["tags"]?.arrayValue?.compactMap(\.stringValue) ?? [],
            details: (body["details"]?.objectValue ?? [:]).compactMapValues(\.stringValue), entity: body["entity"]?.stringValue,
            source: body["source"]?.stringValue ?? "127.0.0.1", createdAt: at, updatedAt: at, lastOccurredAt: at,
            acknowledgedAt: nil, closedAt: nil, request: .object(body))
        all.append(alert)
        statuses[requestId] = RequestStatus(
            action: "Create", success: true, status: "Created alert", alertId: id, alias: alert.alias, processedAt: at)
        return Self.accepted(requestId)
    }

    /// One message per field, keyed like Opsgenie's 422 `errors` (`priority`, `teams[0]`); only the
    /// priority text is a verified Opsgenie message.
    static func problems(_ b: [String: Value]) -> [String: String] {
        var errors: [String: String] = [:]
        func text(_ field: String, max: Int, required: Bool = false) {
            switch b[field] {
            case nil, .null?:
                if required { errors[field] = "can not be empty" }
            case .string(let s)?:
                if required && s.trimmingCharacters(in: .whitespaces).isEmpty {
                    errors[field] = "can not be empty"
                } else if s.count > max {
                    errors[field] = "should be at most \(max) characters"
                }
            default: errors[field] = "should be a string"
            }
        }
        text("message", max: 130, required: true)
        text("alias", max: 512)
        text("description", max: 15000)
        text("entity", max: 512)
        text("source", max: 100)
        text("user", max: 100)
        text("note", max: 25000)
        func strings(_ field: String, count: Int, each: Int) {
            guard let v = b[field], !v.isNull else { return }
            guard let list = v.arrayValue else { return errors[field] = "should be an array" }
            if list.count > count { errors[field] = "should have at most \(count) items" }
            for (i, item) in list.enumerated() {
                guard let s = item.stringValue else {
                    errors["\(field)[\(i)]"] = "should be a string"
                    continue
                }
                if s.count > each { errors["\(field)[\(i)]"] = "should be at most \(each) characters" }
            }
        }
        strings("tags", count: 20, each: 50)
        strings("actions", count: 10, each: 50)
        for field in ["responders", "visibleTo"] {
            guard let v = b[field], !v.isNull else { continue }
            guard let list = v.arrayValue else {
                errors[field] = "should be an array"
                continue
            }
            if list.count > 50 { errors[field] = "should have at most 50 items" }
            for (i, item) in list.enumerated() {
                if !["team", "user", "escalation", "schedule"].contains(item["type"]?.stringValue ?? "") {
                    errors["\(field)[\(i)].type"] = "should be one of [ team, user, escalation, schedule ]"
                } else if item["id"] == nil && item["name"] == nil && item["username"] == nil {
                    errors["\(field)[\(i)]"] = "id, name or username should be provided"
                }
            }
        }
        if let v = b["details"], !v.isNull {
            if let map = v.objectValue {
                if map.values.contains(where: { $0.stringValue == nil }) {
                    errors["details"] = "values should be strings"
                } else if map.reduce(0, { $0 + $1.key.count + ($1.value.stringValue ?? "").count }) > 8000 {
                    errors["details"] = "should be at most 8000 characters in total"
                }
            } else {
                errors["details"] = "should be a map of strings"
            }
        }
        if let p = b["priority"], !p.isNull, !["P1", "P2", "P3", "P4", "P5"].contains(p.stringValue ?? "") {
            errors["priority"] = "should be one of [ P1, P2, P3, P4, P5 ]"
        }
        return errors
    }

    // Close / Acknowledge Alert, https://docs.opsgenie.com/docs/alert-api#close-alert: 202 whatever the
    // outcome; the request status tells.
    func act(_ action: String, on identifier: String, _ r: DoubleRequest, requestId: String) -> DoubleResponse {
        if !r.body.isEmpty, r.json?.objectValue == nil { return Self.unparsable(requestId) }
        guard let type = Self.identifierType(r) else { return Self.badIdentifierType(requestId) }
        let at = now()
        let name = action == "close" ? "Close" : "Acknowledge"
        guard let i = index(of: identifier, type: type) else {
            statuses[requestId] = RequestStatus(
                action: name, success: false, status: "Alert does not exist", alertId: nil, alias: nil, processedAt: at)
            return Self.accepted(requestId)
        }
        if action == "close", all[i].status == .open {
            all[i].status = .closed
            all[i].closedAt = at
            all[i].updatedAt = at
        } else if action == "acknowledge", all[i].status == .open, !all[i].acknowledged {
            all[i].acknowledged = true
            all[i].acknowledgedAt = at
            all[i].updatedAt = at
        }
        statuses[requestId] = RequestStatus(
            action: name, success: true, status: action == "close" ? "Closed alert" : "Acknowledged alert", alertId: all[i].id,
            alias: all[i].alias, processedAt: at)
        return Self.accepted(requestId)
    }

    /// By alias: the open alert with that alias, else the latest one.
    func index(of identifier: String, type: String) -> Int? {
        switch type {
        case "alias":
            all.lastIndex { $0.alias == identifier && $0.status == .open } ?? all.lastIndex { $0.alias == identifier }
        case "tiny": all.lastIndex { $0.tinyId == identifier }
        default: all.firstIndex { $0.id == identifier }
        }
    }

    // Get Alert, https://docs.opsgenie.com/docs/alert-api#get-alert.
    func get(_ identifier: String, _ r: DoubleRequest, requestId: String) -> DoubleResponse {
        guard let type = Self.identifierType(r) else { return Self.badIdentifierType(requestId) }
        guard let i = index(of: identifier, type: type) else { return Self.notFound(requestId, "Alert does not exist") }
        return Self.answer(["data": json(all[i], full: true)], status: 200, took: 0.01, requestId: requestId)
    }

    // List Alerts, https://docs.opsgenie.com/docs/alert-api#list-alerts. Of the search syntax only
    // `status:open|closed` and `alias:X` are understood; other queries get 422 rather than a wrong list.
    func list(_ r: DoubleRequest, requestId: String) -> DoubleResponse {
        let limit = Int(r.parameter("limit") ?? "20") ?? -1
        let offset = Int(r.parameter("offset") ?? "0") ?? -1
        var errors: [String: Value] = [:]
        if limit < 1 || limit > 100 { errors["limit"] = "should be between 1 and 100" }
        if offset < 0 { errors["offset"] = "should be a non-negative integer" }
        var selected = all
        let query = (r.parameter("query") ?? "").trimmingCharacters(in: .whitespaces)
        if !query.isEmpty {
            let pair = query.split(maxSplits: 1, whereSeparator: { $0 == ":" || $0 == "=" }).map(String.init)
            switch (pair.first, pair.count) {
            case ("status", 2) where ["open", "closed"].contains(pair[1]): selected = all.filter { $0.status.rawValue == pair[1] }
            case ("alias", 2): selected = all.filter { $0.alias == pair[1] }
            default: errors["query"] = "not understood by this double (status:open|closed, alias:X)"
            }
        }
        guard errors.isEmpty else {
            return Self.answer(
                ["message": "Request body is not processable. Please check the errors.", "errors": .object(errors)], status: 422,
                took: 0.005, requestId: requestId)
        }
        if r.parameter("order") != "asc" { selected.reverse() }  // sort=createdAt, order=desc by default
        let page = Array(selected.dropFirst(offset).prefix(limit))
        func link(_ o: Int) -> Value { .string("https://api.opsgenie.com/v2/alerts?limit=\(limit)&sort=createdAt&offset=\(o)") }
        var paging: [String: Value] = ["first": link(0), "last": link(max(0, (selected.count - 1) / limit * limit))]
        if offset + page.count < selected.count { paging["next"] = link(offset + limit) }
        if offset > 0 { paging["prev"] = link(max(0, offset - limit)) }
        return Self.answer(
            ["data": .array(page.map { json($0, full: false) }), "paging": .object(paging)], status: 200, took: 0.01,
            requestId: requestId)
    }

    // Get Request Status, https://docs.opsgenie.com/docs/alert-api#get-request-status.
    func requestStatus(_ id: String, requestId: String) -> DoubleResponse {
        guard let s = statuses[id] else { return Self.notFound(requestId, "Request does not exist") }
        var data: [String: Value] = [
            "success": .bool(s.success), "isSuccess": .bool(s.success), "action": .string(s.action),
            "processedAt": .string(Self.time(s.processedAt)), "integrationId": "meow-double-integration",
            "status": .string(s.status),
        ]
        if let a = s.alertId { data["alertId"] = .string(a) }
        if let a = s.alias { data["alias"] = .string(a) }
        return Self.answer(["data": .object(data)], status: 200, took: 0.01, requestId: requestId)
    }

    /// An alert as `definitions/alert.yaml` has it: the list's BaseAlert, or the full Alert of a get.
    func json(_ a: Alert, full: Bool) -> Value {
        var report: [String: Value] = [:]
        if let at = a.acknowledgedAt {
            report["ackTime"] = .int(Int64(at.timeIntervalSince(a.createdAt) * 1000))
            report["acknowledgedBy"] = "meow-double"
        }
        if let at = a.closedAt {
            report["closeTime"] = .int(Int64(at.timeIntervalSince(a.createdAt) * 1000))
            report["closedBy"] = "meow-double"
        }
        var o: [String: Value] = [
            "id": .string(a.id), "tinyId": .string(a.tinyId), "alias": .string(a.alias), "message": .string(a.message),
            "status": .string(a.status.rawValue), "acknowledged": .bool(a.acknowledged), "isSeen": false,
            "tags": .array(a.tags.map { .string($0) }), "snoozed": false, "count": .int(Int64(a.count)),
            "lastOccurredAt": .string(Self.time(a.lastOccurredAt)), "createdAt": .string(Self.time(a.createdAt)),
            "updatedAt": .string(Self.time(a.updatedAt)), "source": .string(a.source), "owner": "",
            "priority": .string(a.priority), "responders": a.request["responders"] ?? [],
            "integration": ["id": "meow-double-integration", "name": "API", "type": "API"], "report": .object(report),
        ]
        if full {
            o["actions"] = a.request["actions"] ?? []
            o["entity"] = .string(a.entity ?? "")
            o["description"] = .string(a.description ?? "")
            o["details"] = .object(a.details.mapValues { .string($0) })
        }
        return .object(o)
    }

    static func identifierType(_ r: DoubleRequest) -> String? {
        let t = r.parameter("identifierType") ?? "id"
        return ["id", "alias", "tiny"].contains(t) ? t : nil
    }

    static func time(_ d: Date) -> String { d.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)) }

    /// Every Opsgenie answer carries `took` and `requestId` (`definitions/common.yaml`), and the
    /// `X-Request-ID` header (`responses/common.yaml`).
    static func answer(_ body: [String: Value], status: Int, took: Double, requestId: String) -> DoubleResponse {
        var body = body
        body["took"] = .double(took)
        body["requestId"] = .string(requestId)
        return .json(.object(body), status: status, headers: [("X-Request-ID", requestId)])
    }

    static func accepted(_ requestId: String) -> DoubleResponse {
        answer(["result": "Request will be processed"], status: 202, took: 0.1, requestId: requestId)
    }

    static func unparsable(_ requestId: String) -> DoubleResponse {
        answer(["message": "Request body is not valid JSON"], status: 400, took: 0.0, requestId: requestId)  // text unverified
    }

    static func badIdentifierType(_ requestId: String) -> DoubleResponse {
        answer(
            [
                "message": "Request body is not processable. Please check the errors.",
                "errors": ["identifierType": "should be one of [ id, alias, tiny ]"],
            ], status: 422, took: 0.005, requestId: requestId)
    }

    /// 404 with an ErrorResponse; Opsgenie's texts for it are unverified.
    static func notFound(_ requestId: String, _ message: String) -> DoubleResponse {
        answer(["message": .string(message)], status: 404, took: 0.0, requestId: requestId)
    }
}
