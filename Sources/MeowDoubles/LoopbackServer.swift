import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import MeowModel
import NIOCore
import NIOSSL

/// An HTTP request as a double sees it.
public struct DoubleRequest: Sendable {
    public var method: String
    public var path: String
    public var query: [(String, String)]
    public var authorization: String?
    public var body: Data
    /// Every request header in arrival order, names lowercased.
    public var headers: [(String, String)] = []

    public func parameter(_ name: String) -> String? { query.first { $0.0 == name }?.1 }
    public func parameters(_ name: String) -> [String] { query.filter { $0.0 == name }.map(\.1) }
    /// The first header of this name, whatever its case.
    public func header(_ name: String) -> String? {
        let name = name.lowercased()
        return headers.first { $0.0 == name }?.1
    }
    /// The body as JSON; nil when it is not JSON.
    public var json: Value? { try? JSONDecoder().decode(Value.self, from: body) }
}

/// A double's answer.
public struct DoubleResponse: Sendable {
    public var status: Int
    public var body: String
    public var contentType: String
    /// A streamed body (a Kubernetes watch): each element is written as it comes; the response ends
    /// when the stream finishes.
    public var stream: AsyncStream<String>?
    /// Extra response headers (`Retry-After`, ...), written after Content-Type.
    public var headers: [(String, String)] = []

    public init(
        status: Int, body: String, contentType: String = "application/json", stream: AsyncStream<String>? = nil,
        headers: [(String, String)] = []
    ) {
        self.status = status
        self.body = body
        self.contentType = contentType
        self.stream = stream
        self.headers = headers
    }

    public static func json(_ value: Value, status: Int = 200, headers: [(String, String)] = []) -> DoubleResponse {
        DoubleResponse(status: status, body: value.jsonString(), headers: headers)
    }

    public static func text(_ body: String, status: Int = 200, headers: [(String, String)] = []) -> DoubleResponse {
        DoubleResponse(status: status, body: body, contentType: "text/plain", headers: headers)
    }
}

public struct DoubleError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}

/// The HTTP server under every double: 127.0.0.1 only, any free port by default, optional TLS,
/// `start` fails (instead of waiting) when it cannot listen.
final class LoopbackServer: Sendable {
    let task: Task<Void, any Error>
    let port: Int
    let scheme: String

    private init(task: Task<Void, any Error>, port: Int, scheme: String) {
        self.task = task
        self.port = port
        self.scheme = scheme
    }

    static func start(
        port: Int, tls: (certificate: String, key: String)?, handler: @escaping @Sendable (DoubleRequest) async -> DoubleResponse
    ) async throws -> LoopbackServer {
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            var request = request
            let body = try await request.collectBody(upTo: 1 << 20)
            let r = await handler(
                DoubleRequest(
                    method: request.method.rawValue, path: request.uri.path, query: parseQuery(request.uri.query ?? ""),
                    authorization: request.headers[.authorization], body: Data(body.readableBytesView),
                    headers: request.headers.map { ($0.name.canonicalName, $0.value) }))
            var headers = HTTPFields()
            headers[.contentType] = r.contentType
            for (name, value) in r.headers {
                if let name = HTTPFields.Element.Name(name) { headers.append(HTTPFields.Element(name: name, value: value)) }
            }
            if let stream = r.stream {
                return Response(
                    status: HTTPResponse.Status(code: r.status), headers: headers,
                    body: ResponseBody { writer in
                        for await chunk in stream { try await writer.write(ByteBuffer(string: chunk)) }
                        try await writer.finish(nil)
                    })
            }
            return Response(
                status: HTTPResponse.Status(code: r.status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: r.body))
            )
        }
        var server: HTTPServerBuilder = .http1()
        if let tls {
            let config = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(tls.certificate).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: tls.key, format: .pem)))
            server = try .tls(.http1(), tlsConfiguration: config)
        }
        let application = Application(
            responder: responder, server: server, configuration: .init(address: .hostname("127.0.0.1", port: port)),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: quietLogger)
        let task = Task(executorPreference: DoubleExecutor.shared) {
            do {
                try await application.runService(gracefulShutdownSignals: [])
            } catch {
                continuation.finish()  // never started (the port is taken, ...): `start` must not wait forever
                throw error
            }
        }
        for await p in stream {
            return LoopbackServer(task: task, port: p, scheme: tls == nil ? "http" : "https")
        }
        if case .failure(let error) = await task.result {
            throw DoubleError(message: "cannot listen on 127.0.0.1:\(port): \(error)")
        }
        throw DoubleError(message: "cannot listen on 127.0.0.1:\(port)")
    }

    func stop() async {
        task.cancel()
        _ = try? await task.value
    }

    var baseURL: String { "\(scheme)://127.0.0.1:\(port)" }

    static let quietLogger: Logger = {
        var l = Logger(label: "meow-double")
        l.logLevel = .critical
        return l
    }()

    static func parseQuery(_ query: String) -> [(String, String)] {
        query.split(separator: "&").map { pair in
            let kv = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
            }
            return (kv[0], kv.count > 1 ? kv[1] : "")
        }
    }
}
