import Foundation
import Logging
import MeowModel
import NIOHTTP1

/// Observes one Argo CD instance through its REST API (`/api/v1`, bearer token) and runs its actions.
///
/// One `observe()` lists the applications (paged with `offset`/`limit`; a server without pagination
/// answers with all of them), the clusters, and the commit metadata of each application's recent
/// revisions (cached: a revision's metadata never changes). It maps them to `application`, `cluster` and
/// `change` entities (ArgoCDMapping). A failure of the application list fails the observation; a failure
/// of the cluster list or of one revision's metadata is a warning.
public actor ArgoCDProvider: Provider {
    public nonisolated let name: String
    public nonisolated let manifest: PluginManifest
    let context: ProviderContext
    let http: ProviderHTTPClient
    let mapping: ArgoCDMapping
    let pageSize: Int
    let revisionsPerApp: Int
    /// Commit metadata by "repo@revision"; nil records a revision whose metadata Argo CD could not give.
    var revisionCache: [String: ArgoCDAPI.RevisionMetadata?] = [:]

    public init(manifest: PluginManifest, context: ProviderContext) throws {
        self.name = context.name
        self.manifest = manifest
        self.context = context
        guard let url = context.string("url") else { throw ProviderError(.invalid, "\(context.name): url is required") }
        http = try ProviderHTTPClient(
            baseURL: url, caFile: context.string("ca_file"), insecure: context.bool("insecure") ?? false,
            timeout: context.timeout, maxBytes: context.int("max_response_bytes") ?? (64 << 20))
        pageSize = context.int("page_size") ?? 500
        revisionsPerApp = context.int("revision_metadata") ?? 2
        mapping = ArgoCDMapping(
            instance: context.name, environment: context.environment, argoNamespace: context.string("namespace") ?? "argocd",
            environmentLabel: context.string("environment_label") ?? "meow.io/environment",
            eventWindow: context.double("event_window") ?? 86400)
    }

    public func shutdown() async { await http.shutdown() }

    /// `GET /api/version` (the server answers) and `GET /api/v1/session/userinfo` (the token is valid),
    /// then one application list request (the token may read applications).
    public func checkHealth() async -> ProviderHealth {
        do {
            let version = try await get(ArgoCDAPI.Version.self, "/api/version").Version ?? "unknown version"
            let user = try await get(ArgoCDAPI.UserInfo.self, "/api/v1/session/userinfo")
            guard user.loggedIn == true else {
                return ProviderHealth(
                    ok: false, message: "Argo CD \(version) answers, but the token is not accepted (check token_env/token_file)")
            }
            let apps = try await listApplications()
            return ProviderHealth(
                ok: true,
                message: "Argo CD \(version), logged in as \(user.username ?? "?"), \(apps.count) applications visible")
        } catch {
            return ProviderHealth(ok: false, message: "\(error)")
        }
    }

    // MARK: Observe

    public func observe() async throws -> Observation {
        let now = Date()
        var warnings: [String] = []
        let apps = try await listApplications()
        var clusters: [ArgoCDAPI.Cluster] = []
        do {
            clusters = try await get(ArgoCDAPI.ClusterList.self, "/api/v1/clusters").items ?? []
        } catch let e as ProviderError where e.kind == .forbidden || e.kind == .notFound {
            warnings.append("clusters not observed: \(e.message)")
        }
        let changes = await revisionMetadata(for: apps, warnings: &warnings)
        let entities = mapping.entities(apps: apps, clusters: clusters, changes: changes, at: now)
        return Observation(entities: entities, warnings: warnings)
    }

    /// `GET /api/v1/applications`, page by page. The request carries `offset` and `limit`
    /// (Argo CD's server-side pagination); a page shorter than the limit is the last, and a page longer
    /// than the limit means the server ignores pagination and sent everything.
    func listApplications() async throws -> [ArgoCDAPI.Application] {
        var all: [ArgoCDAPI.Application] = []
        var offset = 0
        var base: [(String, String)] = []
        for p in context.strings("projects") { base.append(("projects", p)) }
        if let selector = context.string("selector") { base.append(("selector", selector)) }
        while true {
            let page = try await get(
                ArgoCDAPI.ApplicationList.self, "/api/v1/applications",
                query: base + [("offset", String(offset)), ("limit", String(pageSize))])
            let items = page.items ?? []
            all += items
            if items.count > pageSize { return items }  // no pagination on this server: the whole list
            if items.count < pageSize { return all }
            offset += items.count
            if offset > 1_000_000 { throw ProviderError(.malformed, "GET /api/v1/applications: pagination does not end") }
        }
    }

    func revisionMetadata(for apps: [ArgoCDAPI.Application], warnings: inout [String]) async
        -> [String: ArgoCDAPI.RevisionMetadata]
    {
        guard revisionsPerApp > 0 else { return [:] }
        // Which (app, revision) pairs to read: the synced revision and the latest history entries.
        var wanted: [(app: ArgoCDAPI.Application, revision: String, key: String)] = []
        var seen = Set<String>()
        for app in apps {
            guard let source = app.spec?.source, source.chart == nil, let repo = source.repoURL else { continue }
            for r in ArgoCDMapping.recentRevisions(app).prefix(revisionsPerApp) {
                let key = ArgoCDMapping.changeKey(repo: repo, revision: r)
                guard seen.insert(key).inserted else { continue }
                if revisionCache[key] == nil { wanted.append((app, r, key)) }
            }
        }
        // Bounded concurrency: at most 8 requests at a time.
        var results: [(String, Result<ArgoCDAPI.RevisionMetadata, ProviderError>)] = []
        var index = 0
        while index < wanted.count {
            let batch = wanted[index..<min(index + 8, wanted.count)]
            index += batch.count
            await withTaskGroup(of: (String, Result<ArgoCDAPI.RevisionMetadata, ProviderError>).self) { group in
                for w in batch {
                    let path =
                        "/api/v1/applications/\(ProviderHTTPClient.segment(w.app.metadata?.name ?? ""))/revisions/"
                        + "\(ProviderHTTPClient.segment(w.revision))/metadata"
                    var query: [(String, String)] = []
                    if let ns = w.app.metadata?.namespace, ns != mapping.argoNamespace { query.append(("appNamespace", ns)) }
                    if let project = w.app.spec?.project { query.append(("project", project)) }
                    group.addTask {
                        do {
                            return (w.key, .success(try await self.get(ArgoCDAPI.RevisionMetadata.self, path, query: query)))
                        } catch let e as ProviderError {
                            return (w.key, .failure(e))
                        } catch {
                            return (w.key, .failure(ProviderError(.unavailable, "\(error)")))
                        }
                    }
                }
                for await r in group { results.append(r) }
            }
        }
        for (key, result) in results {
            switch result {
            case .success(let m): revisionCache[key] = .some(m)
            case .failure(let e) where e.kind == .notFound || e.kind == .forbidden || e.kind == .invalid:
                revisionCache[key] = .some(nil)  // a permanent answer: don't ask again
                warnings.append("revision metadata \(key): \(e.message)")
            case .failure(let e):
                warnings.append("revision metadata \(key): \(e.message)")
            }
        }
        if revisionCache.count > 50_000 { revisionCache.removeAll() }
        var out: [String: ArgoCDAPI.RevisionMetadata] = [:]
        for (k, v) in revisionCache { if let v { out[k] = v } }
        return out
    }

    // MARK: Actions

    public func perform(_ request: ActionRequest) async throws -> ActionOutcome {
        guard let action = manifest.action(request.action) else {
            throw ProviderError(
                .invalid,
                "argocd has no action \"\(request.action)\" (actions: \(manifest.actions.map(\.name).joined(separator: ", ")))")
        }
        let (appName, appNamespace) = try mapping.applicationName(from: request.subject)
        let params = try ActionParams.validate(request.params, against: action.params, action: action.name)
        let app = "/api/v1/applications/\(ProviderHTTPClient.segment(appName))"
        var query: [(String, String)] = []
        if let appNamespace { query.append(("appNamespace", appNamespace)) }
        switch action.name {
        case "sync":
            var body: [String: Any] = [
                "name": appName, "prune": params["prune"]?.boolValue ?? false, "dryRun": params["dry_run"]?.boolValue ?? false,
            ]
            if let r = params["revision"]?.stringValue { body["revision"] = r }
            if let appNamespace { body["appNamespace"] = appNamespace }
            let result = try await call(.POST, "\(app)/sync", query: query, body: body)
            return ActionOutcome(
                ok: true, message: "sync of \(appName) started" + (params["revision"]?.stringValue.map { " at \($0)" } ?? ""),
                details: Self.operationDetails(result))
        case "rollback":
            guard let id = params["id"]?.intValue else { throw ProviderError(.invalid, "rollback: id is required") }
            var body: [String: Any] = [
                "name": appName, "id": id, "prune": params["prune"]?.boolValue ?? false,
                "dryRun": params["dry_run"]?.boolValue ?? false,
            ]
            if let appNamespace { body["appNamespace"] = appNamespace }
            let result = try await call(.POST, "\(app)/rollback", query: query, body: body)
            return ActionOutcome(
                ok: true, message: "rollback of \(appName) to history id \(id) started", details: Self.operationDetails(result))
        case "terminate_operation":
            _ = try await call(.DELETE, "\(app)/operation", query: query, body: nil)
            return ActionOutcome(ok: true, message: "operation of \(appName) terminated")
        case "refresh":
            let hard = params["hard"]?.boolValue ?? false
            let result = try await call(.GET, app, query: query + [("refresh", hard ? "hard" : "normal")], body: nil)
            return ActionOutcome(
                ok: true, message: "\(hard ? "hard " : "")refresh of \(appName) requested", details: Self.operationDetails(result)
            )
        default:
            throw ProviderError(.invalid, "argocd action \"\(action.name)\" is declared but not implemented")
        }
    }

    /// After a crash mid-call: Argo CD's operation state shows a sync or rollback started at or after
    /// the call.
    public func reconcile(_ request: ActionRequest) async -> ReconcileVerdict {
        guard request.action == "sync" || request.action == "rollback" else {
            return .unknown("argocd cannot tell whether \(request.action) took effect; check it by hand")
        }
        guard let since = request.startedAt else { return .unknown("no start time to compare with") }
        do {
            let (appName, appNamespace) = try mapping.applicationName(from: request.subject)
            var query: [(String, String)] = []
            if let appNamespace { query.append(("appNamespace", appNamespace)) }
            let app = try await call(.GET, "/api/v1/applications/\(ProviderHTTPClient.segment(appName))", query: query, body: nil)
            let op = app["status"]?["operationState"]
            let started = op?["startedAt"]?.stringValue
            // Argo CD's times have second precision.
            if let started, let t = Timestamp.parse(started), t >= since.addingTimeInterval(-1) {
                return .done("Argo CD shows an operation started at \(started), phase \(op?["phase"]?.stringValue ?? "?")")
            }
            return .notDone("Argo CD's last operation started at \(started ?? "never"), before the call")
        } catch {
            return .unknown("could not ask Argo CD: \(error)")
        }
    }

    static func operationDetails(_ app: Value) -> Value {
        var d: [String: Value] = [:]
        if let phase = app["status"]?["operationState"]?["phase"] { d["phase"] = phase }
        if let sync = app["status"]?["sync"]?["status"] { d["sync_status"] = sync }
        if let health = app["status"]?["health"]?["status"] { d["health"] = health }
        if let revision = app["status"]?["sync"]?["revision"] { d["revision"] = revision }
        return .object(d)
    }

    // MARK: HTTP

    func headers() throws -> [(String, String)] {
        guard let token = try context.secret(env: "token_env", file: "token_file", what: "token") else { return [] }
        return [("Authorization", "Bearer \(token)")]
    }

    func get<T: Decodable>(_ type: T.Type, _ path: String, query: [(String, String)] = []) async throws -> T {
        let response = try await http.send(.GET, path, query: query, headers: try headers())
        try Self.check(response, "GET \(path)", base: http.baseURL)
        return try http.decode(T.self, response, "GET \(path)")
    }

    func call(_ method: HTTPMethod, _ path: String, query: [(String, String)], body: [String: Any]?) async throws -> Value {
        let data = try body.map { try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]) }
        let response = try await http.send(method, path, query: query, body: data, headers: try headers())
        try Self.check(response, "\(method.rawValue) \(path)", base: http.baseURL)
        if response.body.isEmpty { return .object([:]) }
        return try http.decode(Value.self, response, "\(method.rawValue) \(path)")
    }

    /// Maps an HTTP status to a ProviderError, with Argo CD's own message when the body has one.
    static func check(_ r: ProviderHTTPClient.Response, _ label: String, base: String) throws {
        let body = try? JSONDecoder().decode(ArgoCDAPI.ErrorBody.self, from: r.body)
        if let e = ProviderError.forStatus(
            r.status, label, base: base,
            said: body?.message ?? body?.error ?? String(decoding: r.body.prefix(200), as: UTF8.self),
            unauthorizedHint: "check token_env/token_file", forbiddenHint: "the token's role lacks this permission")
        {
            throw e
        }
    }
}
