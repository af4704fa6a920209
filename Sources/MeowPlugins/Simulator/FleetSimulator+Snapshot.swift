import Foundation
import MeowModel

extension FleetSimulator {
    /// One simulated DAG run, a pure function of the DAG, its scheduled time and the faults.
    struct SimRun {
        var scheduled: Double
        var queueWait: Double
        var duration: Double
        var failed: Bool
        var start: Double { scheduled + queueWait }
        var end: Double { start + duration }
    }

    /// A deployment of an application: a regular one, a faulty one, or the rollback that ends a fault.
    struct Deploy {
        var time: Double
        var revision: String
        var outcome: String
        var fault: AppEffect?
        var rollback = false
    }

    static let runsPerDAG = 5

    func run(_ d: Int, scheduled s: Double) -> SimRun {
        let dag = dags[d]
        let key = 0xDA6_0000_0000 &+ UInt64(d) &* 2
        let day = 2 * Double.pi * s.truncatingRemainder(dividingBy: 86400) / 86400
        var duration = dag.baseDuration * (1 + 0.12 * SignalNoise.symmetric(seed, key, Int64(s))) * (1 + 0.08 * sin(day))
        var wait = dag.baseQueueWait * (0.5 + SignalNoise.unit(seed, key + 1, Int64(s)))
        var failed = SignalNoise.unit(seed, key + 1, Int64(s) ^ 0x5A5A) < 0.01
        for e in dagEffects[d] ?? [] where s >= e.start && s < e.end {
            duration *= e.durationFactor
            wait += e.queueWaitAdd
            if let from = e.failFrom, s >= from { failed = true }
        }
        return SimRun(scheduled: s, queueWait: wait, duration: duration, failed: failed)
    }

    /// The most recent `limit` runs of a DAG that have started by now (scheduled within the simulated time).
    func dagRuns(_ d: Int, limit: Int) -> [SimRun] {
        let t = now.timeIntervalSince1970
        let from = max(origin, t - dags[d].interval * Double(limit + 2))
        let runs = scheduledTimes(d, from: from, to: t).map { run(d, scheduled: $0) }.filter { $0.start <= t }
        return Array(runs.suffix(limit))
    }

    /// Deployments of an application between the start of the history and now, faults included, oldest first.
    func deploys(_ a: Int) -> [Deploy] {
        let t = now.timeIntervalSince1970
        var out = deployTimes(a, from: origin, to: t).map {
            Deploy(time: $0, revision: revision(UInt64(a), $0), outcome: "succeeded")
        }
        for e in appEffects[a] ?? [] where e.start <= t {
            out.append(Deploy(time: e.start, revision: e.revision, outcome: "failed", fault: e))
            if e.end <= t {
                let previous =
                    out.filter { $0.time < e.start && $0.fault == nil }.last?.revision ?? revision(UInt64(a), origin - 1)
                out.append(Deploy(time: e.end, revision: previous, outcome: "succeeded", fault: e, rollback: true))
            }
        }
        // Regular deploys during a fault wait for its rollback.
        out = out.filter { d in d.fault != nil || !(appEffects[a] ?? []).contains { d.time >= $0.start && d.time < $0.end } }
        return out.sorted { ($0.time, $0.rollback ? 1 : 0) < ($1.time, $1.rollback ? 1 : 0) }
    }

    private func round(_ x: Float, _ scale: Double) -> Double { (Double(x) * scale).rounded() / scale }

    /// The state at `now`: the static fleet with current usage, restarts, application state and next runs,
    /// plus DAG runs, task instances, series, Git changes and events. Entities are built here only.
    public func snapshot() -> Snapshot {
        let t = now.timeIntervalSince1970
        let at = now
        var entities = base.entities
        entities.reserveCapacity(entities.count + ring.seriesCount + dags.count * 8 + apps.count)

        for (w, s) in workloads.enumerated() {
            guard case .workload(var e) = entities[s.entity] else { continue }
            e.observedAt = at
            e.usage = ResourceAmounts(
                cpu: round(ring.latest(workloadSeries(w, 0)), 1000), memory: round(ring.latest(workloadSeries(w, 1)), 1))
            e.restarts = Int(ring.latest(workloadSeries(w, 2)))
            entities[s.entity] = .workload(e)
        }
        var tail: [Entity] = []
        for a in apps.indices {
            guard case .application(var e) = entities[apps[a].entity] else { continue }
            e.observedAt = at
            let ds = deploys(a)
            if let last = ds.last {
                var history = e.history ?? []
                var nextID = (history.last?.id ?? 0) + 1
                for d in ds {
                    history.append(
                        DeploymentRecord(
                            id: nextID, revision: d.revision, deployedAt: Date(timeIntervalSince1970: d.time),
                            outcome: d.rollback ? "rolled_back" : d.outcome))
                    nextID += 1
                }
                e.history = Array(history.suffix(10))
                e.syncedRevision = last.revision
                let started = Date(timeIntervalSince1970: last.time)
                if let f = last.fault, !last.rollback, t < f.end {
                    e.syncStatus = "Synced"
                    e.health = "Degraded"
                    e.healthMessage = f.message
                    e.resources?.degraded = 1
                    e.operation = OperationState(
                        phase: f.kind == .badConfigChange ? "Failed" : "Succeeded", message: f.message,
                        revision: f.revision, startedAt: started, finishedAt: started.addingTimeInterval(45))
                    if let w = f.workload, case .workload(var we) = entities[workloads[w].entity] {
                        let desired = we.replicas?.desired ?? 1
                        let ready = f.kind == .imagePullError ? desired - max(1, desired / 2) : max(0, desired - 1)
                        we.replicas = Replicas(desired: desired, ready: ready, available: ready)
                        we.conditions = [
                            Condition(
                                type: "Available", status: "False",
                                reason: f.kind == .imagePullError ? "ImagePullBackOff" : "CrashLoopBackOff",
                                message: f.message)
                        ]
                        entities[workloads[w].entity] = .workload(we)
                    }
                } else {
                    e.syncStatus = "Synced"
                    e.health = "Healthy"
                    e.healthMessage = nil
                    e.resources?.degraded = 0
                    e.operation = OperationState(
                        phase: "Succeeded", message: "successfully synced (all tasks run)", revision: last.revision,
                        startedAt: started, finishedAt: started.addingTimeInterval(45))
                }
            }
            entities[apps[a].entity] = .application(e)
            let name = e.name ?? e.id
            for d in ds.suffix(3) {
                let when = Date(timeIntervalSince1970: d.time)
                let key = SignalNoise.hash(seed, UInt64(a), Int64(d.time))
                let changeID = "change/\(name)/\(d.revision)"
                if !d.rollback {
                    let files = d.fault != nil ? 1 : 1 + Int(key % 12)
                    tail.append(
                        .change(
                            Change(
                                id: changeID, observedAt: at, provider: "simulator", revision: d.revision, repo: e.repo,
                                application: e.id,
                                author: Self.authors[Int((key >> 8) % UInt64(Self.authors.count))],
                                time: when.addingTimeInterval(-600),
                                message: d.fault?.kind == .badConfigChange
                                    ? "Tune logging config"
                                    : d.fault?.kind == .imagePullError ? "Bump image" : "Release \(d.revision.prefix(7))",
                                filesChanged: files, linesAdded: 1 + Int((key >> 16) % 200), linesDeleted: Int((key >> 24) % 80),
                                resourceKinds: d.fault?.kind == .badConfigChange
                                    ? ["ConfigMap"]
                                    : d.fault != nil
                                        ? ["Deployment"]
                                        : ["Deployment", "ConfigMap", "Service"].prefix(1 + Int((key >> 32) % 3)).map { $0 })))
                }
                tail.append(
                    .event(
                        Event(
                            id: "event/simulator/\(name)/\(Int(d.time))-\(d.rollback ? "rollback" : "deploy")", observedAt: at,
                            provider: "simulator",
                            time: when, source: e.instance, type: d.rollback ? "rollback" : "deploy", subject: e.id,
                            message: d.rollback ? "rolled back to \(d.revision)" : "deployed \(d.revision): sync \(d.outcome)",
                            details: .object([
                                "revision": .string(d.revision), "outcome": .string(d.outcome), "change": .string(changeID),
                            ]))))
            }
        }

        var dagSeries: [Entity] = []
        for d in dags.indices {
            guard case .dag(var e) = entities[dags[d].entity] else { continue }
            e.observedAt = at
            if !dags[d].paused {
                e.nextRun = Date(timeIntervalSince1970: ((t + 1) / dags[d].interval).rounded(.up) * dags[d].interval)
            }
            entities[dags[d].entity] = .dag(e)
            let runs = dagRuns(d, limit: max(Self.runsPerDAG, options.seriesWindow))
            guard !runs.isEmpty else { continue }
            for (i, r) in runs.suffix(Self.runsPerDAG).enumerated() {
                let done = r.end <= t
                let runID = "scheduled__" + Timestamp.format(Date(timeIntervalSince1970: r.scheduled - dags[d].interval))
                let runEntity = "dag_run/\(dags[d].instance)/\(dags[d].dagId)/\(runID)"
                tail.append(
                    .dagRun(
                        DAGRun(
                            id: runEntity, observedAt: at, provider: "simulator", dag: dags[d].id, dagId: dags[d].dagId,
                            runId: runID,
                            runType: "scheduled", logicalDate: Date(timeIntervalSince1970: r.scheduled - dags[d].interval),
                            state: done ? (r.failed ? "failed" : "success") : "running",
                            start: Date(timeIntervalSince1970: r.start),
                            end: done ? Date(timeIntervalSince1970: r.end) : nil,
                            durationSeconds: done ? (r.duration * 10).rounded() / 10 : nil)))
                guard i == min(Self.runsPerDAG, runs.count) - 1 else { continue }
                // The latest run's tasks: the duration split over them, the queue wait on the first.
                let tasks = dags[d].tasks
                var offset = r.start
                for (k, task) in tasks.enumerated() {
                    let share = r.duration / Double(tasks.count)
                    let taskEnd = offset + share
                    let state =
                        taskEnd <= t
                        ? (r.failed && k == tasks.count - 1 ? "failed" : "success") : (offset <= t ? "running" : "scheduled")
                    tail.append(
                        .taskInstance(
                            TaskInstance(
                                id: "task_instance/\(dags[d].instance)/\(dags[d].dagId)/\(runID)/\(task)", observedAt: at,
                                provider: "simulator",
                                dagRun: runEntity, dagId: dags[d].dagId, runId: runID, taskId: task, state: state, tryNumber: 1,
                                durationSeconds: taskEnd <= t ? (share * 10).rounded() / 10 : nil, pool: "default_pool",
                                queuedWaitSeconds: k == 0 ? (r.queueWait * 10).rounded() / 10 : 1)))
                    offset = taskEnd
                }
            }
            let done = runs.filter { $0.end <= t }.suffix(options.seriesWindow)
            guard !done.isEmpty else { continue }
            let times = done.map { Date(timeIntervalSince1970: $0.scheduled) }
            dagSeries.append(
                .series(
                    Series(
                        id: "series/dag_duration/\(dags[d].id)", observedAt: at, provider: "simulator", metric: "dag_duration",
                        subject: dags[d].id, unit: "seconds", values: done.map { ($0.duration * 10).rounded() / 10 }, times: times
                    )))
            dagSeries.append(
                .series(
                    Series(
                        id: "series/queue_wait/\(dags[d].id)", observedAt: at, provider: "simulator", metric: "queue_wait",
                        subject: dags[d].id, unit: "seconds", values: done.map { ($0.queueWait * 10).rounded() / 10 },
                        times: times)))
        }

        if ring.count > 0 {
            let start = Date(timeIntervalSince1970: lastStepTime - Double(ring.count - 1) * step)
            func series(_ metric: String, _ subject: String, _ unit: String, _ index: Int, _ scale: Double) -> Entity {
                .series(
                    Series(
                        id: "series/\(metric)/\(subject)", observedAt: at, provider: "simulator", metric: metric,
                        subject: subject, unit: unit,
                        start: start, stepSeconds: step, values: ring.values(index).map { round($0, scale) }))
            }
            for (w, s) in workloads.enumerated() {
                tail.append(series("cpu", s.id, "cores", workloadSeries(w, 0), 1000))
                tail.append(series("memory", s.id, "bytes", workloadSeries(w, 1), 1))
                tail.append(series("restarts", s.id, "count", workloadSeries(w, 2), 1))
            }
            for (e, env) in environments.enumerated() {
                tail.append(series("s3_latency", "dependency/\(env)/s3", "seconds", dependencySeries(e, 0), 1e5))
                tail.append(series("error_rate", "dependency/\(env)/s3", "ratio", dependencySeries(e, 1), 1e6))
                tail.append(series("db_latency", "dependency/\(env)/db", "seconds", dependencySeries(e, 2), 1e5))
                tail.append(series("error_rate", "dependency/\(env)/db", "ratio", dependencySeries(e, 3), 1e6))
            }
        }
        entities.append(contentsOf: tail)
        entities.append(contentsOf: dagSeries)
        applyActionEffects(&entities, at: t)
        return Snapshot(revision: 1 + stepsTaken, observedAt: at, entities: entities)
    }
}
