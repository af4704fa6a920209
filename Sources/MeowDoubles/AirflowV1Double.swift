import Foundation
import MeowModel

/// A stand-in for Airflow 2's stable REST API (`/api/v1`), from its documented shapes: HTTP basic auth,
/// `total_entries` pagination with `limit`/`offset`, runs with `execution_date` and `+00:00` times,
/// problem-JSON errors (`{"detail", "status", "title", "type"}`), and the actions meow uses. (Airflow 3's
/// `/api/v2` is tested against a real Airflow instead.)
public actor AirflowV1Double {
    public struct Fault: Sendable {
        public var status: Int
        public var pathPrefix: String?
        public init(status: Int, pathPrefix: String? = nil) {
            self.status = status
            self.pathPrefix = pathPrefix
        }
    }

    public private(set) var dags: [Value]
    /// Runs by DAG id, oldest first.
    public private(set) var runs: [String: [Value]]
    /// Task instances by "dag/run".
    public private(set) var tasks: [String: [Value]]
    public private(set) var importErrors: [Value]
    public var users: [String: String]
    public private(set) var requests: [DoubleRequest] = []
    var faults: [Fault] = []
    var server: LoopbackServer?
    var counter = 0

    public init(users: [String: String] = ["admin": "admin"], at now: Date = Date()) {
        self.users = users
        (dags, runs, tasks, importErrors) = Self.sample(at: now)
    }

    public func inject(_ fault: Fault) { faults.append(fault) }
    public func clearFaults() { faults.removeAll() }
    public func clearRequests() { requests.removeAll() }

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

    static func time(_ d: Date) -> String {
        // Airflow 2 writes offsets, not Z
        Timestamp.format(d).replacingOccurrences(of: "Z", with: "+00:00")
    }

    /// Three DAGs (one hourly, one failing, one paused), eight runs each, and one broken file.
    static func sample(at now: Date) -> ([Value], [String: [Value]], [String: [Value]], [Value]) {
        var dags: [Value] = []
        var runs: [String: [Value]] = [:]
        var tasks: [String: [Value]] = [:]
        for (dagID, cron, paused, failing) in [
            ("billing_daily", "0 2 * * *", false, false), ("ingest_hourly", "0 * * * *", false, true),
            ("archive_weekly", "0 3 * * 0", true, false),
        ] {
            dags.append(
                .object([
                    "dag_id": .string(dagID), "is_paused": .bool(paused), "is_active": .bool(true),
                    "fileloc": .string("/opt/airflow/dags/\(dagID).py"), "owners": .array([.string("data")]),
                    "tags": .array([.object(["name": .string("team:data")])]),
                    "schedule_interval": .object(["__type": .string("CronExpression"), "value": .string(cron)]),
                    "next_dagrun": .string(time(now.addingTimeInterval(3600))), "description": .null,
                ]))
            var list: [Value] = []
            for i in 0..<8 {
                let start = now.addingTimeInterval(-Double(8 - i) * 3600)
                let duration = Double(300 + i * 10)
                let failed = failing && i >= 6  // the two newest runs failed
                let runID = "scheduled__\(time(start.addingTimeInterval(-3600)))"
                list.append(
                    .object([
                        "dag_run_id": .string(runID), "dag_id": .string(dagID),
                        "execution_date": .string(time(start.addingTimeInterval(-3600))),
                        "logical_date": .string(time(start.addingTimeInterval(-3600))), "start_date": .string(time(start)),
                        "end_date": .string(time(start.addingTimeInterval(duration))),
                        "state": .string(failed ? "failed" : "success"),
                        "run_type": .string("scheduled"), "external_trigger": .bool(false), "conf": .object([:]),
                    ]))
                tasks["\(dagID)/\(runID)"] = ["extract", "load"].map { task in
                    .object([
                        "task_id": .string(task), "dag_id": .string(dagID), "dag_run_id": .string(runID),
                        "execution_date": .string(time(start.addingTimeInterval(-3600))),
                        "queued_when": .string(time(start.addingTimeInterval(-12))), "start_date": .string(time(start)),
                        "end_date": .string(time(start.addingTimeInterval(duration / 2))), "duration": .double(duration / 2),
                        "state": .string(failed && task == "load" ? "failed" : "success"), "try_number": .int(1),
                        "pool": .string("default_pool"), "operator": .string("PythonOperator"), "map_index": .int(-1),
                    ])
                }
            }
            runs[dagID] = list
        }
        let errors: [Value] = [
            .object([
                "import_error_id": .int(1), "timestamp": .string(time(now)), "filename": .string("/opt/airflow/dags/broken.py"),
                "stack_trace": .string("Traceback (most recent call last):\nModuleNotFoundError: No module named 'pandas_gbq'"),
            ])
        ]
        return (dags, runs, tasks, errors)
    }

    static func problem(_ status: Int, _ title: String, _ detail: String?) -> DoubleResponse {
        .json(
            .object([
                "detail": detail.map { .string($0) } ?? .null, "status": .int(Int64(status)), "title": .string(title),
                "type": .string(
                    "https://airflow.apache.org/docs/apache-airflow/2.10.5/stable-rest-api-ref.html#section/Errors/\(title.replacingOccurrences(of: " ", with: ""))"
                ),
            ]), status: status)
    }

    static func page(_ items: [Value], _ key: String, _ r: DoubleRequest) -> DoubleResponse {
        let limit = min(Int(r.parameter("limit") ?? "100") ?? 100, 100)
        let offset = Int(r.parameter("offset") ?? "0") ?? 0
        return .json(
            .object([key: .array(Array(items.dropFirst(offset).prefix(limit))), "total_entries": .int(Int64(items.count))]))
    }

    func respond(_ r: DoubleRequest) async -> DoubleResponse {
        requests.append(r)
        if let f = faults.first(where: { f in f.pathPrefix.map { r.path.hasPrefix($0) } ?? true }) {
            return Self.problem(f.status, f.status >= 500 ? "Internal Server Error" : "Error", "injected")
        }
        if r.path == "/api/v1/health" {
            return .json(
                .object([
                    "metadatabase": .object(["status": .string("healthy")]),
                    "scheduler": .object(["status": .string("healthy"), "latest_scheduler_heartbeat": .string(Self.time(Date()))]
                    ),
                ]))
        }
        guard r.path.hasPrefix("/api/v1/") else { return Self.problem(404, "Not Found", "The requested URL was not found") }
        // HTTP basic against the users
        guard let auth = r.authorization, auth.hasPrefix("Basic "),
            let decoded = Data(base64Encoded: String(auth.dropFirst(6))).map({ String(decoding: $0, as: UTF8.self) }),
            let colon = decoded.firstIndex(of: ":"),
            users[String(decoded[..<colon])] == String(decoded[decoded.index(after: colon)...])
        else {
            return Self.problem(401, "Unauthorized", nil)
        }
        let parts = r.path.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }.dropFirst(2)
        let body = r.body.isEmpty ? Value.object([:]) : (try? JSONDecoder().decode(Value.self, from: r.body)) ?? .null
        switch (r.method, Array(parts)) {
        case ("GET", ["dags"]):
            return Self.page(dags, "dags", r)
        case ("GET", ["importErrors"]):
            return Self.page(importErrors, "import_errors", r)
        case ("GET", let p) where p.count == 3 && p[0] == "dags" && p[2] == "dagRuns":
            guard let list = runs[p[1]] else { return Self.problem(404, "DAG not found", "DAG with dag_id: '\(p[1])' not found") }
            let ordered = r.parameter("order_by") == "-execution_date" ? list.reversed() : list
            return Self.page(Array(ordered), "dag_runs", r)
        case ("GET", let p) where p.count == 4 && p[0] == "dags" && p[2] == "dagRuns":
            guard let run = runs[p[1]]?.first(where: { $0["dag_run_id"]?.stringValue == p[3] }) else {
                return Self.problem(404, "DAGRun not found", "DAGRun with DAG ID: '\(p[1])' and DagRun ID: '\(p[3])' not found")
            }
            return .json(run)
        case ("GET", let p) where p.count == 2 && p[0] == "dags":
            guard let dag = dags.first(where: { $0["dag_id"]?.stringValue == p[1] }) else {
                return Self.problem(404, "DAG not found", "DAG with dag_id: '\(p[1])' not found")
            }
            return .json(dag)
        case ("GET", let p) where p.count == 5 && p[0] == "dags" && p[2] == "dagRuns" && p[4] == "taskInstances":
            guard let list = tasks["\(p[1])/\(p[3])"] else {
                return Self.problem(404, "DAGRun not found", "DAGRun with DAG ID: '\(p[1])' and DagRun ID: '\(p[3])' not found")
            }
            return Self.page(list, "task_instances", r)
        case ("POST", let p) where p.count == 3 && p[0] == "dags" && p[2] == "dagRuns":
            guard runs[p[1]] != nil else { return Self.problem(404, "DAG not found", "DAG with dag_id: '\(p[1])' not found") }
            if case .object(let o) = body, o.keys.contains("logical_date"), o["logical_date"] == .null {
                return Self.problem(400, "Bad Request", "None is not of type 'string' - 'logical_date'")
            }
            counter += 1
            let now = Date()
            let runID = body["dag_run_id"]?.stringValue ?? "manual__\(Self.time(now))_\(counter)"
            if runs[p[1]]!.contains(where: { $0["dag_run_id"]?.stringValue == runID }) {
                return Self.problem(
                    409, "Conflict", "DAGRun with DAG ID: '\(p[1])' and DAGRun ID: '\(runID)' already exists")
            }
            let run: Value = .object([
                "dag_run_id": .string(runID), "dag_id": .string(p[1]),
                "execution_date": .string(Self.time(now)), "logical_date": .string(Self.time(now)), "start_date": .null,
                "end_date": .null, "state": .string("queued"), "run_type": .string("manual"), "external_trigger": .bool(true),
                "conf": body["conf"] ?? .object([:]),
            ])
            runs[p[1]]!.append(run)
            return .json(run)
        case ("PATCH", let p) where p.count == 2 && p[0] == "dags":
            guard let i = dags.firstIndex(where: { $0["dag_id"]?.stringValue == p[1] }), case .object(var dag) = dags[i] else {
                return Self.problem(404, "DAG not found", "DAG with dag_id: '\(p[1])' not found")
            }
            guard r.parameter("update_mask") == "is_paused", let paused = body["is_paused"]?.boolValue else {
                return Self.problem(400, "Bad Request", "Only `is_paused` field can be updated through the REST API")
            }
            dag["is_paused"] = .bool(paused)
            dags[i] = .object(dag)
            return .json(.object(dag))
        case ("PATCH", let p) where p.count == 4 && p[0] == "dags" && p[2] == "dagRuns":
            guard let state = body["state"]?.stringValue, ["success", "failed", "queued"].contains(state) else {
                return Self.problem(400, "Bad Request", "'state' must be one of success, failed, queued")
            }
            guard let i = runs[p[1]]?.firstIndex(where: { $0["dag_run_id"]?.stringValue == p[3] }),
                case .object(var run) = runs[p[1]]![i]
            else {
                return Self.problem(404, "DAGRun not found", "DAGRun with DAG ID: '\(p[1])' and DagRun ID: '\(p[3])' not found")
            }
            run["state"] = .string(state)
            runs[p[1]]![i] = .object(run)
            return .json(.object(run))
        case ("POST", let p) where p.count == 3 && p[0] == "dags" && p[2] == "clearTaskInstances":
            guard let runID = body["dag_run_id"]?.stringValue, var list = tasks["\(p[1])/\(runID)"] else {
                return Self.problem(404, "DAGRun not found", "DAGRun not found")
            }
            let dry = body["dry_run"]?.boolValue ?? true  // Airflow's default: a dry run
            var cleared: [Value] = []
            var downstream = false
            for (i, t) in list.enumerated() {
                let failed = ["failed", "upstream_failed"].contains(t["state"]?.stringValue ?? "")
                if failed || (downstream && body["include_downstream"]?.boolValue == true) {
                    downstream = true
                    cleared.append(
                        .object(["task_id": t["task_id"] ?? .null, "dag_id": .string(p[1]), "dag_run_id": .string(runID)]))
                    if !dry, case .object(var o) = t {
                        o["state"] = .null
                        o["try_number"] = .int((t["try_number"]?.intValue ?? 1) + 1)
                        list[i] = .object(o)
                    }
                }
            }
            if !dry { tasks["\(p[1])/\(runID)"] = list }
            return .json(.object(["task_instances": .array(cleared)]))
        default:
            return Self.problem(404, "Not Found", "The requested URL was not found on the server.")
        }
    }
}
