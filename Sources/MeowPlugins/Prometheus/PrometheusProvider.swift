import Foundation
import MeowModel
import NIOHTTP1

/// Named PromQL queries (`series:` in meow.yaml) become `series` entities attached to the entities their
/// labels name (`subject: environment/{env}`), so rules read `env.series.s3_latency` and anomaly rules
/// run detectors on them. Instant queries (`/api/v1/query`) give one point; range queries
/// (`/api/v1/query_range`, `range` and `step`) the history.
///
/// A query that fails (bad PromQL, a timeout inside Prometheus) is a warning naming the query: the other
/// queries still count. Only when Prometheus cannot be reached, or refuses the credentials, does the
/// observation fail.
public actor PrometheusProvider: Provider {
    public nonisolated let name: String
    public nonisolated let manifest: PluginManifest
    let context: ProviderContext
    let http: ProviderHTTPClient
    let queries: [Query]

    struct Query: Sendable {
        var name: String
        var expr: String
        var subject: String
        var range: Double?
        var step: Double
        var unit: String?
    }

    public init(manifest: PluginManifest, context: ProviderContext) throws {
        name = context.name
        self.manifest = manifest
        self.context = context
        guard let url = context.string("url") else { throw ProviderError(.invalid, "\(context.name): url is required") }
        http = try ProviderHTTPClient(
            baseURL: url, caFile: context.string("ca_file"), insecure: context.bool("insecure") ?? false,
            timeout: context.timeout, maxBytes: context.int("max_response_bytes") ?? (64 << 20))
        queries = (context.settings["series"]?.arrayValue ?? []).compactMap { q in
            guard let name = q["name"]?.stringValue, let expr = q["query"]?.stringValue, let subject = q["subject"]?.stringValue
            else { return nil }
            return Query(
                name: name, expr: expr, subject: subject, range: q["range"]?.doubleValue, step: q["step"]?.doubleValue ?? 60,
                unit: q["unit"]?.stringValue)
        }
    }

    public func shutdown() async { await http.shutdown() }

    public func perform(_ request: ActionRequest) async throws -> ActionOutcome {
        throw ProviderError(.invalid, "prometheus has no actions")
    }

    public func checkHealth() async -> ProviderHealth {
        do {
            let r = try await http.send(.GET, "/-/ready", headers: try headers())
            guard r.status == 200 else {
                return ProviderHealth(ok: false, message: "GET /-/ready: \(r.status) from \(http.baseURL)")
            }
            let v = try await api("/api/v1/query", [("query", "vector(1)")])
            guard v["resultType"] == .string("vector") else {
                return ProviderHealth(ok: false, message: "unexpected answer to vector(1)")
            }
            return ProviderHealth(ok: true, message: "Prometheus ready, queries answered; \(queries.count) series configured")
        } catch {
            return ProviderHealth(ok: false, message: "\(error)")
        }
    }

    public func observe() async throws -> Observation {
        let now = Date()
        var warnings: [String] = []
        var entities: [Entity] = []
        var seen = Set<String>()
        for q in queries {
            let data: Value
            do {
                if let range = q.range {
                    let end = (now.timeIntervalSince1970 / q.step).rounded(.down) * q.step
                    data = try await api(
                        "/api/v1/query_range",
                        [
                            ("query", q.expr), ("start", Self.number(end - range)), ("end", Self.number(end)),
                            ("step", Self.number(q.step)),
                        ])
                } else {
                    data = try await api("/api/v1/query", [("query", q.expr), ("time", Self.number(now.timeIntervalSince1970))])
                }
            } catch let e as ProviderError where e.kind == .invalid || e.kind == .malformed || e.kind == .timeout {
                warnings.append("series \(q.name): \(e.message)")
                continue
            }
            for w in data["__warnings"]?.arrayValue ?? [] {
                warnings.append("series \(q.name): Prometheus warns: \(w.stringValue ?? "")")
            }
            for result in data["result"]?.arrayValue ?? [] {
                let labels = (result["metric"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
                guard let subject = Self.fill(q.subject, labels) else {
                    warnings.append(
                        "series \(q.name): a result lacks a label of subject \(q.subject) (labels: \(labels.keys.sorted().joined(separator: ", ")))"
                    )
                    continue
                }
                var times: [Date] = []
                var values: [Double] = []
                let points = result["values"]?.arrayValue ?? (result["value"].map { [$0] } ?? [])
                for p in points {
                    // [unix seconds, "value"]; NaN and ±Inf are dropped (JSON numbers can't carry them)
                    guard let t = p[0]?.doubleValue, let s = p[1]?.stringValue, let v = Double(s), v.isFinite else { continue }
                    times.append(Date(timeIntervalSince1970: t))
                    values.append(v)
                }
                guard !values.isEmpty else { continue }
                let id = "series/\(q.name)/\(subject)"
                guard seen.insert(id).inserted else {
                    warnings.append(
                        "series \(q.name): several results map to \(subject); the first is kept (aggregate the query by the subject's labels)"
                    )
                    continue
                }
                entities.append(
                    .series(
                        Series(
                            id: id, labels: labels, observedAt: now, provider: name, metric: q.name, subject: subject,
                            unit: q.unit,
                            values: values, times: times)))
            }
        }
        return Observation(entities: entities, warnings: warnings)
    }

    /// `environment/{env}` with the labels; nil when a label is missing.
    static func fill(_ template: String, _ labels: [String: String]) -> String? {
        var out = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            guard let close = rest[open...].firstIndex(of: "}") else { return nil }
            guard let v = labels[String(rest[rest.index(after: open)..<close])] else { return nil }
            out += v
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }

    static func number(_ d: Double) -> String { d.rounded() == d ? String(Int64(d)) : String(format: "%.3f", d) }

    func headers() throws -> [(String, String)] {
        if let token = try context.secret(env: "token_env", file: "token_file", what: "token") {
            return [("Authorization", "Bearer \(token)")]
        }
        if let user = context.string("username") {
            let password = context.string("password_env").flatMap { ProcessInfo.processInfo.environment[$0] } ?? ""
            return [("Authorization", "Basic " + Data("\(user):\(password)".utf8).base64EncodedString())]
        }
        return []
    }

    /// Calls the HTTP API (POST form, as Prometheus accepts for long queries) and returns `data`, with the
    /// response's `warnings` under `__warnings`. Prometheus errors (`{"status": "error", "errorType",
    /// "error"}`) become `invalid` (bad_data), `timeout` or `unavailable`.
    func api(_ path: String, _ form: [(String, String)]) async throws -> Value {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let body = form.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.1)" }.joined(
            separator: "&")
        let r = try await http.send(
            .POST, path, body: Data(body.utf8), headers: try headers() + [("Content-Type", "application/x-www-form-urlencoded")])
        let v = try? JSONDecoder().decode(Value.self, from: r.body)
        let label = "POST \(path)"
        if r.status == 401 || r.status == 403 {
            throw ProviderError(
                r.status == 401 ? .unauthorized : .forbidden, "\(label): \(r.status) from \(http.baseURL) (check token/username)")
        }
        if let v, v["status"]?.stringValue == "error" {
            let type = v["errorType"]?.stringValue ?? "error"
            let message = "\(label): \(type): \(v["error"]?.stringValue ?? "")"
            switch type {
            case "timeout", "canceled": throw ProviderError(.timeout, message)
            case "bad_data": throw ProviderError(.invalid, message)
            default: throw ProviderError(r.status >= 500 ? .unavailable : .invalid, message)
            }
        }
        guard (200..<300).contains(r.status) else {
            throw ProviderError(r.status >= 500 ? .unavailable : .invalid, "\(label): \(r.status) from \(http.baseURL)")
        }
        guard let v, case .object(var data)? = v["data"] else {
            throw ProviderError(.malformed, "\(label): not a Prometheus API answer from \(http.baseURL)")
        }
        if let w = v["warnings"] { data["__warnings"] = w }
        return .object(data)
    }
}
