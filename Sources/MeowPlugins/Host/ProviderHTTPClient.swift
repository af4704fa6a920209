import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// The HTTP side of a provider: one connection pool per instance (its own TLS settings), JSON in and
/// out, every failure mapped to a `ProviderError` that says what happened in words an SRE can act on.
public final class ProviderHTTPClient: @unchecked Sendable {  // `shutDown` is guarded by `lock`
    public let baseURL: String
    let client: HTTPClient
    private let lock = NSLock()
    private var shutDown = false
    let maxBytes: Int
    let timeout: TimeInterval

    public struct Response: Sendable {
        public var status: Int
        public var body: Data
        public var headers: [(String, String)]
    }

    /// - Parameters:
    ///   - caFile: PEM file of CAs to trust (in addition to none: only these).
    ///   - insecure: skip certificate verification.
    ///   - timeout: limit of each request.
    public init(
        baseURL: String, caFile: String? = nil, insecure: Bool = false, timeout: TimeInterval, maxBytes: Int = 64 << 20,
        caPEM: [UInt8]? = nil, clientCertificatePEM: [UInt8]? = nil, clientKeyPEM: [UInt8]? = nil, maxConnections: Int = 16
    ) throws {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.maxBytes = maxBytes
        self.timeout = timeout
        var tls = TLSConfiguration.makeClientConfiguration()
        if insecure { tls.certificateVerification = .none }
        if let caFile {
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
            } catch {
                throw ProviderError(.invalid, "cannot read the CA file \(caFile): \(error)")
            }
        }
        if let caPEM {
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(caPEM))
            } catch {
                throw ProviderError(.invalid, "cannot read the CA certificate data: \(error)")
            }
        }
        if let clientCertificatePEM, let clientKeyPEM {
            do {
                tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(clientCertificatePEM).map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: clientKeyPEM, format: .pem))
            } catch {
                throw ProviderError(.invalid, "cannot read the client certificate or key: \(error)")
            }
        }
        let ms = Int64(max(0.05, timeout) * 1000)
        var config = HTTPClient.Configuration(
            tlsConfiguration: tls, redirectConfiguration: .disallow,
            timeout: .init(connect: .milliseconds(ms), read: .milliseconds(ms)))
        // HTTP/1.1 connections per host: long-lived watches hold one each, requests must still get theirs
        config.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: maxConnections)
        client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: config)
    }

    /// Sends a request and returns the whole response, whatever its status. Throws only for transport
    /// failures (refused, reset, timeout, TLS) and oversized bodies.
    public func send(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: Data? = nil, headers: [(String, String)] = []
    ) async throws -> Response {
        let url = baseURL + path + Self.queryString(query)
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "meow")
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        if let body {
            if !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
                request.headers.add(name: "Content-Type", value: "application/json")
            }
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let label = "\(method.rawValue) \(path)"
        do {
            let response = try await client.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
            let bytes: ByteBuffer
            do {
                bytes = try await response.body.collect(upTo: maxBytes)
            } catch is NIOTooManyBytesError {
                throw ProviderError(.malformed, "\(label): the response is larger than \(maxBytes) bytes (max_response_bytes)")
            }
            return Response(
                status: Int(response.status.code), body: Data(bytes.readableBytesView),
                headers: response.headers.map { ($0.name, $0.value) })
        } catch let e as ProviderError {
            throw e
        } catch let e as HTTPClientError {
            if e == .deadlineExceeded || e == .readTimeout || e == .connectTimeout || e == .tlsHandshakeTimeout
                || e == .getConnectionFromPoolTimeout
            {
                throw ProviderError(.timeout, "\(label): no answer from \(baseURL) within \(Self.seconds(timeout))")
            }
            if e == .cancelled { throw CancellationError() }
            throw ProviderError(.unavailable, "\(label): \(baseURL): \(e)")
        } catch is CancellationError {
            throw CancellationError()
        } catch let e as NIOSSLError {
            throw ProviderError(.unavailable, "\(label): TLS failure talking to \(baseURL): \(e) (ca_file, insecure)")
        } catch {
            let text = "\(error)"
            if text.contains("connectionRefused") || text.contains("Connection refused") {
                throw ProviderError(.unavailable, "\(label): connection refused by \(baseURL)")
            }
            throw ProviderError(.unavailable, "\(label): cannot reach \(baseURL): \(text)")
        }
    }

    /// Decodes a JSON answer, or throws `malformed` saying where it went wrong.
    public func decode<T: Decodable>(_ type: T.Type, _ r: Response, _ label: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: r.body)
        } catch {
            throw ProviderError(.malformed, "\(label): malformed JSON from \(baseURL): \(ProviderError.describeDecoding(error))")
        }
    }

    public func shutdown() async {
        guard
            lock.withLock({ () -> Bool in
                defer { shutDown = true }
                return !shutDown
            })
        else { return }
        try? await client.shutdown()
    }

    /// A provider dropped without `shutdown()` (a runtime that was never stopped) still closes its
    /// connections: the HTTP client must be shut down before it goes away.
    deinit {
        if !shutDown { client.shutdown { _ in } }
    }

    static func queryString(_ query: [(String, String)]) -> String {
        guard !query.isEmpty else { return "" }
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+?#")
        return "?"
            + query.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.1)" }.joined(separator: "&")
    }

    static func seconds(_ t: TimeInterval) -> String { t < 1 ? "\(Int(t * 1000))ms" : String(format: "%gs", t) }

    /// A path segment, percent-encoded (application names are DNS labels, revisions may contain `/`).
    public static func segment(_ s: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }
}
