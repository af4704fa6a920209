import Foundation
import MeowModel

/// Maps Airflow's API objects to meow's state model (docs/plugins.md#airflow has the table).
struct AirflowMapping: Sendable {
    var instance: String
    var environment: String?

    func dagEntityID(_ dag: String) -> String { "dag/\(instance)/\(dag)" }
    func runEntityID(_ dag: String, _ run: String) -> String { "dag_run/\(instance)/\(dag)/\(run)" }

    func dagID(from id: String) throws -> String {
        let prefix = "dag/\(instance)/"
        guard id.hasPrefix(prefix), id.count > prefix.count else {
            throw ProviderError(.invalid, "\(id) is not a DAG of Airflow instance \(instance) (dag/\(instance)/<dag_id>)")
        }
        return String(id.dropFirst(prefix.count))
    }

    /// (dag id, run id) of `dag_run/<instance>/<dag_id>/<run_id>`; run ids may contain `/`? no, but `:` and `+`.
    func runID(from id: String) throws -> (String, String) {
        let prefix = "dag_run/\(instance)/"
        let rest = id.hasPrefix(prefix) ? id.dropFirst(prefix.count) : ""
        guard let slash = rest.firstIndex(of: "/"), rest.index(after: slash) < rest.endIndex else {
            throw ProviderError(
                .invalid, "\(id) is not a DAG run of Airflow instance \(instance) (dag_run/\(instance)/<dag_id>/<run_id>)")
        }
        return (String(rest[..<slash]), String(rest[rest.index(after: slash)...]))
    }

    static func time(_ s: String?) -> Date? { s.flatMap(Timestamp.parse) }

    /// The time a run is ordered by: when it was due (v2 run_after), else its logical date, else start.
    static func runTime(_ r: AirflowAPI.DAGRun) -> Date {
        time(r.run_after) ?? time(r.logical_date) ?? time(r.execution_date) ?? time(r.queued_at) ?? time(r.start_date)
            ?? .distantPast
    }

    static func finished(_ state: String?) -> Bool {
        ["success", "failed", "skipped", "upstream_failed", "removed"].contains(state ?? "")
    }

    static func duration(_ r: AirflowAPI.DAGRun) -> Double? {
        if let d = r.duration { return d }
        guard let s = time(r.start_date), let e = time(r.end_date) else { return nil }
        return e.timeIntervalSince(s)
    }

    static func round(_ d: Double) -> Double { (d * 1000).rounded() / 1000 }

    func entities(
        dags: [AirflowAPI.DAG], runs: [String: [String: AirflowAPI.DAGRun]], tasks: [String: [AirflowAPI.TaskInstance]],
        importErrors: [AirflowAPI.ImportError], taskRuns: Int, at now: Date
    ) -> [Entity] {
        var out: [Entity] = []
        var errorsByFile: [String: [String]] = [:]
        for e in importErrors {
            guard let file = e.filename else { continue }
            let first = (e.stack_trace ?? "import error").split(separator: "\n").last.map(String.init) ?? "import error"
            errorsByFile[file, default: []].append(first)
            out.append(
                .event(
                    Event(
                        id: "event/\(instance)/import_error/\(e.import_error_id.map(String.init) ?? file)", observedAt: now,
                        provider: instance, time: Self.time(e.timestamp), source: instance, type: "import_error",
                        subject: "airflow/\(instance)", message: "\(file): \(first)",
                        details: .object(["file": .string(file), "stack_trace": .string(e.stack_trace ?? "")]))))
        }
        for dag in dags {
            guard let dagID = dag.dag_id else { continue }
            let dagEntity = dagEntityID(dagID)
            let ordered = (runs[dagID] ?? [:]).values.sorted { Self.runTime($0) < Self.runTime($1) }
            let states = ordered.compactMap(\.state)
            var inARow = 0
            for s in ordered.filter({ Self.finished($0.state) }).reversed().compactMap(\.state) {
                guard s == "failed" else { break }
                inARow += 1
            }
            let schedule =
                dag.timetable_summary ?? dag.schedule_interval.flatMap { $0.value ?? $0.__type } ?? dag.timetable_description
            out.append(
                .dag(
                    DAG(
                        id: dagEntity, name: dag.dag_display_name ?? dagID,
                        labels: Dictionary(
                            (dag.tags ?? []).compactMap { t in t.name.map { ($0, "true") } }, uniquingKeysWith: { a, _ in a }),
                        observedAt: now, provider: instance, instance: instance, environment: environment, dagId: dagID,
                        paused: dag.is_paused, schedule: schedule, owners: dag.owners, tags: dag.tags?.compactMap(\.name),
                        nextRun: Self.time(dag.next_dagrun_logical_date ?? dag.next_dagrun_run_after ?? dag.next_dagrun),
                        importErrors: dag.fileloc.flatMap { errorsByFile[$0] }, file: dag.fileloc,
                        recentRunStates: states.suffix(10).map { $0 }, failuresInARow: inARow)))
            // runs, their task instances, and the series of finished runs
            var times: [Date] = []
            var durations: [Double] = []
            var waits: [Double] = []
            var waitTimes: [Date] = []
            let recent = Set(ordered.suffix(taskRuns).compactMap(\.dag_run_id))
            for r in ordered {
                guard let runID = r.dag_run_id else { continue }
                let runEntity = runEntityID(dagID, runID)
                let duration = Self.duration(r)
                let tis = tasks["\(dagID)/\(runID)"] ?? []
                // the run's queue wait: queued → started (v2), or the longest task queue wait (v1)
                var wait: Double?
                if let q = Self.time(r.queued_at), let s = Self.time(r.start_date) { wait = max(0, s.timeIntervalSince(q)) }
                let taskWaits = tis.compactMap { t -> Double? in
                    guard let q = Self.time(t.queued_when), let s = Self.time(t.start_date) else { return nil }
                    return max(0, s.timeIntervalSince(q))
                }
                if wait == nil, let m = taskWaits.max() { wait = m }
                out.append(
                    .dagRun(
                        DAGRun(
                            id: runEntity, name: runID, observedAt: now, provider: instance, dag: dagEntity, dagId: dagID,
                            runId: runID,
                            runType: r.run_type, logicalDate: Self.time(r.logical_date ?? r.execution_date), state: r.state,
                            start: Self.time(r.start_date), end: Self.time(r.end_date), durationSeconds: duration.map(Self.round))
                    ))
                if Self.finished(r.state), let d = duration, let end = Self.time(r.end_date) {
                    times.append(end)
                    durations.append(Self.round(d))
                    if let w = wait {
                        waits.append(Self.round(w))
                        waitTimes.append(end)
                    }
                }
                guard recent.contains(runID) else { continue }
                for t in tis {
                    guard let taskID = t.task_id else { continue }
                    let mapped = (t.map_index ?? -1) >= 0 ? "[\(t.map_index!)]" : ""
                    var queued: Double?
                    if let q = Self.time(t.queued_when), let s = Self.time(t.start_date) {
                        queued = Self.round(max(0, s.timeIntervalSince(q)))
                    }
                    out.append(
                        .taskInstance(
                            TaskInstance(
                                id: "task_instance/\(instance)/\(dagID)/\(runID)/\(taskID)\(mapped)", name: taskID,
                                observedAt: now,
                                provider: instance, dagRun: runEntity, dagId: dagID, runId: runID, taskId: taskID, state: t.state,
                                tryNumber: t.try_number, durationSeconds: t.duration.map(Self.round), pool: t.pool,
                                queuedWaitSeconds: queued)))
                }
            }
            if !durations.isEmpty {
                out.append(
                    .series(
                        Series(
                            id: "series/dag_duration/\(dagEntity)", observedAt: now, provider: instance, metric: "dag_duration",
                            subject: dagEntity, unit: "seconds", values: durations, times: times)))
            }
            if !waits.isEmpty {
                out.append(
                    .series(
                        Series(
                            id: "series/queue_wait/\(dagEntity)", observedAt: now, provider: instance, metric: "queue_wait",
                            subject: dagEntity, unit: "seconds", values: waits, times: waitTimes)))
            }
        }
        return out
    }
}
