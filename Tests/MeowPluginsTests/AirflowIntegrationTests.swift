import Foundation
import MeowModel
import MeowTesting
import Testing

@testable import MeowPlugins

/// The Airflow provider against a **real Airflow 3** that `make test` starts on 127.0.0.1
/// (scripts/airflow-test.sh: the DAGs in Tests/fixtures/airflow/dags). `make test` sets
/// MEOW_REQUIRE_AIRFLOW=1, so there a missing Airflow fails the suite instead of skipping it.
@Suite(.serialized, .enabled(if: RealAirflow.url != nil || RealAirflow.required))
struct AirflowIntegrationTests {

    func provider(password: String = "admin", name: String = "airflow-test") throws -> AirflowProvider {
        guard let url = RealAirflow.url else {
            throw ProviderError(.invalid, "MEOW_AIRFLOW_URL is not set: run the tests with make test (it starts Airflow)")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("meow-airflow-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("password").path
        try password.write(toFile: file, atomically: true, encoding: .utf8)
        let manifest = try #require(PluginRegistry.builtin.plugin("airflow")?.manifest)
        return try AirflowProvider(
            manifest: manifest,
            context: ProviderContext(
                name: name, environment: "prod",
                settings: ["url": .string(url), "username": .string("admin"), "password_file": .string(file)], timeout: 30))
    }

    func dags(_ o: Observation) -> [String: DAG] {
        Dictionary(
            o.entities.compactMap { e -> (String, DAG)? in if case .dag(let d) = e { (d.dagId ?? "", d) } else { nil } },
            uniquingKeysWith: { a, _ in a })
    }

    func runs(_ o: Observation, of dag: String) -> [DAGRun] {
        o.entities.compactMap { e -> DAGRun? in if case .dagRun(let r) = e, r.dagId == dag { r } else { nil } }
    }

    /// Polls until `condition` holds on an observation (Airflow's first runs take 5–10 s), up to `limit` s.
    func observe(_ p: AirflowProvider, until limit: Double = 120, _ condition: (Observation) -> Bool) async throws -> Observation
    {
        let deadline = Date().addingTimeInterval(limit)
        var o = try await p.observe()
        while !condition(o) && Date() < deadline {
            try await Task.sleep(for: .seconds(1))
            o = try await p.observe()
        }
        return o
    }

    @Test func theTestDAGsAndTheImportErrorAreObserved() async throws {
        let p = try provider()
        defer { Task { await p.shutdown() } }
        let o = try await p.observe()
        let d = dags(o)
        #expect(Set(d.keys).isSuperset(of: ["meow_ok", "meow_fail", "meow_sleep"]))
        let ok = try #require(d["meow_ok"])
        #expect(ok.id == "dag/airflow-test/meow_ok" && ok.provider == "airflow-test" && ok.environment == "prod")
        #expect(ok.owners == ["sre"] && ok.tags == ["meow-test"] && ok.paused == false)
        #expect(ok.file?.hasSuffix("Tests/fixtures/airflow/dags/meow_ok.py") == true)
        let importErrors = o.entities.compactMap { e -> Event? in
            if case .event(let v) = e, v.type == "import_error" { v } else { nil }
        }
        #expect(
            importErrors.contains {
                $0.message?.contains("meow_broken.py") == true && $0.message?.contains("this_module_does_not_exist") == true
            })
        #expect(await p.checkHealth().ok)
    }

    @Test func triggeredRunsAreObservedWithStatesDurationsAndTasksAndAFailedRunIsCleared() async throws {
        let p = try provider()
        defer { Task { await p.shutdown() } }
        var triggered: [String: String] = [:]
        for dag in ["meow_ok", "meow_fail", "meow_sleep"] {
            let out = try await p.perform(
                ActionRequest(
                    action: "trigger", subject: "dag/airflow-test/\(dag)", params: ["conf": .object(["by": .string("meow")])]))
            #expect(out.ok)
            triggered[dag] = try #require(out.details["dag_run_id"]?.stringValue)
        }
        func run(_ o: Observation, _ dag: String) -> DAGRun? { runs(o, of: dag).first { $0.runId == triggered[dag] } }
        let done = try await observe(p) { o in
            ["meow_ok", "meow_fail", "meow_sleep"].allSatisfy { ["success", "failed"].contains(run(o, $0)?.state ?? "") }
        }
        let ok = try #require(run(done, "meow_ok"))
        #expect(ok.state == "success" && ok.runType == "manual" && ok.dag == "dag/airflow-test/meow_ok")
        let sleep = try #require(run(done, "meow_sleep"))
        #expect(sleep.state == "success")
        #expect((sleep.durationSeconds ?? 0) >= 4, "meow_sleep sleeps 4 s; duration \(sleep.durationSeconds ?? -1)")
        let failed = try #require(run(done, "meow_fail"))
        #expect(failed.state == "failed")
        // task instances of the failed run
        let tasks = done.entities.compactMap { e -> TaskInstance? in
            if case .taskInstance(let t) = e, t.dagRun == failed.id { t } else { nil }
        }
        let byTask = Dictionary(tasks.map { ($0.taskId ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        #expect(byTask["extract"]?.state == "success" && byTask["transform"]?.state == "failed")
        #expect(byTask["load"]?.state == "upstream_failed")
        #expect(byTask["transform"]?.tryNumber == 1)
        #expect(byTask["extract"]?.queuedWaitSeconds != nil && byTask["extract"]?.pool == "default_pool")
        #expect(dags(done)["meow_fail"]?.failuresInARow ?? 0 >= 1)
        #expect(dags(done)["meow_fail"]?.recentRunStates?.last == "failed")
        // series for the detectors
        let series = done.entities.compactMap { e -> Series? in if case .series(let s) = e { s } else { nil } }
        let sleepDurations = try #require(series.first { $0.id == "series/dag_duration/dag/airflow-test/meow_sleep" })
        #expect(sleepDurations.values?.last ?? 0 >= 4 && sleepDurations.times?.count == sleepDurations.values?.count)

        // clear the failed run: its failed task and everything downstream run again (and fail again)
        let cleared = try await p.perform(ActionRequest(action: "clear_failed", subject: failed.id))
        #expect(cleared.ok)
        let clearedTasks = Set(cleared.details["task_ids"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        #expect(clearedTasks == ["transform", "load"], "\(cleared.message)")
        let again = try await observe(p) { o in
            let t = o.entities.compactMap { e -> TaskInstance? in
                if case .taskInstance(let t) = e, t.dagRun == failed.id, t.taskId == "transform" { t } else { nil }
            }.first
            return (t?.tryNumber ?? 0) >= 2 && run(o, "meow_fail")?.state == "failed"
        }
        let retried = again.entities.compactMap { e -> TaskInstance? in
            if case .taskInstance(let t) = e, t.dagRun == failed.id { t } else { nil }
        }
        #expect(retried.first { $0.taskId == "transform" }?.tryNumber == 2)
        #expect(retried.first { $0.taskId == "extract" }?.tryNumber == 1)  // the good part was kept
        #expect(run(again, "meow_fail")?.state == "failed")
    }

    @Test func laterPollsAskOnlyForRunsChangedSinceTheLastOne() async throws {
        let p = try provider()
        defer { Task { await p.shutdown() } }
        _ = try await p.observe()
        let before = runs(try await p.observe(), of: "meow_ok").count
        // Named after the pipeline's idempotency key: reconcile finds it, and a second call is refused.
        let trigger = ActionRequest(action: "trigger", subject: "dag/airflow-test/meow_ok", key: "k-\(UUID().uuidString)")
        guard case .notDone = await p.reconcile(trigger) else {
            Issue.record("not triggered yet")
            return
        }
        let out = try await p.perform(trigger)
        let id = try #require(out.details["dag_run_id"]?.stringValue)
        #expect(id == trigger.keyName)
        guard case .done = await p.reconcile(trigger) else {
            Issue.record("triggered: reconcile must find run \(id)")
            return
        }
        await #expect(throws: ProviderError.self) { _ = try await p.perform(trigger) }
        // the new run arrives through the incremental query, and the older runs are kept
        let o = try await observe(p) { o in runs(o, of: "meow_ok").first { $0.runId == id }?.state == "success" }
        #expect(runs(o, of: "meow_ok").count == before + 1)
        #expect(await p.lastRunsPoll["meow_ok"] != nil)
    }

    @Test func pauseAndUnpauseAreObservedBack() async throws {
        let p = try provider()
        defer { Task { await p.shutdown() } }
        let pause = ActionRequest(action: "pause", subject: "dag/airflow-test/meow_ok")
        #expect(await p.reconcile(pause) == .notDone("meow_ok is not paused"))
        let out = try await p.perform(pause)
        #expect(out.ok && out.details["is_paused"] == .bool(true))
        #expect(await p.reconcile(pause) == .done("meow_ok is paused"))
        #expect(dags(try await p.observe())["meow_ok"]?.paused == true)
        _ = try await p.perform(ActionRequest(action: "unpause", subject: "dag/airflow-test/meow_ok"))
        #expect(dags(try await p.observe())["meow_ok"]?.paused == false)
    }

    @Test func aWrongPasswordIsUnauthorized() async throws {
        let p = try provider(password: "wrong")
        defer { Task { await p.shutdown() } }
        do {
            _ = try await p.observe()
            Issue.record("observed with a wrong password")
        } catch let e as ProviderError {
            #expect(e.kind == .unauthorized && e.message.contains("POST /auth/token"), "\(e.message)")
        }
    }

    @Test func aMissingDAGIsNotFound() async throws {
        let p = try provider()
        defer { Task { await p.shutdown() } }
        do {
            _ = try await p.perform(ActionRequest(action: "trigger", subject: "dag/airflow-test/no_such_dag"))
            Issue.record("triggered a DAG that does not exist")
        } catch let e as ProviderError {
            #expect(e.kind == .notFound)
        }
    }
}

/// Where the real Airflow of `make test` is.
enum RealAirflow {
    static let url = ProcessInfo.processInfo.environment["MEOW_AIRFLOW_URL"]
    static let required = ProcessInfo.processInfo.environment["MEOW_REQUIRE_AIRFLOW"] == "1"
}
