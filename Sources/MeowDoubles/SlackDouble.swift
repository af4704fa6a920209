import Foundation
import MeowModel

/// A stand-in for one Slack incoming webhook (`POST https://hooks.slack.com/services/T…/B…/…`), built
/// from https://api.slack.com/messaging/webhooks, the 2016-05-17 changelog of its error strings and the
/// Block Kit reference (https://api.slack.com/reference/block-kit/blocks).
///
/// Answers are plain text, as Slack's: 200 `ok`; 400 `invalid_payload` (not JSON), `no_text` (neither
/// `text` nor `blocks`), `invalid_blocks` (a Block Kit limit broken); 404 `no_service` (another path);
/// 410 `channel_is_archived` after `archive()`; 429 `rate_limited` with `Retry-After` from `failNext`.
///
///     let slack = SlackDouble()
///     _ = try await slack.start()
///     // POST await slack.url  {"text":"[P1] checkout 5xx high","blocks":[...]}
///     let posted = await slack.messages
public actor SlackDouble {
    /// Block types Slack accepts in a message.
    static let blockTypes: Set<String> = ["header", "section", "divider", "context", "actions", "image", "rich_text"]

    let path: String
    var failures = FailureQueue()
    var retryAfter = 1
    var archived = false
    var server: LoopbackServer?
    /// Accepted bodies (answered 200 `ok`), in order.
    public private(set) var messages: [Value] = []
    /// Every request, refused ones included.
    public private(set) var requests: [DoubleRequest] = []

    public init(path: String = "/services/T000/B000/XXXX") { self.path = path }

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
    /// The webhook URL to configure: `http://127.0.0.1:PORT/services/T000/B000/XXXX`.
    public var url: String { baseURL + path }

    /// The next `count` posts get `status`: 429 answers `rate_limited` with `Retry-After: retryAfter`.
    public func failNext(_ count: Int, status: Int = 429, retryAfter: Int = 1) {
        failures.add(count, status: status)
        self.retryAfter = retryAfter
    }

    /// From now on every post gets 410 `channel_is_archived`.
    public func archive() { archived = true }

    // Incoming webhooks, https://api.slack.com/messaging/webhooks#handling_errors.
    func respond(_ r: DoubleRequest) async -> DoubleResponse {
        requests.append(r)
        guard r.path == path else { return .text("no_service", status: 404) }
        if let status = failures.next() {
            // Rate limits, https://api.slack.com/docs/rate-limits: 429 with Retry-After in seconds.
            return status == 429
                ? .text("rate_limited", status: 429, headers: [("Retry-After", String(retryAfter))])
                : .text(Self.errorText(status), status: status)
        }
        if archived { return .text("channel_is_archived", status: 410) }
        guard case .object(let body)? = r.json else { return .text("invalid_payload", status: 400) }
        if let t = body["text"], !t.isNull, t.stringValue == nil { return .text("invalid_payload", status: 400) }
        let text = body["text"]?.stringValue ?? ""
        let blocks = body["blocks"] ?? .null
        if text.isEmpty && (blocks.isNull || blocks.arrayValue?.isEmpty == true) { return .text("no_text", status: 400) }
        if !blocks.isNull && !Self.validBlocks(blocks) { return .text("invalid_blocks", status: 400) }
        messages.append(.object(body))
        return .text("ok")
    }

    /// Block Kit limits: ≤50 blocks; header plain_text ≤150; section text ≤3000, ≤10 fields of ≤2000;
    /// context ≤10 and actions ≤25 elements; block_id ≤255.
    static func validBlocks(_ blocks: Value) -> Bool {
        guard let list = blocks.arrayValue, list.count <= 50 else { return false }
        for block in list {
            guard let type = block["type"]?.stringValue, blockTypes.contains(type) else { return false }
            if let id = block["block_id"], (id.stringValue?.count ?? 256) > 255 { return false }
            switch type {
            case "header":
                guard block["text"]?["type"]?.stringValue == "plain_text", let t = block["text"]?["text"]?.stringValue,
                    !t.isEmpty, t.count <= 150
                else { return false }
            case "section":
                let text = block["text"]
                let fields = block["fields"]
                if text == nil && fields == nil { return false }
                if let text, !validText(text, max: 3000) { return false }
                if let fields {
                    guard let f = fields.arrayValue, !f.isEmpty, f.count <= 10, f.allSatisfy({ validText($0, max: 2000) }) else {
                        return false
                    }
                }
            case "context", "actions":
                let max = type == "context" ? 10 : 25
                guard let e = block["elements"]?.arrayValue, !e.isEmpty, e.count <= max else { return false }
            case "image":
                guard block["alt_text"]?.stringValue != nil, block["image_url"] != nil || block["slack_file"] != nil else {
                    return false
                }
            case "rich_text":
                guard block["elements"]?.arrayValue != nil else { return false }
            default: break  // divider
            }
        }
        return true
    }

    /// A text object: `{"type": "plain_text"|"mrkdwn", "text": "..."}` of 1...max characters.
    static func validText(_ v: Value, max: Int) -> Bool {
        guard ["plain_text", "mrkdwn"].contains(v["type"]?.stringValue ?? ""), let t = v["text"]?.stringValue else {
            return false
        }
        return !t.isEmpty && t.count <= max
    }

    /// The 2016-05-17 changelog's error strings by status.
    static func errorText(_ status: Int) -> String {
        switch status {
        case 403: "action_prohibited"
        case 404: "channel_not_found"
        case 410: "channel_is_archived"
        default: "rollup_error"
        }
    }
}
