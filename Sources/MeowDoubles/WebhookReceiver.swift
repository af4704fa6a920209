import Crypto
import Foundation
import MeowModel

/// An HTTP endpoint that records every POST (an Alertmanager `webhook_config` target, meow's own
/// webhook notifier) and answers 200 `ok`, or a scripted status. It can listen on a fixed port, since
/// a config file written before the test points at it.
///
///     let hook = WebhookReceiver()
///     let port = try await hook.start(port: 18080)
///     // ... url: http://127.0.0.1:18080/hook
///     let got = await hook.waitFor(count: 1, timeout: 10)
///     #expect(WebhookReceiver.verifyStandardWebhook(
///         secret: secret, id: got[0].header("webhook-id") ?? "", timestamp: got[0].header("webhook-timestamp") ?? "",
///         body: got[0].body, signatureHeader: got[0].header("webhook-signature") ?? ""))
public actor WebhookReceiver {
    public struct Delivery: Sendable {
        public var path: String
        public var query: [(String, String)]
        /// Request headers in arrival order, names lowercased.
        public var headers: [(String, String)]
        /// The exact bytes received (what a signature covers).
        public var body: Data
        /// The body as JSON; nil when it is not JSON.
        public var json: Value?
        public var receivedAt: Date
        /// The status this delivery was answered with.
        public var status: Int

        public func header(_ name: String) -> String? {
            let name = name.lowercased()
            return headers.first { $0.0 == name }?.1
        }
    }

    var failures = FailureQueue()
    var server: LoopbackServer?
    /// Every POST, failed ones included, in arrival order.
    public private(set) var deliveries: [Delivery] = []

    public init() {}

    /// Listens on 127.0.0.1:`port` (0: any free port); returns the port.
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

    /// The next `count` POSTs are recorded and answered `status` (a sender's retries show as more deliveries).
    public func failNext(_ count: Int, status: Int) { failures.add(count, status: status) }

    public func clear() { deliveries.removeAll() }

    /// The deliveries once there are at least `count`, or whatever came within `timeout` seconds
    /// (checked every 50 ms).
    public func waitFor(count: Int, timeout: TimeInterval) async -> [Delivery] {
        let end = Date().addingTimeInterval(timeout)
        while deliveries.count < count && Date() < end {
            try? await Task.sleep(for: .milliseconds(50))
        }
        return deliveries
    }

    func respond(_ r: DoubleRequest) async -> DoubleResponse {
        guard r.method == "POST" else { return .text("method not allowed", status: 405) }
        let status = failures.next() ?? 200
        deliveries.append(
            Delivery(
                path: r.path, query: r.query, headers: r.headers, body: r.body, json: r.json, receivedAt: Date(), status: status))
        return .text(status == 200 ? "ok" : "scripted failure", status: status)
    }

    /// Standard Webhooks v1 verification (standard-webhooks/standard-webhooks spec/standard-webhooks.md):
    /// `signatureHeader` holds space-separated `v1,<base64 HMAC-SHA256(key, "id.timestamp.body")>`
    /// entries (several during a key rotation) and one must match. A `whsec_` secret is the base64 of the
    /// key; any other secret is used as its UTF-8 bytes. With `now`, a timestamp more than `tolerance`
    /// seconds away is refused too.
    public static func verifyStandardWebhook(
        secret: String, id: String, timestamp: String, body: Data, signatureHeader: String, now: Date? = nil,
        tolerance: TimeInterval = 300
    ) -> Bool {
        guard let seconds = Int64(timestamp) else { return false }
        if let now, abs(now.timeIntervalSince1970 - Double(seconds)) > tolerance { return false }
        let key: Data
        if secret.hasPrefix("whsec_") {
            guard let k = Data(base64Encoded: String(secret.dropFirst(6))) else { return false }
            key = k
        } else {
            key = Data(secret.utf8)
        }
        let signed = Data("\(id).\(timestamp).".utf8) + body
        for entry in signatureHeader.split(separator: " ") {
            let parts = entry.split(separator: ",", maxSplits: 1)
            guard parts.count == 2, parts[0] == "v1", let signature = Data(base64Encoded: String(parts[1])) else { continue }
            if HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: signed, using: SymmetricKey(data: key)) {
                return true
            }
        }
        return false
    }
}
