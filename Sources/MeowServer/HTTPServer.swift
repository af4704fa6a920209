import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MeowModel
import MeowPlugins
import NIOCore

/// The API on Hummingbird: one route per `API.routes` entry, and around each handler the same steps:
/// authentication and role, query parameter check, body size limit, timeout, ETag / 304, and every error
/// as problem+json.
public enum HTTPServer {
    /// The Hummingbird application serving `api` on `server.listen` (a service for a ServiceGroup).
    public static func application(_ api: API, logger: Logger? = nil, onServerRunning: (@Sendable (Channel) async -> Void)? = nil)
        -> some ApplicationProtocol
    {
        let settings = api.config.server
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: ProblemMiddleware())
        let auth = Authenticator(tokens: settings.tokens, anonymous: settings.anonymous)
        let routes = api.routes
        for route in routes {
            router.on(RouterPath(hummingbirdPath(route.path)), method: HTTPRequest.Method(route.method)!) { request, context in
                try await handle(request, context: context, route: route, api: api, auth: auth, settings: settings)
            }
        }
        // a known path with another method is 405 with the methods it has, not "no route"
        for (path, methods) in Dictionary(grouping: routes, by: \.path).mapValues({ $0.map(\.method) }) {
            let allow = methods.sorted().joined(separator: ", ")
            for other in ["GET", "POST", "PUT", "PATCH", "DELETE"] where !methods.contains(other) {
                router.on(RouterPath(hummingbirdPath(path)), method: HTTPRequest.Method(other)!) { request, _ -> Response in
                    var p = Problem(405, "method-not-allowed", "\(other) \(path) is not a route; it answers \(allow)")
                    p.headers["Allow"] = allow
                    throw p
                }
            }
        }
        let address: BindAddress =
            switch settings.listen {
            case .tcp(let host, let port): .hostname(host, port: port)
            case .unix(let path): .unixDomainSocket(path: path)
            }
        var log = logger ?? Logger(label: "meow.server")
        if logger == nil { log.logLevel = .warning }
        return Application(
            router: router,
            configuration: .init(address: address, serverName: "meow"),
            onServerRunning: onServerRunning ?? { _ in },
            logger: log)
    }

    /// `/v1/applications/{id}` → `/v1/applications/**` (entity ids contain slashes); `{id}` → `:id`.
    static func hummingbirdPath(_ path: String) -> String {
        let entityRoutes = ["/v1/applications/{id}", "/v1/dags/{id}"]
        if entityRoutes.contains(path) { return path.replacingOccurrences(of: "{id}", with: "**") }
        return path.replacingOccurrences(of: "{id}", with: ":id")
    }

    static func handle(
        _ request: Request, context: BasicRequestContext, route: Route, api: API, auth: Authenticator, settings: ServerSettings
    ) async throws -> Response {
        var r = APIRequest(method: route.method, path: request.uri.path)
        for field in request.headers { r.headers[field.name.canonicalName] = field.value }
        r.query = request.uri.queryParameters.map { (String($0.key), String($0.value)) }
        if let id = context.parameters.get("id") {
            r.parameters["id"] = id.removingPercentEncoding ?? id
        } else {
            let rest = context.parameters.getCatchAll()
            if !rest.isEmpty {
                r.parameters["id"] = rest.map { String($0).removingPercentEncoding ?? String($0) }.joined(separator: "/")
            }
        }
        if let role = route.role {
            r.caller = try auth.caller(authorization: request.headers[.authorization])
            try Authenticator.require(role, r.caller)
        }
        let allowed = Set(route.query)
        if let bad = r.query.first(where: { !allowed.contains($0.0) }) {
            throw Problem.badRequest(
                "unknown query parameter \(bad.0)"
                    + (allowed.isEmpty
                        ? " (this route takes none)" : " (known: \(route.query.sorted().joined(separator: ", ")))"),
                field: bad.0)
        }
        if request.method == .post {
            var request = request
            do {
                r.body = Data(buffer: try await request.collectBody(upTo: settings.maxBody))
            } catch  where error is NIOTooManyBytesError || (error as? HTTPError)?.status == .contentTooLarge {
                throw Problem(413, "too-large", "the request body is larger than server.max_body (\(settings.maxBody) bytes)")
            }
        }
        // the ETag is the published state's version and the URL: the answer depends on nothing else
        let version = api.runtime.published.current.version
        let etag = "W/\"\(version)-\(fnv1a(request.uri.description))\""
        if route.cacheable, let match = request.headers[.ifNoneMatch],
            match.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == etag || $0 == "*" })
        {
            return Response(status: .notModified, headers: [.eTag: etag, .cacheControl: "no-cache"])
        }
        // (the event stream's handler returns at once with its subscription; its body is written after)
        let answer: APIResponse
        let req = r
        do {
            answer = try await Deadline.run(seconds: settings.requestTimeout, message: "no answer within server.request_timeout")
            {
                try await route.handler(req)
            }
        } catch let e as ProviderError where e.kind == .timeout {
            throw Problem(
                503, "timeout",
                "\(route.method) \(route.path) took longer than server.request_timeout (\(Timestamp.formatDuration(settings.requestTimeout)))"
            )
        }
        func json(_ bytes: [UInt8], status: Int, extra: [String: String]) -> Response {
            var headers: HTTPFields = [.contentType: "application/json"]
            for (k, v) in extra { if let name = HTTPField.Name(k) { headers[name] = v } }
            if route.cacheable {
                headers[.eTag] = etag
                headers[.cacheControl] = "no-cache"
            }
            return Response(
                status: HTTPResponse.Status(code: status), headers: headers,
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        switch answer {
        case .json(let value, let status, let extra):
            var w = JSONWriter(capacity: 1 << 14)
            w.value(value)
            return json(w.bytes, status: status, extra: extra)
        case .jsonBytes(let bytes):
            return json(bytes, status: 200, extra: [:])
        case .text(let text, let type, let status):
            return Response(
                status: HTTPResponse.Status(code: status), headers: [.contentType: type],
                body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        case .events(let subscription, let types):
            return eventStream(subscription, types: types)
        }
    }

    static func eventStream(_ sub: EventHub.Subscription, types: Set<String>?) -> Response {
        let wanted: @Sendable (ServerEvent) -> Bool = { e in e.type == "reset" || types?.contains(e.type) ?? true }
        var first = "retry: 2000\n\n"
        for e in sub.replay where wanted(e) { first += e.wire }
        let opening = first
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-cache", HTTPField.Name("X-Accel-Buffering")!: "no"],
            body: ResponseBody { writer in
                let (out, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(2000))
                let pump = Task {
                    for await e in sub.live where wanted(e) { continuation.yield(e.wire) }
                    continuation.finish()
                }
                // a comment line now and then keeps proxies from closing an idle stream, and tells a gone client
                let beat = Task {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(15))
                        continuation.yield(": keep-alive\n\n")
                    }
                }
                defer {
                    pump.cancel()
                    beat.cancel()
                    sub.cancel()
                }
                try await writer.write(ByteBuffer(string: opening))
                for await chunk in out { try await writer.write(ByteBuffer(string: chunk)) }
                try await writer.finish(nil)
            })
    }

    static func fnv1a(_ s: String) -> String { String(FNV1a.hash(s), radix: 36) }
}

/// Turns every error into problem+json: a `Problem` as it is, Hummingbird's own (404 for an unknown
/// route, ...) with its status, anything else as 500 without internals.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch let p as Problem {
            return Self.response(p, request)
        } catch let e as HTTPError {
            let status = Int(e.status.code)
            let detail =
                status == 404
                ? "no route \(request.method) \(request.uri.path) (GET /openapi.json lists the routes)"
                : (e.body ?? e.status.reasonPhrase)
            return Self.response(Problem(status, status == 404 ? "not-found" : "http-\(status)", detail), request)
        } catch {
            context.logger.error("\(request.method) \(request.uri.path): \(error)")
            return Self.response(Problem(500, "internal", "the server failed to answer: \(error)"), request)
        }
    }

    static func response(_ p: Problem, _ request: Request) -> Response {
        var headers: HTTPFields = [.contentType: "application/problem+json"]
        for (k, v) in p.headers { if let name = HTTPField.Name(k) { headers[name] = v } }
        return Response(
            status: HTTPResponse.Status(code: p.status), headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(string: p.body(instance: request.uri.path).compactJSON)))
    }
}
