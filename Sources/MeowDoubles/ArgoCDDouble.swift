import Foundation
import MeowModel

/// A faithful stand-in for Argo CD's API server (`/api/v1`), for tests and for trying meow by hand
/// (`meow-doubles argocd`). Responses have the shapes of Argo CD's documented REST API (the
/// gRPC-gateway JSON of its v1alpha1 types); errors have its error body `{"error","code","message"}`
/// with the gRPC code Argo CD uses (16 unauthenticated, 7 permission denied, 5 not found, 9 failed
/// precondition).
///
/// Behaviour that tests can switch on: bearer-token auth (401 without or with a wrong token, 403 for
/// a token without rights), server-side pagination (`offset`/`limit`) or a server that ignores it,
/// injected failures (any status, a delay, malformed JSON), and actions that change the state:
/// sync, rollback (refused while auto-sync is on, as Argo CD does), terminate operation, refresh.
public actor ArgoCDDouble {
    public struct Fault: Sendable {
        public enum Kind: Sendable {
            /// Answer with this HTTP status and Argo CD's error body.
            case status(Int)
            /// Wait this long before answering.
            case delay(Double)
            /// Answer 200 with a body that is not valid JSON.
            case malformed
            /// Answer 200 with JSON of the wrong shape (`items` is a string).
            case wrongShape
        }
        public var kind: Kind
        /// Only requests whose path starts with this (nil: all).
        public var pathPrefix: String?
        /// How many requests it affects (nil: until cleared).
        public var remaining: Int?

        public init(_ kind: Kind, pathPrefix: String? = nil, count: Int? = nil) {
            self.kind = kind
            self.pathPrefix = pathPrefix
            self.remaining = count
        }
    }

    public struct RequestRecord: Sendable {
        public var method: String
        public var path: String
        public var query: [(String, String)]
        public var authorization: String?
        public var body: Value?
    }

    public private(set) var applications: [Value]
    public private(set) var clusters: [Value]
    /// Commit metadata by revision.
    public private(set) var revisions: [String: Value]
    /// Accepted bearer tokens; empty accepts any request.
    public var tokens: Set<String>
    /// Tokens that authenticate but may do nothing (403).
    public var readOnlyTokens: Set<String> = []
    /// false: the server ignores `offset`/`limit` and returns every application (older Argo CD).
    public var supportsPagination = true
    public private(set) var requests: [RequestRecord] = []
    var faults: [Fault] = []
    var server: LoopbackServer?
    public private(set) var port: Int?

    public init(fixture: Fixture, tokens: Set<String> = ["test-token"]) {
        applications = fixture.applications
        clusters = fixture.clusters
        revisions = fixture.revisions
        self.tokens = tokens
    }

    // MARK: Control

    public func inject(_ fault: Fault) { faults.append(fault) }
    public func clearFaults() { faults.removeAll() }
    public func clearRequests() { requests.removeAll() }
    public func setPagination(_ on: Bool) { supportsPagination = on }
    public func setTokens(_ t: Set<String>) { tokens = t }
    public func setReadOnlyTokens(_ t: Set<String>) { readOnlyTokens = t }

    /// Replaces one application (matched by metadata.name) or adds it.
    public func upsert(application: Value) {
        let name = application["metadata"]?["name"]?.stringValue
        if let i = applications.firstIndex(where: { $0["metadata"]?["name"]?.stringValue == name }) {
            applications[i] = application
        } else {
            applications.append(application)
        }
    }

    public func remove(application name: String) {
        applications.removeAll { $0["metadata"]?["name"]?.stringValue == name }
    }

    public func application(_ name: String) -> Value? {
        applications.first { $0["metadata"]?["name"]?.stringValue == name }
    }

    /// Starts listening on 127.0.0.1 (port 0: any free port) and returns the port. With `tls` (PEM files of
    /// a certificate chain and its key) it serves HTTPS.
    public func start(port: Int = 0, tls: (certificate: String, key: String)? = nil) async throws -> Int {
        let s = try await LoopbackServer.start(port: port, tls: tls) { [self] r in
            let response = await self.respond(
                method: r.method, path: r.path, query: r.query, authorization: r.authorization, body: r.body)
            return response
        }
        server = s
        self.port = s.port
        return s.port
    }

    public func stop() async {
        await server?.stop()
        server = nil
    }

    public var baseURL: String { server?.baseURL ?? "http://127.0.0.1:\(port ?? 0)" }

    // MARK: Handling

    func respond(method: String, path: String, query params: [(String, String)], authorization: String?, body: Data) async
        -> DoubleResponse
    {
        let bodyValue = body.isEmpty ? nil : try? JSONDecoder().decode(Value.self, from: body)
        requests.append(RequestRecord(method: method, path: path, query: params, authorization: authorization, body: bodyValue))

        if let i = faults.firstIndex(where: { f in f.pathPrefix.map { path.hasPrefix($0) } ?? true }) {
            let fault = faults[i]
            if let r = fault.remaining {
                if r <= 1 { faults.remove(at: i) } else { faults[i].remaining = r - 1 }
            }
            switch fault.kind {
            case .status(let code):
                return Self.error(code, Self.statusMessage(code))
            case .delay(let seconds):
                try? await Task.sleep(for: .seconds(seconds))
            case .malformed:
                return Self.raw(200, "{\"metadata\":{},\"items\":[{\"metadata\":{\"name\":\"trunc")
            case .wrongShape:
                return Self.raw(200, "{\"metadata\":{},\"items\":\"not a list\"}")
            }
        }
        if path == "/healthz" { return Self.raw(200, "ok", json: false) }
        if path == "/api/version" { return Self.json(.object(["Version": .string("v2.13.1+double")])) }
        guard path.hasPrefix("/api/v1/") else { return Self.error(404, "Not Found") }
        // userinfo answers without a session: loggedIn tells whether the token is valid
        if path == "/api/v1/session/userinfo" {
            let token = authorization.flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
            let valid = token.map { tokens.contains($0) || readOnlyTokens.contains($0) } ?? false
            return Self.json(
                valid
                    ? .object([
                        "loggedIn": .bool(true), "username": .string("meow"), "iss": .string("argocd"), "groups": .array([]),
                    ])
                    : .object(["loggedIn": .bool(false)]))
        }
        // Auth: Argo CD answers 401 with code 16 for a missing or invalid token.
        if !tokens.isEmpty || !readOnlyTokens.isEmpty {
            guard let auth = authorization, auth.hasPrefix("Bearer ") else {
                return Self.error(401, "no session information")
            }
            let token = String(auth.dropFirst(7))
            if readOnlyTokens.contains(token) { return Self.error(403, "permission denied") }
            guard tokens.contains(token) else { return Self.error(401, "invalid session: token signature is invalid") }
        }
        let parts = path.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
        // parts: ["api", "v1", resource, ...]
        switch (method, Array(parts.dropFirst(2))) {
        case ("GET", ["applications"]):
            return listApplications(params)
        case ("GET", ["clusters"]):
            return Self.json(.object(["metadata": .object([:]), "items": .array(clusters)]))
        case ("GET", let p) where p.count == 2 && p[0] == "applications":
            guard let app = application(p[1]) else { return Self.notFound(p[1]) }
            if params.contains(where: { $0.0 == "refresh" }) { return Self.json(refreshed(p[1], app)) }
            return Self.json(app)
        case ("GET", let p) where p.count == 5 && p[0] == "applications" && p[2] == "revisions" && p[4] == "metadata":
            guard application(p[1]) != nil else { return Self.notFound(p[1]) }
            guard let meta = revisions[p[3]] else {
                return Self.error(404, "rpc error: code = NotFound desc = unable to resolve revision \(p[3])")
            }
            return Self.json(meta)
        case ("POST", let p) where p.count == 3 && p[0] == "applications" && p[2] == "sync":
            return sync(p[1], bodyValue ?? .object([:]))
        case ("POST", let p) where p.count == 3 && p[0] == "applications" && p[2] == "rollback":
            return rollback(p[1], bodyValue ?? .object([:]))
        case ("DELETE", let p) where p.count == 3 && p[0] == "applications" && p[2] == "operation":
            return terminate(p[1])
        default:
            return Self.error(404, "Not Found")
        }
    }

    func listApplications(_ params: [(String, String)]) -> DoubleResponse {
        var items = applications
        let projects = params.filter { $0.0 == "projects" || $0.0 == "project" }.map(\.1)
        if !projects.isEmpty { items = items.filter { projects.contains($0["spec"]?["project"]?.stringValue ?? "") } }
        if let selector = params.first(where: { $0.0 == "selector" })?.1 {
            let pairs = selector.split(separator: ",").map { $0.split(separator: "=", maxSplits: 1).map(String.init) }
            items = items.filter { app in
                pairs.allSatisfy { kv in kv.count == 2 && app["metadata"]?["labels"]?[kv[0]]?.stringValue == kv[1] }
            }
        }
        items.sort { ($0["metadata"]?["name"]?.stringValue ?? "") < ($1["metadata"]?["name"]?.stringValue ?? "") }
        if supportsPagination, let limit = params.first(where: { $0.0 == "limit" }).flatMap({ Int($0.1) }), limit > 0 {
            let offset = params.first(where: { $0.0 == "offset" }).flatMap { Int($0.1) } ?? 0
            items = Array(items.dropFirst(offset).prefix(limit))
        }
        return Self.json(
            .object(["metadata": .object(["resourceVersion": .string("\(1000 + requests.count)")]), "items": .array(items)]))
    }

    func refreshed(_ name: String, _ app: Value) -> Value {
        guard case .object(var a) = app, case .object(var status)? = a["status"] else { return app }
        status["reconciledAt"] = .string(Timestamp.format(Date()))
        a["status"] = .object(status)
        upsert(application: .object(a))
        return .object(a)
    }

    func sync(_ name: String, _ body: Value) -> DoubleResponse {
        guard let app = application(name), case .object(var a) = app else { return Self.notFound(name) }
        let target = a["spec"]?["source"]?["targetRevision"]?.stringValue ?? "HEAD"
        let revision = body["revision"]?.stringValue ?? Fixture.sha("\(name)/\(target)")
        if body["dryRun"]?.boolValue == true {
            return Self.json(app)
        }
        var status = a["status"]?.objectValue ?? [:]
        let now = Timestamp.format(Date())
        var history = status["history"]?.arrayValue ?? []
        let nextID = (history.compactMap { $0["id"]?.intValue }.max() ?? -1) + 1
        history.append(
            .object([
                "id": .int(nextID), "revision": .string(revision), "deployedAt": .string(now), "deployStartedAt": .string(now),
            ]))
        status["history"] = .array(history)
        status["sync"] = .object(["status": .string("Synced"), "revision": .string(revision)])
        status["operationState"] = .object([
            "operation": .object([
                "sync": .object(["revision": .string(revision), "prune": .bool(body["prune"]?.boolValue ?? false)])
            ]),
            "phase": .string("Succeeded"), "message": .string("successfully synced (all tasks run)"),
            "syncResult": .object(["revision": .string(revision)]), "startedAt": .string(now), "finishedAt": .string(now),
        ])
        status["health"] = .object(["status": .string("Healthy")])
        a["status"] = .object(status)
        upsert(application: .object(a))
        return Self.json(.object(a))
    }

    func rollback(_ name: String, _ body: Value) -> DoubleResponse {
        guard let app = application(name), case .object(var a) = app else { return Self.notFound(name) }
        if a["spec"]?["syncPolicy"]?["automated"] != nil {
            return Self.error(400, "rollback cannot be initiated when auto-sync is enabled")
        }
        guard let id = body["id"]?.intValue,
            let entry = a["status"]?["history"]?.arrayValue?.first(where: { $0["id"]?.intValue == id }),
            let revision = entry["revision"]?.stringValue
        else {
            return Self.error(
                400, "application \(name) does not have deployment with id \(body["id"]?.intValue.map(String.init) ?? "?")")
        }
        var status = a["status"]?.objectValue ?? [:]
        let now = Timestamp.format(Date())
        status["sync"] = .object(["status": .string("OutOfSync"), "revision": .string(revision)])
        status["operationState"] = .object([
            "operation": .object(["sync": .object(["revision": .string(revision)])]), "phase": .string("Succeeded"),
            "message": .string("successfully synced (all tasks run)"), "syncResult": .object(["revision": .string(revision)]),
            "startedAt": .string(now), "finishedAt": .string(now),
        ])
        a["status"] = .object(status)
        upsert(application: .object(a))
        return Self.json(.object(a))
    }

    func terminate(_ name: String) -> DoubleResponse {
        guard let app = application(name), case .object(var a) = app else { return Self.notFound(name) }
        guard a["status"]?["operationState"]?["phase"]?.stringValue == "Running" else {
            return Self.error(400, "Unable to terminate operation. No operation is in progress")
        }
        var status = a["status"]?.objectValue ?? [:]
        if case .object(var op)? = status["operationState"] {
            op["phase"] = .string("Terminating")
            status["operationState"] = .object(op)
        }
        a["status"] = .object(status)
        upsert(application: .object(a))
        return Self.json(.object([:]))
    }

    // MARK: Responses

    static func grpcCode(_ status: Int) -> Int {
        switch status {
        case 400: 9  // FailedPrecondition / InvalidArgument (3); Argo CD uses 9 for refused operations
        case 401: 16
        case 403: 7
        case 404: 5
        case 409: 6
        case 429: 8
        case 503: 14
        case 504: 4
        default: 13
        }
    }

    static func statusMessage(_ code: Int) -> String {
        switch code {
        case 401: "no session information"
        case 403: "permission denied"
        case 404: "Not Found"
        case 429: "too many requests"
        case 500: "rpc error: code = Internal desc = internal error"
        case 502: "upstream connect error or disconnect/reset before headers"
        case 503: "rpc error: code = Unavailable desc = connection error"
        case 504: "upstream request timeout"
        default: "error \(code)"
        }
    }

    static func notFound(_ name: String) -> DoubleResponse {
        error(404, "applications.argoproj.io \"\(name)\" not found")
    }

    static func error(_ status: Int, _ message: String) -> DoubleResponse {
        let body: Value = .object(["error": .string(message), "code": .int(Int64(grpcCode(status))), "message": .string(message)])
        return DoubleResponse(status: status, body: body.jsonString())
    }

    static func json(_ value: Value) -> DoubleResponse { .json(value) }

    static func raw(_ status: Int, _ text: String, json: Bool = true) -> DoubleResponse {
        DoubleResponse(status: status, body: text, contentType: json ? "application/json" : "text/plain")
    }
}
