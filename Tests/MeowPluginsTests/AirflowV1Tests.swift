import Foundation
import MeowDoubles
import MeowModel
import MeowTesting
import Testing

@testable import MeowPlugins

/// The Airflow provider in `api_version: v1` (Airflow 2) against the v1 double.
@Suite struct AirflowV1Tests {
    func provider(_ double: AirflowV1Double, password: String = "admin", settings: [String: Value] = [:]) async throws
        -> AirflowProvider
    {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("meow-af1-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("password").path
        try password.write(toFile: file, atomically: true, encoding: .utf8)
        var s: [String: Value] = [
            "url": .string(await double.baseURL), "api_version": .string("v1"), "username": .string("admin"),
            "password_file": .string(file),
        ]
        for (k, v) in settings { s[k] = v }
        let manifest = try #require(PluginRegistry.builtin.plugin("airflow")?.manifest)
        return try AirflowProvider(
            manifest: manifest, context: ProviderContext(name: "airflow-v1", environment: "staging", settings: s, timeout: 5))
    }

    func start() async throws -> AirflowV1Double {
        let d = AirflowV1Double()
        _ = try await d.start()
        return d
    }

    @Test func dagsRunsTasksAndSeriesAreMapped() async throws {
        let double = try await start()
        defer { Task { await double.stop() } }
        let p = try await provider(double, settings: ["page_size": .int(2)])
        defer { Task { await p.shutdown() } }
        let o = try await p.observe()
        let dags = Dictionary(
            o.entities.compactMap { e -> (String, DAG)? in if case .dag(let d) = e { (d.dagId!, d) } else { nil } },
            uniquingKeysWith: { a, _ in a })
        #expect(dags.keys.sorted() == ["archive_weekly", "billing_daily", "ingest_hourly"])
        let ingest = try #require(dags["ingest_hourly"])
        #expect(ingest.schedule == "0 * * * *" && ingest.owners == ["data"] && ingest.tags == ["team:data"])
        #expect(ingest.environment == "staging" && ingest.nextRun != nil)
        #expect(ingest.failuresInARow == 2 && ingest.recentRunStates?.suffix(3) == ["success", "failed", "failed"])
        #expect(dags["archive_weekly"]?.paused == true && dags["billing_daily"]?.failuresInARow == 0)
        let runs = o.entities.compactMap { e -> DAGRun? in
            if case .dagRun(let r) = e, r.dagId == "billing_daily" { r } else { nil }
        }
        #expect(runs.count == 8)
        let newest = try #require(runs.max { ($0.start ?? .distantPast) < ($1.start ?? .distantPast) })
        #expect(newest.durationSeconds == 370 && newest.state == "success" && newest.logicalDate != nil)  // +00:00 times parse
        // task instances of the newest 3 runs only
        let tasks = o.entities.compactMap { e -> TaskInstance? in
            if case .taskInstance(let t) = e, t.dagId == "billing_daily" { t } else { nil }
        }
        #expect(tasks.count == 6 && tasks.allSatisfy { $0.queuedWaitSeconds == 12 && $0.pool == "default_pool" })
        // series for the detectors: durations of every finished run, queue waits where task instances were read
        let series = o.entities.compactMap { e -> Series? in if case .series(let s) = e { s } else { nil } }
        let durations = try #require(series.first { $0.id == "series/dag_duration/dag/airflow-v1/billing_daily" })
        #expect(durations.values == [300, 310, 320, 330, 340, 350, 360, 370])
        let waits = try #require(series.first { $0.id == "series/queue_wait/dag/airflow-v1/billing_daily" })
        #expect(waits.values == [12, 12, 12])
        // the broken file
        #expect(
            o.entities.contains { e in
                if case .event(let v) = e {
                    return v.type == "import_error"
                        && v.message == "/opt/airflow/dags/broken.py: ModuleNotFoundError: No module named 'pandas_gbq'"
                }
                return false
            })
        // paging and auth
        let requests = await double.requests
        #expect(requests.filter { $0.path == "/api/v1/dags" }.map { $0.parameter("offset") } == ["0", "2"])
        #expect(requests.allSatisfy { $0.authorization == "Basic " + Data("admin:admin".utf8).base64EncodedString() })
        // a second poll reads task instances only of unfinished runs (none here)
        await double.clearRequests()
        _ = try await p.observe()
        #expect(await double.requests.filter { $0.path.hasSuffix("/taskInstances") }.isEmpty)
    }

    @Test func actionsUseAirflow2Shapes() async throws {
        let double = try await start()
        defer { Task { await double.stop() } }
        let p = try await provider(double)
        defer { Task { await p.shutdown() } }
        // trigger: Airflow 2 refuses a null logical_date, so none is sent
        let t = try await p.perform(
            ActionRequest(
                action: "trigger", subject: "dag/airflow-v1/billing_daily",
                params: ["conf": .object(["day": .string("2026-11-26")])]))
        #expect(t.ok && t.details["state"] == .string("queued"))
        let posted = try #require(await double.requests.last)
        #expect(
            try JSONDecoder().decode(Value.self, from: posted.body) == .object(["conf": .object(["day": .string("2026-11-26")])]))
        let o = try await p.observe()
        #expect(
            o.entities.contains { e in
                if case .dagRun(let r) = e {
                    r.runId == t.details["dag_run_id"]?.stringValue && r.state == "queued"
                } else {
                    false
                }
            })
        // with the pipeline's key, the run is named after it and reconcile finds it
        let keyed = ActionRequest(action: "trigger", subject: "dag/airflow-v1/billing_daily", key: "rule|subject|window")
        #expect(await p.reconcile(keyed) == .notDone("billing_daily has no run \(keyed.keyName!)"))
        let k = try await p.perform(keyed)
        #expect(k.details["dag_run_id"]?.stringValue == keyed.keyName)
        #expect(await p.reconcile(keyed) == .done("run \(keyed.keyName!) of billing_daily exists (queued)"))
        // pause with update_mask
        let pause = ActionRequest(action: "pause", subject: "dag/airflow-v1/billing_daily")
        #expect(await p.reconcile(pause) == .notDone("billing_daily is not paused"))
        let paused = try await p.perform(pause)
        #expect(paused.details["is_paused"] == .bool(true))
        #expect(await double.requests.last?.parameter("update_mask") == "is_paused")
        #expect(await p.reconcile(pause) == .done("billing_daily is paused"))
        // clear the newest failed run: the failed task only (nothing downstream of it here)
        let failed = try #require(
            o.entities.compactMap { e -> DAGRun? in
                if case .dagRun(let r) = e, r.dagId == "ingest_hourly", r.state == "failed" { r } else { nil }
            }
            .max { ($0.start ?? .distantPast) < ($1.start ?? .distantPast) })
        let cleared = try await p.perform(ActionRequest(action: "clear_failed", subject: failed.id))
        #expect(cleared.details["task_ids"] == .array([.string("load")]))
        let clearBody = try JSONDecoder().decode(Value.self, from: try #require(await double.requests.last).body)
        #expect(
            clearBody["dry_run"] == .bool(false) && clearBody["only_failed"] == .bool(true)
                && clearBody["include_downstream"] == .bool(true))
        // mark a run failed, with the state checked by the manifest first
        await #expect(throws: ProviderError.self) {
            try await p.perform(ActionRequest(action: "mark_run", subject: failed.id, params: ["state": .string("done")]))
        }
        let marked = try await p.perform(
            ActionRequest(action: "mark_run", subject: failed.id, params: ["state": .string("success")]))
        #expect(marked.details["state"] == .string("success"))
        // subjects of another instance or kind are refused before any request
        await #expect(throws: ProviderError.self) {
            try await p.perform(ActionRequest(action: "pause", subject: "dag/airflow-prod/billing_daily"))
        }
        await #expect(throws: ProviderError.self) {
            try await p.perform(ActionRequest(action: "clear_failed", subject: "dag/airflow-v1/billing_daily"))
        }
    }

    @Test func errorsAreExplained() async throws {
        let double = try await start()
        defer { Task { await double.stop() } }
        let wrong = try await provider(double, password: "nope")
        do {
            _ = try await wrong.observe()
            Issue.record("observed with a wrong password")
        } catch let e as ProviderError {
            #expect(e.kind == .unauthorized && e.message.hasPrefix("GET /api/v1/dags: 401 Unauthorized from"), "\(e.message)")
        }
        await wrong.shutdown()
        let p = try await provider(double)
        defer { Task { await p.shutdown() } }
        await double.inject(.init(status: 503, pathPrefix: "/api/v1/dags"))
        do {
            _ = try await p.observe()
            Issue.record("observed through a 503")
        } catch let e as ProviderError {
            #expect(e.kind == .unavailable && e.message.contains("503"))
        }
        await double.clearFaults()
        await double.inject(.init(status: 403, pathPrefix: "/api/v1/importErrors"))
        let partial = try await p.observe()
        #expect(partial.warnings.contains { $0.hasPrefix("import errors not observed: GET /api/v1/importErrors: 403 Forbidden") })
        let health = await p.checkHealth()
        #expect(
            health.ok && health.message.hasPrefix("Airflow 2 (API v1): metadatabase healthy, scheduler healthy; 3 DAGs visible"))
    }
}
