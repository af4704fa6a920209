import Crypto
import Foundation
import MeowModel
import NIOHTTP1

/// One incident output (plugins/incident/plugin.yaml): PagerDuty, Opsgenie, Slack, a signed webhook or
/// Alertmanager. `perform` delivers the `open` and `resolve` actions, retrying 429, 5xx and network
/// failures with a doubling backoff (a `Retry-After` wins) within the action's timeout; `observe` reads
/// open incidents back from Alertmanager and PagerDuty as `incident` entities.
public final class IncidentProvider: Provider {
    public enum Output: String, Sendable {
        case pagerduty, opsgenie, slack, webhook, alertmanager
    }

    public let name: String
    public let manifest: PluginManifest
    public let output: Output
    let context: ProviderContext
    let client: ProviderHTTPClient
    /// PagerDuty's REST API, for reading incidents back.
    let restClient: ProviderHTTPClient?
    /// The path of the webhook URL (Slack, webhook), appended to the client's base.
    let path: String
    let retries: Int
    let backoff: TimeInterval
    let maxWait: TimeInterval
    let observes: Bool

    static let defaultURLs: [Output: String] = [
        .pagerduty: "https://events.pagerduty.com", .opsgenie: "https://api.opsgenie.com",
    ]

    public init(manifest: PluginManifest, context: ProviderContext) throws {
        name = context.name
        self.manifest = manifest
        self.context = context
        guard let output = context.string("output").flatMap(Output.init) else {
            throw ProviderError(
                .invalid, "\(context.name): output must be one of pagerduty, opsgenie, slack, webhook, alertmanager")
        }
        self.output = output
        var url = context.string("url")
        if let variable = context.string("url_env") { url = ProcessInfo.processInfo.environment[variable] ?? url }
        guard let url = url ?? Self.defaultURLs[output], let parsed = URL(string: url), let host = parsed.host else {
            throw ProviderError(.invalid, "\(context.name): the \(output.rawValue) output needs url (or url_env)")
        }
        let base = "\(parsed.scheme ?? "https")://\(host)\(parsed.port.map { ":\($0)" } ?? "")"
        let fullPath = parsed.path.hasSuffix("/") ? String(parsed.path.dropLast()) : parsed.path
        // The webhook's whole path and query (Slack, webhook), or a prefix such as /alertmanager behind a proxy.
        let query = parsed.query.map { "?\($0)" } ?? ""
        path = output == .slack || output == .webhook ? fullPath + query : fullPath
        let caFile = context.string("ca_file")
        let insecure = context.bool("insecure") ?? false
        client = try ProviderHTTPClient(
            baseURL: base, caFile: caFile, insecure: insecure, timeout: context.timeout, maxBytes: 8 << 20)
        if output == .pagerduty, let api = context.string("api_url") {
            restClient = try ProviderHTTPClient(
                baseURL: api, caFile: caFile, insecure: insecure, timeout: context.timeout, maxBytes: 16 << 20)
        } else {
            restClient = nil
        }
        retries = context.int("retries") ?? 4
        backoff = context.double("retry_backoff") ?? 1
        maxWait = context.double("max_retry_wait") ?? 30
        observes = context.bool("observe") ?? true
    }

    public func shutdown() async {
        await client.shutdown()
        await restClient?.shutdown()
    }

    // MARK: Delivery

    public func perform(_ request: ActionRequest) async throws -> ActionOutcome {
        guard request.action == "open" || request.action == "resolve" else {
            throw ProviderError(.invalid, "\(name): unknown action \(request.action) (open, resolve)")
        }
        var notice = try IncidentNotice.from(request.params)
        if request.action == "resolve" {
            notice.event = "resolve"
            notice.resolvedAt = notice.resolvedAt ?? Timestamp.format(Date())
        }
        let (method, path, body, headers) = try build(notice, key: request.keyName)
        let (response, attempts) = try await deliver(method, path, body: body, headers: headers)
        let said = Self.message(of: response, output)
        var details: [String: Value] = [
            "status": .int(Int64(response.status)), "attempts": .int(Int64(attempts)), "output": .string(output.rawValue),
            "dedup_key": .string(IncidentShapes.dedupKey(notice.key)),
        ]
        if !said.isEmpty { details["answer"] = .string(said.capped(500)) }
        // Exactly what was sent, for the ledger (the routing key left out).
        if var sent = try? JSONDecoder().decode(Value.self, from: body) {
            if case .object(var o) = sent, o["routing_key"] != nil {
                o["routing_key"] = "(routing_key_env)"
                sent = .object(o)
            }
            details["sent"] = sent
        }
        let verb = notice.event == "resolve" ? "resolved" : notice.event == "update" ? "updated" : "opened"
        return ActionOutcome(
            ok: true,
            message:
                "\(notice.name) \(verb) in \(output.rawValue) (\(name)): \(response.status)\(said.isEmpty ? "" : " \(said.capped(120))")\(attempts > 1 ? " after \(attempts) attempts" : "")",
            details: .object(details))
    }

    /// Method, path, body and headers of one delivery.
    func build(_ n: IncidentNotice, key: String?) throws -> (HTTPMethod, String, Data, [(String, String)]) {
        func json(_ v: Value) -> Data { Data(v.jsonString().utf8) }
        switch output {
        case .pagerduty:
            guard let routingKey = try context.secret(env: "routing_key_env", file: "routing_key_file", what: "routing key")
            else { throw ProviderError(.unauthorized, "\(name): pagerduty needs routing_key_env or routing_key_file") }
            return (.POST, path + "/v2/enqueue", json(IncidentShapes.pagerDuty(n, routingKey: routingKey)), [])
        case .opsgenie:
            guard let apiKey = try context.secret(env: "api_key_env", file: "api_key_file", what: "API key") else {
                throw ProviderError(.unauthorized, "\(name): opsgenie needs api_key_env")
            }
            let auth = ("Authorization", "GenieKey \(apiKey)")
            if n.event == "resolve" {
                let alias = ProviderHTTPClient.segment(IncidentShapes.dedupKey(n.key, max: 512))
                let note: Value = ["source": "meow", "note": .string("resolved by meow at \(n.resolvedAt ?? "")")]
                return (.POST, path + "/v2/alerts/\(alias)/close?identifierType=alias", json(note), [auth])
            }
            return (
                .POST, path + "/v2/alerts", json(IncidentShapes.opsgenie(n, responders: context.strings("responders"))), [auth]
            )
        case .slack:
            return (.POST, path, json(IncidentShapes.slack(n)), [])
        case .alertmanager:
            let labels = context.settings["labels"]?.objectValue?.compactMapValues(\.stringValue) ?? [:]
            return (.POST, path + "/api/v2/alerts", json(IncidentShapes.alertmanager(n, extraLabels: labels, now: Date())), [])
        case .webhook:
            let body = json(IncidentShapes.webhook(n, now: Date()))
            // Standard Webhooks: the same id for the retries of one message (receivers dedupe on it).
            let id = "msg_" + (key ?? FNV1a.hex("\(n.key)|\(n.event)|\(n.number)|\(n.severity)"))
            let timestamp = String(Int(Date().timeIntervalSince1970))
            var headers = [("webhook-id", id), ("webhook-timestamp", timestamp)]
            if let secret = try context.secret(env: "secret_env", file: "secret_file", what: "webhook secret") {
                headers.append(("webhook-signature", Self.sign(secret: secret, id: id, timestamp: timestamp, body: body)))
            }
            return (.POST, path, body, headers)
        }
    }

    /// Standard Webhooks v1: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`; a `whsec_` secret is base64.
    public static func sign(secret: String, id: String, timestamp: String, body: Data) -> String {
        let keyBytes: Data =
            if secret.hasPrefix("whsec_"), let d = Data(base64Encoded: String(secret.dropFirst(6))) { d } else {
                Data(secret.utf8)
            }
        var signed = Data("\(id).\(timestamp).".utf8)
        signed.append(body)
        let mac = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: keyBytes))
        return "v1," + Data(mac).base64EncodedString()
    }

    /// Sends, retrying what the target says to retry (429, 5xx, no answer), until it is accepted, refused
    /// for good (another 4xx: the error names the target's own message), or the retries run out.
    func deliver(_ method: HTTPMethod, _ path: String, body: Data, headers: [(String, String)]) async throws
        -> (ProviderHTTPClient.Response, Int)
    {
        var attempt = 0
        var wait = backoff
        let label = "\(output.rawValue) \(name)"
        while true {
            attempt += 1
            var retryAfter: TimeInterval?
            var failure: ProviderError
            do {
                let r = try await client.send(method, path, body: body, headers: headers)
                if (200..<300).contains(r.status) { return (r, attempt) }
                let said = Self.message(of: r, output)
                failure =
                    ProviderError.forStatus(
                        r.status, label, base: client.baseURL, said: said,
                        unauthorizedHint: "check the key or token", forbiddenHint: "the key may not do this")
                    ?? ProviderError(.invalid, "\(label): \(r.status)")
                if r.status == 429, let h = r.headers.first(where: { $0.0.lowercased() == "retry-after" }), let s = Double(h.1) {
                    retryAfter = s
                }
                guard r.status == 429 || r.status >= 500 else {
                    throw ProviderError(failure.kind, failure.message + " (not retried)")
                }
            } catch let e as ProviderError where e.isTransient {
                failure = e
            }
            guard attempt <= retries else {
                throw ProviderError(failure.kind, "\(failure.message) (gave up after \(attempt) attempts)")
            }
            try await Task.sleep(nanoseconds: UInt64(min(maxWait, retryAfter ?? wait) * 1e9))
            wait *= 2
        }
    }

    /// The target's own words: PagerDuty's `errors`, Opsgenie's `message` and `errors`, Slack's plain text,
    /// Alertmanager's `message` (or a JSON string).
    static func message(of r: ProviderHTTPClient.Response, _ output: Output) -> String {
        let text = String(decoding: r.body.prefix(4000), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let data = text.data(using: .utf8), let v = try? JSONDecoder().decode(Value.self, from: data) else { return text }
        if case .string(let s) = v { return s }
        var parts: [String] = []
        if let m = v["message"]?.stringValue { parts.append(m) }
        if let errors = v["errors"]?.arrayValue { parts += errors.compactMap(\.stringValue) }
        if let errors = v["errors"]?.objectValue {
            parts += errors.keys.sorted().map { "\($0): \(errors[$0]?.stringValue ?? "")" }
        }
        if let e = v["error"]?["message"]?.stringValue { parts.append(e) }
        if let m = v["result"]?.stringValue { parts.append(m) }
        return parts.isEmpty ? text : parts.joined(separator: "; ")
    }

    /// Sending again is harmless where the target deduplicates on the key; a chat message cannot be told.
    public func reconcile(_ request: ActionRequest) async -> ReconcileVerdict {
        switch output {
        case .pagerduty, .opsgenie, .alertmanager:
            .notDone("\(output.rawValue) deduplicates on the incident's key, so sending it again is not a second page")
        case .webhook:
            .notDone("the webhook's receivers deduplicate on webhook-id, which a retry keeps")
        case .slack:
            .unknown("\(name): cannot tell whether the Slack message was posted before the crash; check the channel")
        }
    }

    // MARK: Observation

    public func observe() async throws -> Observation {
        guard observes else { return Observation(entities: []) }
        switch output {
        case .alertmanager: return try await observeAlertmanager()
        case .pagerduty: return try await observePagerDuty()
        default: return Observation(entities: [])
        }
    }

    public func checkHealth() async -> ProviderHealth {
        switch output {
        case .alertmanager,
            .pagerduty where restClient != nil:
            do {
                let o = try await observe()
                return ProviderHealth(ok: true, message: "\(o.entities.count) open incidents")
            } catch {
                return ProviderHealth(ok: false, message: "\(error)")
            }
        default:
            return ProviderHealth(
                ok: true,
                message:
                    "\(output.rawValue) output to \(client.baseURL): nothing to read back; deliveries are checked when they happen"
            )
        }
    }

    func observeAlertmanager() async throws -> Observation {
        let label = "GET /api/v2/alerts"
        let r = try await client.send(.GET, path + "/api/v2/alerts", query: [("active", "true")])
        if let e = ProviderError.forStatus(
            r.status, label, base: client.baseURL, said: Self.message(of: r, output),
            unauthorizedHint: "check the proxy's credentials",
            forbiddenHint: "check the proxy's credentials")
        {
            throw e
        }
        let now = Date()
        let alerts = try client.decode([Value].self, r, label)
        let entities = alerts.compactMap { a -> Entity? in
            guard let fingerprint = a["fingerprint"]?.stringValue else { return nil }
            let labels = a["labels"]?.objectValue?.compactMapValues(\.stringValue) ?? [:]
            let annotations = a["annotations"]?.objectValue?.compactMapValues(\.stringValue) ?? [:]
            let state = a["status"]?["state"]?.stringValue ?? "active"
            return .incident(
                Incident(
                    id: "incident/\(name)/\(fingerprint)", name: labels["alertname"], labels: labels, annotations: annotations,
                    observedAt: now, provider: name, source: "alertmanager",
                    status: state == "suppressed" ? "suppressed" : "triggered",
                    severity: labels["severity"], service: labels["application"] ?? labels["service"] ?? labels["job"],
                    title: annotations["summary"] ?? labels["alertname"],
                    createdAt: a["startsAt"]?.stringValue.flatMap(Timestamp.parse),
                    links: a["generatorURL"]?.stringValue.flatMap { $0.isEmpty ? nil : [$0] }))
        }
        return Observation(entities: entities)
    }

    func observePagerDuty() async throws -> Observation {
        guard let rest = restClient else { return Observation(entities: []) }
        guard let token = try context.secret(env: "api_token_env", file: "api_token_file", what: "API token") else {
            throw ProviderError(.unauthorized, "\(name): reading incidents back needs api_token_env")
        }
        let headers = [("Authorization", "Token token=\(token)"), ("Accept", "application/vnd.pagerduty+json;version=2")]
        var entities: [Entity] = []
        var warnings: [String] = []
        var offset = 0
        let now = Date()
        while true {
            let label = "GET /incidents"
            let r = try await rest.send(
                .GET, "/incidents",
                query: [
                    ("statuses[]", "triggered"), ("statuses[]", "acknowledged"), ("limit", "100"), ("offset", String(offset)),
                ], headers: headers)
            if let e = ProviderError.forStatus(
                r.status, label, base: rest.baseURL, said: Self.message(of: r, output),
                unauthorizedHint: "check api_token_env (a REST API key, not the routing key)",
                forbiddenHint: "the key may not read incidents")
            {
                throw e
            }
            let page = try rest.decode(Value.self, r, label)
            for i in page["incidents"]?.arrayValue ?? [] {
                guard let id = i["id"]?.stringValue else { continue }
                var labels: [String: String] = [:]
                if let k = i["incident_key"]?.stringValue { labels["incident_key"] = k }
                if let n = i["incident_number"]?.intValue { labels["incident_number"] = String(n) }
                if let u = i["urgency"]?.stringValue { labels["urgency"] = u }
                entities.append(
                    .incident(
                        Incident(
                            id: "incident/\(name)/\(id)", name: i["incident_number"]?.intValue.map { "#\($0)" }, labels: labels,
                            observedAt: now, provider: name, source: "pagerduty", status: i["status"]?.stringValue,
                            severity: i["urgency"]?.stringValue, service: i["service"]?["summary"]?.stringValue,
                            title: i["title"]?.stringValue, createdAt: i["created_at"]?.stringValue.flatMap(Timestamp.parse),
                            resolvedAt: i["resolved_at"]?.stringValue.flatMap(Timestamp.parse),
                            links: i["html_url"]?.stringValue.map { [$0] })))
            }
            let count = page["incidents"]?.arrayValue?.count ?? 0
            guard page["more"]?.boolValue == true, count > 0 else { break }
            offset += count
            if offset >= 1000 {
                warnings.append("more than 1000 open PagerDuty incidents: only the first 1000 are observed")
                break
            }
        }
        return Observation(entities: entities, warnings: warnings)
    }
}
