import Foundation
import MeowActions
import MeowModel
import MeowPlugins
import MeowRules
import MeowRuntime
import MeowStore

/// A request as the API's handlers see it (the transport is `HTTPServer`'s business).
public struct APIRequest: Sendable {
    public var method: String
    public var path: String
    /// Path parameters: `id`, and `rest` for the entity ids that contain slashes.
    public var parameters: [String: String] = [:]
    public var query: [(String, String)] = []
    public var headers: [String: String] = [:]
    public var body: Data = Data()
    public var caller: Caller = .anonymous

    public init(method: String, path: String) {
        self.method = method
        self.path = path
    }

    public func query(_ name: String) -> String? { query.last { $0.0 == name }?.1 }
    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// What a handler answers.
public enum APIResponse: Sendable {
    case json(Value, status: Int = 200, headers: [String: String] = [:])
    /// JSON already encoded (the application list, assembled from cached items).
    case jsonBytes([UInt8])
    case text(String, contentType: String, status: Int = 200)
    /// Server-sent events: what to write first, then each live event, until the client goes.
    case events(EventHub.Subscription, types: Set<String>?)
}

/// One route: the OpenAPI path template, the role it needs, its query parameters, its handler.
/// `API.routes` registers the server's routes and is compared to `openapi.json` by the tests.
public struct Route: Sendable {
    public var method: String
    /// The OpenAPI path: `/v1/applications/{id}`.
    public var path: String
    /// nil: no token needed (health, metrics, the OpenAPI document).
    public var role: ServerSettings.Role?
    /// Query parameters it accepts; others are refused (400), so a typo is not silently ignored.
    public var query: [String]
    /// Answers only from the published state: it gets an ETag (the state's version and the URL), and a
    /// matching `If-None-Match` is answered 304 without running the handler.
    public var cacheable = false
    var handler: @Sendable (APIRequest) async throws -> APIResponse
}

/// The sidecar API over a running meow (docs/api.md): every route's behaviour, transport-free.
public final class API: Sendable {
    public let runtime: Runtime
    public let config: MeowConfig
    public let store: (any MeowStore)?
    public let hub: EventHub
    let registry: PluginRegistry
    let started = Date()

    public init(runtime: Runtime, config: MeowConfig, store: (any MeowStore)?, hub: EventHub, registry: PluginRegistry = .builtin)
    {
        self.runtime = runtime
        self.config = config
        self.store = store
        self.hub = hub
        self.registry = registry
    }

    var state: StateView { runtime.published.current }
    let cache = ReadCache()
    /// The read index of the current published state.
    var readIndex: ReadIndex { cache.index(state) }

    public var routes: [Route] {
        let pageQuery = ["limit", "cursor"]
        return [
            Route(method: "GET", path: "/healthz", role: nil, query: [], handler: healthz),
            Route(method: "GET", path: "/readyz", role: nil, query: [], handler: readyz),
            Route(method: "GET", path: "/metrics", role: nil, query: [], handler: metrics),
            Route(method: "GET", path: "/openapi.json", role: nil, query: [], handler: openAPI),
            Route(method: "GET", path: "/v1/status", role: .viewer, query: [], handler: status),
            Route(method: "GET", path: "/v1/environments", role: .viewer, query: [], cacheable: true, handler: environments),
            Route(
                method: "GET", path: "/v1/clusters", role: .viewer, query: ["environment"] + pageQuery, cacheable: true,
                handler: clusters),
            Route(
                method: "GET", path: "/v1/applications", role: .viewer,
                query: ["environment", "cluster", "health", "sync", "project", "q", "has_decisions"] + pageQuery,
                cacheable: true, handler: applications),
            Route(method: "GET", path: "/v1/applications/{id}", role: .viewer, query: ["since"], handler: application),
            Route(
                method: "GET", path: "/v1/dags", role: .viewer, query: ["environment", "paused", "q"] + pageQuery,
                cacheable: true, handler: dags),
            Route(method: "GET", path: "/v1/dags/{id}", role: .viewer, query: [], cacheable: true, handler: dag),
            Route(
                method: "GET", path: "/v1/runs", role: .viewer, query: ["dag", "state", "environment"] + pageQuery,
                cacheable: true, handler: runs),
            Route(
                method: "GET", path: "/v1/task-instances", role: .viewer, query: ["run", "dag", "state"] + pageQuery,
                cacheable: true, handler: taskInstances),
            Route(
                method: "GET", path: "/v1/decisions", role: .viewer,
                query: ["type", "severity", "environment", "rule", "subject", "since", "until"] + pageQuery, cacheable: true,
                handler: decisions),
            Route(method: "GET", path: "/v1/rules", role: .viewer, query: [], cacheable: true, handler: rules),
            Route(method: "POST", path: "/v1/rules/reload", role: .operator, query: [], handler: reloadRules),
            Route(method: "POST", path: "/v1/rules/validate", role: .viewer, query: ["name"], handler: validateRule),
            Route(method: "POST", path: "/v1/simulate", role: .viewer, query: [], handler: simulate),
            Route(method: "GET", path: "/v1/actions", role: .viewer, query: ["state", "subject"] + pageQuery, handler: actions),
            Route(method: "POST", path: "/v1/actions", role: .operator, query: [], handler: propose),
            Route(method: "POST", path: "/v1/actions/pause", role: .admin, query: [], handler: pause),
            Route(method: "POST", path: "/v1/actions/resume", role: .admin, query: [], handler: resume),
            Route(method: "GET", path: "/v1/actions/{id}", role: .viewer, query: [], handler: action),
            Route(method: "POST", path: "/v1/actions/{id}/approve", role: .approver, query: [], handler: approve),
            Route(method: "POST", path: "/v1/actions/{id}/reject", role: .approver, query: [], handler: reject),
            Route(method: "GET", path: "/v1/incidents", role: .viewer, query: ["state"] + pageQuery, handler: incidents),
            Route(method: "GET", path: "/v1/incidents/{id}", role: .viewer, query: [], handler: incident),
            Route(method: "GET", path: "/v1/events", role: .viewer, query: ["types", "last_event_id"], handler: events),
        ]
    }

    // MARK: Health

    func healthz(_ r: APIRequest) async throws -> APIResponse {
        .json(["status": "ok", "uptime_seconds": .double(Date().timeIntervalSince(started).rounded())])
    }

    /// Ready when the rules were evaluated at least once and every enabled provider answered its last
    /// poll; 503 names the ones that did not.
    func readyz(_ r: APIRequest) async throws -> APIResponse {
        let view = state
        let providers = runtime.published.statuses.filter { $0.state != "disabled" }
        var problems: [Value] = []
        if view.evaluatedAt == nil { problems.append("the rules have not been evaluated yet") }
        for p in providers where p.state != "ok" {
            let why = p.state == "pending" ? "not polled yet" : "last poll failed: \(p.lastError ?? "")"
            problems.append(.string("provider \(p.name): \(why)"))
        }
        let body: Value = [
            "ready": .bool(problems.isEmpty), "problems": .array(problems),
            "providers": .array(
                providers.map { p in
                    [
                        "name": .string(p.name), "state": .string(p.state),
                        "last_success": p.lastSuccess.map { .string(Timestamp.format($0)) } ?? .null,
                        "age_seconds": p.lastSuccess.map { .double(Date().timeIntervalSince($0).rounded()) } ?? .null,
                    ]
                }),
            "evaluated_at": view.evaluatedAt.map { .string(Timestamp.format($0)) } ?? .null,
        ]
        return .json(body, status: problems.isEmpty ? 200 : 503)
    }

    func metrics(_ r: APIRequest) async throws -> APIResponse {
        .text(ServerMetrics.shared.render(), contentType: "text/plain; version=0.0.4; charset=utf-8")
    }

    func openAPI(_ r: APIRequest) async throws -> APIResponse {
        .text(try OpenAPIDocument.text(), contentType: "application/json")
    }

    /// The whole picture in one small document: revision, counts, providers, rules, actions mode.
    func status(_ r: APIRequest) async throws -> APIResponse {
        let view = state
        var kinds: [String: Int] = [:]
        for e in view.snapshot.entities { kinds[e.kind.rawValue, default: 0] += 1 }
        let pause = try await store?.pauseState()
        return .json(
            [
                "revision": .int(Int64(view.snapshot.revision)),
                "version": .int(Int64(view.version)),
                "evaluated_at": view.evaluatedAt.map { .string(Timestamp.format($0)) } ?? .null,
                "entities": .object(kinds.mapValues { .int(Int64($0)) }),
                "decisions": Self.counts(view.decisions),
                "rules": .int(Int64(view.rules.count)),
                "rule_problems": .int(Int64(view.ruleProblems.count)),
                "providers": try ValueEncoder(dateStrategy: .iso8601).encode(runtime.published.statuses),
                "actions": [
                    "mode": .string(config.actions.mode.rawValue),
                    "paused": .bool(pause?.paused ?? config.actions.paused),
                ],
                "caller": ["name": .string(r.caller.name), "role": r.caller.role.map { .string($0.rawValue) } ?? .null],
                "last_event_id": .string(hub.lastID),
            ])
    }
}

extension API {
    /// Encodes with RFC 3339 times (the snapshot format), not the Unix seconds rules see.
    static func encode<T: Encodable>(_ value: T) throws -> Value {
        try ValueEncoder(dateStrategy: .iso8601).encode(value)
    }

    /// The request's JSON body as an object; 415/400 with the reason otherwise.
    static func jsonBody(_ r: APIRequest) throws -> [String: Value] {
        if let type = r.header("content-type"), !type.lowercased().hasPrefix("application/json") {
            throw Problem(415, "unsupported-media-type", "expected Content-Type: application/json, got \(type)")
        }
        guard !r.body.isEmpty else { throw Problem.badRequest("expected a JSON object in the request body") }
        let v: Value
        do {
            v = try JSONDecoder().decode(Value.self, from: r.body)
        } catch {
            throw Problem.badRequest("the body is not valid JSON: \(Self.describe(error))")
        }
        guard case .object(let o) = v else { throw Problem.badRequest("expected a JSON object, got \(v.typeName)") }
        return o
    }

    static func describe(_ error: any Error) -> String {
        if case DecodingError.dataCorrupted(let c) = error {
            return (c.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String ?? c.debugDescription
        }
        return "\(error)"
    }

    /// An integer query parameter within bounds, or 400 naming it.
    static func int(_ r: APIRequest, _ name: String, default d: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = r.query(name) else { return d }
        guard let i = Int(text), range.contains(i) else {
            throw Problem.badRequest(
                "query parameter \(name): expected an integer from \(range.lowerBound) to \(range.upperBound), got \"\(text)\"",
                field: name)
        }
        return i
    }

    /// `true` or `false`, or 400 naming the parameter.
    static func bool(_ r: APIRequest, _ name: String) throws -> Bool? {
        guard let text = r.query(name) else { return nil }
        guard let b = Bool(text) else {
            throw Problem.badRequest("query parameter \(name): expected true or false, got \"\(text)\"", field: name)
        }
        return b
    }

    /// A time query parameter: RFC 3339, or a duration ago (`1h`).
    static func time(_ r: APIRequest, _ name: String) throws -> Date? {
        guard let text = r.query(name) else { return nil }
        if let t = Timestamp.parse(text) { return t }
        if let d = Timestamp.parseDuration(text) { return Date().addingTimeInterval(-d) }
        throw Problem.badRequest(
            "query parameter \(name): expected an RFC 3339 time (2026-11-27T10:00:00Z) or a duration ago (1h), got \"\(text)\"",
            field: name)
    }

    /// One of a fixed set of values, or 400 listing them.
    static func oneOf(_ r: APIRequest, _ name: String, _ allowed: [String]) throws -> Set<String>? {
        guard let text = r.query(name) else { return nil }
        let values = Set(text.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) })
        if let bad = values.first(where: { !allowed.contains($0) }) {
            throw Problem.badRequest(
                "query parameter \(name): unknown value \"\(bad)\" (one of: \(allowed.joined(separator: ", ")))", field: name)
        }
        return values
    }
}
