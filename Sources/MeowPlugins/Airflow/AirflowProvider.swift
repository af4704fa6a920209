import Foundation
import Logging
import MeowModel
import NIOHTTP1

/// Observes one Airflow deployment through its stable REST API and runs its actions: Airflow 3's
/// `/api/v2` (token from `POST /auth/token`) or Airflow 2's `/api/v1` (HTTP basic auth), per instance.
///
/// One `observe()` lists the DAGs (paged), the import errors, and for each DAG its newest runs
/// (`runs_per_dag`, newest first); the task instances of the newest `task_runs` runs are read when a run
/// is new or not finished (finished runs don't change). Runs are kept per DAG between polls, up to
/// `history` of them, for the detectors' series (dag_duration, queue_wait).
public actor AirflowProvider: Provider {
    public nonisolated let name: String
    public nonisolated let manifest: PluginManifest
    let context: ProviderContext
    let http: ProviderHTTPClient
    let v1: Bool
    let prefix: String
    let mapping: AirflowMapping
    let runsPerDAG: Int
    let taskRuns: Int
    let historyLimit: Int
    let dagIDs: Set<String>
    let pageSize: Int
    var token: String?
    /// Runs seen so far, by DAG id then run id.
    var runs: [String: [String: AirflowAPI.DAGRun]] = [:]
    /// Task instances of runs, by "dag/run"; re-read while the run is not finished.
    var tasks: [String: [AirflowAPI.TaskInstance]] = [:]
    /// When each DAG's runs were last read successfully (the next poll asks only for runs changed since).
    var lastRunsPoll: [String: Date] = [:]

    public init(manifest: PluginManifest, context: ProviderContext) throws {
        name = context.name
        self.manifest = manifest
        self.context = context
        guard let url = context.string("url") else { throw ProviderError(.invalid, "\(context.name): url is required") }
        http = try ProviderHTTPClient(
            baseURL: url, caFile: context.string("ca_file"), insecure: context.bool("insecure") ?? false,
            timeout: context.timeout, maxBytes: context.int("max_response_bytes") ?? (64 << 20))
        v1 = context.string("api_version") == "v1"
        prefix = v1 ? "/api/v1" : "/api/v2"
        runsPerDAG = context.int("runs_per_dag") ?? 25
        taskRuns = context.int("task_runs") ?? 3
        historyLimit = max(context.int("history") ?? 100, runsPerDAG)
        dagIDs = Set(context.strings("dag_ids"))
        pageSize = context.int("page_size") ?? 100
        mapping = AirflowMapping(instance: context.name, environment: context.environment)
    }

    public func shutdown() async { await http.shutdown() }

    // MARK: Observe

    public func observe() async throws -> Observation {
        let now = Date()
        var warnings: [String] = []
        var dags = try await listDAGs()
        if !dagIDs.isEmpty { dags = dags.filter { dagIDs.contains($0.dag_id ?? "") } }
        var importErrors: [AirflowAPI.ImportError] = []
        do {
            importErrors = try await pages(
                AirflowAPI.ImportErrorList.self, "\(prefix)/importErrors", items: { $0.import_errors },
                total: { $0.total_entries })
        } catch let e as ProviderError where e.kind == .forbidden || e.kind == .notFound {
            warnings.append("import errors not observed: \(e.message)")
        }
        // runs of each DAG, newest first, 8 DAGs at a time
        let ids = dags.compactMap(\.dag_id)
        var fetched: [String: [AirflowAPI.DAGRun]] = [:]
        for start in stride(from: 0, to: ids.count, by: 8) {
            let batch = Array(ids[start..<min(start + 8, ids.count)])
            let results = try await withThrowingTaskGroup(of: (String, [AirflowAPI.DAGRun]).self) { group in
                for id in batch {
                    group.addTask { (id, try await self.newestRuns(of: id)) }
                }
                var out: [(String, [AirflowAPI.DAGRun])] = []
                for try await r in group { out.append(r) }
                return out
            }
            for (id, list) in results { fetched[id] = list }
        }
        for (id, list) in fetched {
            lastRunsPoll[id] = now
            var known = runs[id] ?? [:]
            for r in list { if let rid = r.dag_run_id { known[rid] = r } }
            if known.count > historyLimit {
                let keep = known.values.sorted { AirflowMapping.runTime($0) > AirflowMapping.runTime($1) }.prefix(historyLimit)
                known = Dictionary(keep.compactMap { r in r.dag_run_id.map { ($0, r) } }, uniquingKeysWith: { a, _ in a })
            }
            runs[id] = known
        }
        runs = runs.filter { ids.contains($0.key) }
        lastRunsPoll = lastRunsPoll.filter { ids.contains($0.key) }
        // task instances of the newest runs, when new or unfinished
        var wanted: [(String, String)] = []
        for id in ids {
            let newest = (runs[id] ?? [:]).values.sorted { AirflowMapping.runTime($0) > AirflowMapping.runTime($1) }.prefix(
                taskRuns)
            for r in newest {
                guard let rid = r.dag_run_id else { continue }
                let key = "\(id)/\(rid)"
                if tasks[key] == nil || !AirflowMapping.finished(r.state)
                    || tasks[key]!.contains(where: { !AirflowMapping.finished($0.state) })
                {
                    wanted.append((id, rid))
                }
            }
        }
        for start in stride(from: 0, to: wanted.count, by: 8) {
            let batch = Array(wanted[start..<min(start + 8, wanted.count)])
            let results = await withTaskGroup(of: (String, Result<[AirflowAPI.TaskInstance], ProviderError>).self) { group in
                for (dag, run) in batch {
                    group.addTask {
                        do {
                            return ("\(dag)/\(run)", .success(try await self.taskInstances(dag, run)))
                        } catch let e as ProviderError {
                            return ("\(dag)/\(run)", .failure(e))
                        } catch {
                            return ("\(dag)/\(run)", .failure(ProviderError(.unavailable, "\(error)")))
                        }
                    }
                }
                var out: [(String, Result<[AirflowAPI.TaskInstance], ProviderError>)] = []
                for await r in group { out.append(r) }
                return out
            }
            for (key, r) in results {
                switch r {
                case .success(let list): tasks[key] = list
                case .failure(let e): warnings.append("task instances of \(key): \(e.message)")
                }
            }
        }
        let live = Set(runs.flatMap { dag, byRun in byRun.keys.map { "\(dag)/\($0)" } })
        tasks = tasks.filter { live.contains($0.key) }
        let entities = mapping.entities(
            dags: dags, runs: runs, tasks: tasks, importErrors: importErrors, taskRuns: taskRuns, at: now)
        return Observation(entities: entities, warnings: warnings)
    }

    func listDAGs() async throws -> [AirflowAPI.DAG] {
        try await pages(AirflowAPI.DAGList.self, "\(prefix)/dags", items: { $0.dags }, total: { $0.total_entries })
    }

    /// The runs to merge for a DAG. First poll: the newest `runs_per_dag`. Later polls on Airflow 3: every
    /// run created or changed since the last poll (`updated_at_gte`, with a minute of margin for clock
    /// skew), page by page up to `history`. Airflow 2's v1 API has no such filter: the newest
    /// `runs_per_dag` every time.
    func newestRuns(of dag: String) async throws -> [AirflowAPI.DAGRun] {
        let path = "\(prefix)/dags/\(ProviderHTTPClient.segment(dag))/dagRuns"
        guard !v1, let since = lastRunsPoll[dag] else {
            let list = try await get(
                AirflowAPI.DAGRunList.self, path,
                query: [("limit", String(runsPerDAG)), ("order_by", v1 ? "-execution_date" : "-run_after")])
            return list.dag_runs ?? []
        }
        var all: [AirflowAPI.DAGRun] = []
        let updated = Timestamp.format(since.addingTimeInterval(-60))
        while all.count < historyLimit {
            let page = try await get(
                AirflowAPI.DAGRunList.self, path,
                query: [
                    ("updated_at_gte", updated), ("order_by", "-run_after"), ("limit", String(min(pageSize, 100))),
                    ("offset", String(all.count)),
                ])
            let got = page.dag_runs ?? []
            all += got
            if got.isEmpty || all.count >= (page.total_entries ?? 0) { break }
        }
        return all
    }

    func taskInstances(_ dag: String, _ run: String) async throws -> [AirflowAPI.TaskInstance] {
        try await get(
            AirflowAPI.TaskInstanceList.self,
            "\(prefix)/dags/\(ProviderHTTPClient.segment(dag))/dagRuns/\(ProviderHTTPClient.segment(run))/taskInstances",
            query: [("limit", "100")]
        ).task_instances ?? []
    }

    /// Every page of a list endpoint (`limit`/`offset`, `total_entries`; Airflow caps `limit` at 100).
    func pages<T: Decodable, Item>(_ type: T.Type, _ path: String, items: (T) -> [Item]?, total: (T) -> Int?)
        async throws -> [Item]
    {
        var all: [Item] = []
        var offset = 0
        while true {
            let page = try await get(T.self, path, query: [("limit", String(pageSize)), ("offset", String(offset))])
            let got = items(page) ?? []
            all += got
            offset += got.count
            if got.isEmpty || offset >= (total(page) ?? 0) || offset > 1_000_000 { return all }
        }
    }

    // MARK: Actions

    public func perform(_ request: ActionRequest) async throws -> ActionOutcome {
        guard let action = manifest.action(request.action) else {
            throw ProviderError(
                .invalid,
                "airflow has no action \"\(request.action)\" (actions: \(manifest.actions.map(\.name).joined(separator: ", ")))")
        }
        let params = try ActionParams.validate(request.params, against: action.params, action: action.name)
        switch action.name {
        case "trigger":
            let dag = try mapping.dagID(from: request.subject)
            var body: [String: Any] = ["conf": (params["conf"].map { Self.any($0) }) ?? [String: Any]()]
            if !v1 { body["logical_date"] = NSNull() }
            // Named after the pipeline's idempotency key, so that `reconcile` can find it after a crash.
            if let name = request.keyName { body["dag_run_id"] = name }
            let run = try await call(.POST, "\(prefix)/dags/\(ProviderHTTPClient.segment(dag))/dagRuns", body: body)
            return ActionOutcome(
                ok: true, message: "triggered \(dag): run \(run["dag_run_id"]?.stringValue ?? "?")",
                details: .object(["dag_run_id": run["dag_run_id"] ?? .null, "state": run["state"] ?? .null]))
        case "clear_failed":
            let (dag, run) = try mapping.runID(from: request.subject)
            let body: [String: Any] = [
                "dag_run_id": run, "dry_run": false, "only_failed": true,
                "include_downstream": params["include_downstream"]?.boolValue ?? true, "reset_dag_runs": true,
            ]
            let result = try await call(.POST, "\(prefix)/dags/\(ProviderHTTPClient.segment(dag))/clearTaskInstances", body: body)
            let cleared = result["task_instances"]?.arrayValue?.compactMap { $0["task_id"]?.stringValue } ?? []
            return ActionOutcome(
                ok: true,
                message: "cleared \(cleared.count) task instance(s) of \(dag) run \(run): \(cleared.joined(separator: ", "))",
                details: .object(["task_ids": .array(cleared.map { .string($0) })]))
        case "mark_run":
            let (dag, run) = try mapping.runID(from: request.subject)
            guard let state = params["state"]?.stringValue else { throw ProviderError(.invalid, "mark_run: state is required") }
            let result = try await call(
                .PATCH, "\(prefix)/dags/\(ProviderHTTPClient.segment(dag))/dagRuns/\(ProviderHTTPClient.segment(run))",
                body: ["state": state])
            return ActionOutcome(
                ok: true, message: "marked \(dag) run \(run) \(state)", details: .object(["state": result["state"] ?? .null]))
        case "pause", "unpause":
            let dag = try mapping.dagID(from: request.subject)
            let paused = action.name == "pause"
            let result = try await call(
                .PATCH, "\(prefix)/dags/\(ProviderHTTPClient.segment(dag))", query: v1 ? [("update_mask", "is_paused")] : [],
                body: ["is_paused": paused])
            return ActionOutcome(
                ok: true, message: "\(paused ? "paused" : "unpaused") \(dag)",
                details: .object(["is_paused": result["is_paused"] ?? .null]))
        default:
            throw ProviderError(.invalid, "airflow action \"\(action.name)\" is declared but not implemented")
        }
    }

    /// After a crash mid-call: a triggered run exists under the key's name; a DAG is paused or not.
    public func reconcile(_ request: ActionRequest) async -> ReconcileVerdict {
        do {
            switch request.action {
            case "trigger":
                let dag = try mapping.dagID(from: request.subject)
                guard let name = request.keyName else { return .unknown("no idempotency key, so no run name to look up") }
                do {
                    let run = try await call(
                        .GET, "\(prefix)/dags/\(ProviderHTTPClient.segment(dag))/dagRuns/\(ProviderHTTPClient.segment(name))",
                        body: nil)
                    return .done("run \(name) of \(dag) exists (\(run["state"]?.stringValue ?? "?"))")
                } catch let e as ProviderError where e.kind == .notFound {
                    return .notDone("\(dag) has no run \(name)")
                }
            case "pause", "unpause":
                let dag = try mapping.dagID(from: request.subject)
                let info = try await call(.GET, "\(prefix)/dags/\(ProviderHTTPClient.segment(dag))", body: nil)
                let want = request.action == "pause"
                return info["is_paused"]?.boolValue == want
                    ? .done("\(dag) is \(want ? "paused" : "not paused")")
                    : .notDone("\(dag) is \(want ? "not paused" : "paused")")
            default:
                return .unknown("airflow cannot tell whether \(request.action) took effect; check the run's task instances")
            }
        } catch {
            return .unknown("could not ask Airflow: \(error)")
        }
    }

    static func any(_ v: Value) -> Any {
        switch v {
        case .null: NSNull()
        case .bool(let b): b
        case .int(let i): i
        case .double(let d): d
        case .string(let s): s
        case .array(let a): a.map(any)
        case .object(let o): o.mapValues(any)
        }
    }

    // MARK: Health

    public func checkHealth() async -> ProviderHealth {
        do {
            let health = try await call(.GET, v1 ? "/api/v1/health" : "/api/v2/monitor/health", body: nil, auth: false)
            var parts: [String] = []
            var ok = true
            for component in ["metadatabase", "scheduler", "dag_processor", "triggerer"] {
                guard let s = health[component]?["status"]?.stringValue else { continue }
                parts.append("\(component) \(s)")
                if s != "healthy" && component != "triggerer" { ok = false }
            }
            let dags = try await listDAGs()
            return ProviderHealth(
                ok: ok,
                message:
                    "Airflow \(v1 ? "2 (API v1)" : "3 (API v2)"): \(parts.joined(separator: ", ")); \(dags.count) DAGs visible")
        } catch {
            return ProviderHealth(ok: false, message: "\(error)")
        }
    }

    // MARK: HTTP

    /// The Authorization header: a bearer token from `/auth/token` (v2; fetched once, again after a
    /// 401/403), or HTTP basic (v1).
    func authorization(refresh: Bool = false) async throws -> [(String, String)] {
        guard let user = context.string("username") else { return [] }
        let password = try context.secret(env: "password_env", file: "password_file", what: "password") ?? ""
        if v1 {
            return [("Authorization", "Basic " + Data("\(user):\(password)".utf8).base64EncodedString())]
        }
        if let token, !refresh { return [("Authorization", "Bearer \(token)")] }
        let body = try JSONSerialization.data(withJSONObject: ["username": user, "password": password])
        let r = try await http.send(.POST, "/auth/token", body: body)
        guard (200..<300).contains(r.status) else {
            throw ProviderError(
                r.status == 401 || r.status == 403 ? .unauthorized : r.status >= 500 ? .unavailable : .invalid,
                "POST /auth/token: \(r.status) from \(http.baseURL)\(Self.message(r).isEmpty ? "" : ": " + Self.message(r)) (check username and password_env/password_file)"
            )
        }
        guard let t = (try? JSONDecoder().decode(AirflowAPI.Token.self, from: r.body))?.access_token else {
            throw ProviderError(.malformed, "POST /auth/token: no access_token in the answer from \(http.baseURL)")
        }
        token = t
        return [("Authorization", "Bearer \(t)")]
    }

    func send(_ method: HTTPMethod, _ path: String, query: [(String, String)], body: Data?, auth: Bool)
        async throws -> ProviderHTTPClient.Response
    {
        var response = try await http.send(method, path, query: query, body: body, headers: auth ? try await authorization() : [])
        if auth, !v1, response.status == 401 || response.status == 403, token != nil {
            // the token expired (24 h) or the server restarted with another secret: one new token, one retry
            response = try await http.send(
                method, path, query: query, body: body, headers: try await authorization(refresh: true))
        }
        try Self.check(response, "\(method.rawValue) \(path)", base: http.baseURL)
        return response
    }

    func get<T: Decodable>(_ type: T.Type, _ path: String, query: [(String, String)] = []) async throws -> T {
        let r = try await send(.GET, path, query: query, body: nil, auth: true)
        return try http.decode(T.self, r, "GET \(path)")
    }

    func call(_ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: [String: Any]?, auth: Bool = true)
        async throws -> Value
    {
        let data = try body.map { try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]) }
        let r = try await send(method, path, query: query, body: data, auth: auth)
        if r.body.isEmpty { return .object([:]) }
        return try http.decode(Value.self, r, "\(method.rawValue) \(path)")
    }

    /// Airflow's own message: v2 `detail`, v1 problem JSON `detail`/`title`.
    static func message(_ r: ProviderHTTPClient.Response) -> String {
        let body = try? JSONDecoder().decode(AirflowAPI.ErrorBody.self, from: r.body)
        return body?.message ?? String(decoding: r.body.prefix(200), as: UTF8.self)
    }

    static func check(_ r: ProviderHTTPClient.Response, _ label: String, base: String) throws {
        if let e = ProviderError.forStatus(
            r.status, label, base: base, said: message(r), unauthorizedHint: "check username and password",
            forbiddenHint: "the user's role lacks this permission")
        {
            throw e
        }
    }
}
