import Foundation
import MeowModel

/// What the simulated fleet does when an action runs on it: the same actions as the real plugins, with
/// effects the next snapshots show (a scaled workload uses less cpu per replica, a rolled-back
/// application is healthy again, a cleared DAG run succeeds on its second try, ...).
public struct SimulatedActionEffects {
    var replicas: [String: Int] = [:]
    var restartedAt: [String: Double] = [:]
    var syncedAt: [String: Double] = [:]
    var clearedRuns: [String: Double] = [:]
    var markedRuns: [String: String] = [:]
    var paused: [String: Bool] = [:]
    var triggered: [String: [Double]] = [:]

    public init() {}
}

extension FleetSimulator {
    /// The actions the simulator runs, by their plugin's qualified name.
    public static let actionNames = [
        "kubernetes.scale", "kubernetes.restart", "argocd.sync", "argocd.rollback", "argocd.refresh", "airflow.trigger",
        "airflow.clear_failed", "airflow.mark_run", "airflow.pause", "airflow.unpause",
    ]

    /// Runs an action on the fleet now. Throws `ProviderError` for an unknown subject or action, or a
    /// request that does not apply (clearing a run that did not fail).
    @discardableResult
    public func apply(_ action: String, subject: String, params: [String: Value]) throws -> String {
        let t = now.timeIntervalSince1970
        func workload() throws -> Int {
            guard let w = workloads.firstIndex(where: { $0.id == subject }) else {
                throw ProviderError(.notFound, "\(action): no workload \(subject) in the simulated fleet")
            }
            return w
        }
        func app() throws -> Int {
            guard let a = apps.firstIndex(where: { $0.id == subject }) else {
                throw ProviderError(.notFound, "\(action): no application \(subject) in the simulated fleet")
            }
            return a
        }
        func dag() throws -> Int {
            let id = subject.hasPrefix("dag_run/") ? runDAG(subject) : subject
            guard let d = dags.firstIndex(where: { $0.id == id }) else {
                throw ProviderError(.notFound, "\(action): no DAG \(id) in the simulated fleet")
            }
            return d
        }
        switch action {
        case "kubernetes.scale":
            let w = try workload()
            guard let n = params["replicas"]?.intValue, n >= 0 else {
                throw ProviderError(.invalid, "\(action): parameter \"replicas\" is required (a number ≥ 0)")
            }
            let old = effects.replicas[subject] ?? currentReplicas(w)
            effects.replicas[subject] = Int(n)
            // cpu is per replica: the same load over more replicas.
            if n > 0, old > 0 { signals[w].cpu *= Double(old) / Double(n) }
            return "scaled \(subject) from \(old) to \(n) replicas"
        case "kubernetes.restart":
            _ = try workload()
            effects.restartedAt[subject] = t
            return "restarted \(subject)"
        case "argocd.sync":
            _ = try app()
            effects.syncedAt[subject] = t
            return "synced \(subject)"
        case "argocd.refresh":
            _ = try app()
            return "refreshed \(subject)"
        case "argocd.rollback":
            let a = try app()
            var ended = 0
            for k in (appEffects[a] ?? []).indices where appEffects[a]![k].start <= t && t < appEffects[a]![k].end {
                appEffects[a]![k].end = t
                ended += 1
            }
            guard ended > 0 else {
                throw ProviderError(.invalid, "\(action): \(subject) has no bad deployment to roll back from")
            }
            return "rolled back \(subject) to its last good revision"
        case "airflow.pause", "airflow.unpause":
            let d = try dag()
            let pause = action == "airflow.pause"
            dags[d].paused = pause
            effects.paused[dags[d].id] = pause
            return "\(pause ? "paused" : "unpaused") \(dags[d].id)"
        case "airflow.trigger":
            let d = try dag()
            effects.triggered[dags[d].id, default: []].append(t)
            return "triggered a run of \(dags[d].id)"
        case "airflow.clear_failed", "airflow.mark_run":
            guard subject.hasPrefix("dag_run/") else {
                throw ProviderError(.invalid, "\(action): the subject must be a dag_run, not \(subject)")
            }
            _ = try dag()
            guard let state = runState(subject) else {
                throw ProviderError(.notFound, "\(action): no run \(subject) among the recent runs")
            }
            if action == "airflow.mark_run" {
                guard let to = params["state"]?.stringValue, ["success", "failed", "queued"].contains(to) else {
                    throw ProviderError(.invalid, "\(action): parameter \"state\" must be success, failed or queued")
                }
                effects.markedRuns[subject] = to
                return "marked \(subject) \(to)"
            }
            guard state == "failed" else {
                throw ProviderError(.invalid, "\(action): \(subject) is \(state), not failed; nothing to clear")
            }
            effects.clearedRuns[subject] = t
            return "cleared the failed tasks of \(subject)"
        default:
            throw ProviderError(
                .invalid, "the simulator has no action \(action) (it has \(Self.actionNames.joined(separator: ", ")))")
        }
    }

    func currentReplicas(_ w: Int) -> Int {
        if case .workload(let e) = base.entities[workloads[w].entity] { return e.replicas?.desired ?? 1 }
        return 1
    }

    /// `dag_run/<instance>/<dag_id>/<run_id>` → `dag/<instance>/<dag_id>`.
    func runDAG(_ run: String) -> String {
        let parts = run.split(separator: "/", maxSplits: 3).map(String.init)
        guard parts.count == 4 else { return run }
        return "dag/\(parts[1])/\(parts[2])"
    }

    /// The state of a recent run as the snapshot shows it now.
    func runState(_ run: String) -> String? {
        for case .dagRun(let r) in snapshot().entities where r.id == run { return r.state }
        return nil
    }

    /// Applies the actions' effects to a snapshot's entities (called at the end of `snapshot()`).
    func applyActionEffects(_ entities: inout [Entity], at t: Double) {
        let e = effects
        guard
            !(e.replicas.isEmpty && e.restartedAt.isEmpty && e.syncedAt.isEmpty && e.clearedRuns.isEmpty
                && e.markedRuns.isEmpty && e.paused.isEmpty && e.triggered.isEmpty)
        else { return }
        var extra: [Entity] = []
        for i in entities.indices {
            switch entities[i] {
            case .workload(var w):
                if let n = e.replicas[w.id] {
                    let degraded = max(0, (w.replicas?.desired ?? n) - (w.replicas?.ready ?? n))
                    w.replicas = Replicas(desired: n, ready: max(0, n - degraded), available: max(0, n - degraded))
                }
                if let r = e.restartedAt[w.id] {
                    var a = w.annotations ?? [:]
                    a["kubectl.kubernetes.io/restartedAt"] = Timestamp.format(Date(timeIntervalSince1970: r))
                    w.annotations = a
                }
                entities[i] = .workload(w)
            case .application(var a):
                if let s = e.syncedAt[a.id], a.operation?.startedAt.map({ $0.timeIntervalSince1970 < s }) ?? true {
                    a.syncStatus = "Synced"
                    let when = Date(timeIntervalSince1970: s)
                    a.operation = OperationState(
                        phase: "Succeeded", message: "successfully synced (all tasks run)", revision: a.syncedRevision,
                        startedAt: when, finishedAt: when.addingTimeInterval(30))
                    entities[i] = .application(a)
                }
            case .dag(var d):
                if let p = e.paused[d.id] {
                    d.paused = p
                    if p { d.nextRun = nil }
                    entities[i] = .dag(d)
                }
            case .dagRun(var r):
                if let to = e.markedRuns[r.id] {
                    r.state = to
                    entities[i] = .dagRun(r)
                } else if let cleared = e.clearedRuns[r.id] {
                    let duration = r.durationSeconds ?? step
                    let end = cleared + duration
                    r.state = end <= t ? "success" : "running"
                    r.start = Date(timeIntervalSince1970: cleared)
                    r.end = end <= t ? Date(timeIntervalSince1970: end) : nil
                    entities[i] = .dagRun(r)
                }
            case .taskInstance(var ti):
                if let run = ti.dagRun, let cleared = e.clearedRuns[run], ti.state == "failed" || ti.state == "upstream_failed" {
                    ti.state = cleared + step <= t ? "success" : "running"
                    ti.tryNumber = (ti.tryNumber ?? 1) + 1
                    entities[i] = .taskInstance(ti)
                }
            default: break
            }
        }
        for (dagID, times) in e.triggered.sorted(by: { $0.key < $1.key }) {
            guard let d = dags.firstIndex(where: { $0.id == dagID }) else { continue }
            for s in times {
                let runID = "manual__" + Timestamp.format(Date(timeIntervalSince1970: s))
                let end = s + dags[d].baseDuration
                extra.append(
                    .dagRun(
                        DAGRun(
                            id: "dag_run/\(dags[d].instance)/\(dags[d].dagId)/\(runID)", observedAt: now, provider: "simulator",
                            dag: dags[d].id, dagId: dags[d].dagId, runId: runID, runType: "manual",
                            logicalDate: Date(timeIntervalSince1970: s), state: end <= t ? "success" : "running",
                            start: Date(timeIntervalSince1970: s), end: end <= t ? Date(timeIntervalSince1970: end) : nil,
                            durationSeconds: end <= t ? (dags[d].baseDuration * 10).rounded() / 10 : nil)))
            }
        }
        entities.append(contentsOf: extra)
    }
}
