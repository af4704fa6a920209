import Foundation
import MeowModel

extension FleetSimulator {
    /// Plans every fault before the first step: picks kind, target, start and duration with a generator of
    /// its own, records the truth and the effects that `computeStep`, the DAG runs and `snapshot()` apply.
    func planFaults() {
        guard options.faults > 0 else { return }
        var rng = SeededRandom(seed: seed ^ 0xFA17_FA17_FA17_FA17)
        let at = options.fleet.at.timeIntervalSince1970
        let (windowStart, windowEnd): (Double, Double) =
            options.faultsInHistory
            ? (max(origin, at - max(step, options.faultWindow)), at)
            : (at, at + max(step, options.faultWindow))
        var used = Set<String>()
        var planned: [(fault: InjectedFault, order: Int)] = []
        for i in 0..<options.faults {
            let kind =
                options.faultKinds.isEmpty ? rng.pick(FaultKind.allCases) : options.faultKinds[i % options.faultKinds.count]
            let slots = max(1, Int(((windowEnd - windowStart) / step).rounded(.down)))
            let start = windowStart + Double(rng.int(0...(slots - 1))) * step
            let fault =
                plan(kind, start: start, rng: &rng, used: &used)
                ?? plan(.trafficSpike, start: start, rng: &rng, used: &used)
            if let fault { planned.append((fault, i)) }
        }
        planned.sort { ($0.fault.start, $0.order) < ($1.fault.start, $1.order) }
        faults = planned.enumerated().map { n, p in
            var f = p.fault
            f.id = "fault-\(n + 1)"
            return f
        }
    }

    private func hours(_ rng: inout SeededRandom, _ lo: Double, _ hi: Double) -> Double {
        ((lo + rng.unit() * (hi - lo)) * 3600 / step).rounded(.up) * step
    }

    private func f1(_ x: Double) -> String { String(format: "%.1f", x) }

    /// Plans one fault of `kind`, or nil when the fleet has no fitting target (no DAG runs in the window, ...).
    private func plan(_ kind: FaultKind, start: Double, rng: inout SeededRandom, used: inout Set<String>) -> InjectedFault? {
        func date(_ t: Double) -> Date { Date(timeIntervalSince1970: t) }
        func freshWorkload() -> Int? {
            guard !workloads.isEmpty else { return nil }
            for _ in 0..<50 {
                let w = rng.int(0...(workloads.count - 1))
                if used.insert(workloads[w].id).inserted { return w }
            }
            return nil
        }
        // Faults placed in the history must show by `at`, the time of the snapshot that is meant to show them.
        let horizon = options.faultsInHistory ? options.fleet.at.timeIntervalSince1970 : Double.infinity
        /// DAGs with a run scheduled in [s, e) (and by the horizon).
        func running(_ candidates: [Int], _ s: Double, _ e: Double) -> [Int] {
            candidates.filter { !scheduledTimes($0, from: s, to: min(e, horizon) - 1).isEmpty }
        }
        switch kind {
        case .trafficSpike:
            guard let w = freshWorkload() else { return nil }
            let end = start + hours(&rng, 1.0 / 3, 1)
            let factor = 3 + rng.unit() * 3
            seriesEffects.append(
                SeriesEffect(series: workloadSeries(w, 0), start: start, end: end, change: .scale(Float(factor))))
            let id = workloads[w].id
            return InjectedFault(
                id: "", kind: kind, cause: id, subjects: [id], start: date(start), end: date(end),
                description: "A traffic spike multiplies the cpu of \(id) by \(f1(factor)).",
                effects: ["cpu x\(f1(factor)) on \(id)"])

        case .memoryLeak:
            guard let w = freshWorkload() else { return nil }
            let end = start + hours(&rng, 3, 8)
            let cycle = (end - start) / 3600 * (0.3 + rng.unit() * 0.25)
            let rate = 1.5 / cycle
            seriesEffects.append(
                SeriesEffect(
                    series: workloadSeries(w, 1), start: start, end: end, change: .leak(ratePerHour: rate, cycleHours: cycle)))
            seriesEffects.append(
                SeriesEffect(series: workloadSeries(w, 2), start: start, end: end, change: .oomRestarts(cycleHours: cycle)))
            let id = workloads[w].id
            return InjectedFault(
                id: "", kind: kind, cause: apps[workloads[w].app].id, subjects: [id], start: date(start), end: date(end),
                description:
                    "A release of \(apps[workloads[w].app].id) leaks memory: \(id) grows \(Int(rate * 100))%/hour until an OOM kill restarts it.",
                effects: [
                    "memory +\(Int(rate * 100))%/hour on \(id)", "OOM restart every \(f1(cycle))h on \(id) (restarts series)",
                ])

        case .noisyNeighbour:
            guard let w = freshWorkload() else { return nil }
            let end = start + hours(&rng, 0.5, 1.5)
            let factor = 3 + rng.unit() * 2
            let neighbours = workloads.indices.filter {
                $0 != w && workloads[$0].cluster == workloads[w].cluster && workloads[$0].app != workloads[w].app
            }
            .sorted { abs($0 - w) < abs($1 - w) || (abs($0 - w) == abs($1 - w) && $0 < $1) }.prefix(4).sorted()
            seriesEffects.append(
                SeriesEffect(series: workloadSeries(w, 0), start: start, end: end, change: .scale(Float(factor))))
            var effects = ["cpu x\(f1(factor)) on \(workloads[w].id)"]
            for n in neighbours {
                let f = 1.3 + rng.unit() * 0.3
                seriesEffects.append(SeriesEffect(series: workloadSeries(n, 0), start: start, end: end, change: .scale(Float(f))))
                effects.append("cpu x\(f1(f)) on \(workloads[n].id) (co-located on \(workloads[w].cluster))")
            }
            return InjectedFault(
                id: "", kind: kind, cause: workloads[w].id, subjects: [workloads[w].id] + neighbours.map { workloads[$0].id },
                start: date(start), end: date(end),
                description: "\(workloads[w].id) hogs cpu on \(workloads[w].cluster); co-located workloads slow down.",
                effects: effects)

        case .nodePressure:
            let end = start + hours(&rng, 1, 3)
            let order = clusters
            let offset = order.isEmpty ? 0 : rng.int(0...(order.count - 1))
            for k in order.indices {
                let cluster = order[(k + offset) % order.count]
                guard !used.contains(cluster) else { continue }
                let victims = Array(running(dags.indices.filter { dags[$0].cluster == cluster }, start, end).prefix(50))
                guard !victims.isEmpty else { continue }
                used.insert(cluster)
                let wait = 300 + rng.unit() * 900
                let factor = 1.5 + rng.unit()
                for d in victims {
                    dagEffects[d, default: []].append(
                        DAGEffect(start: start, end: end, durationFactor: factor, queueWaitAdd: wait))
                }
                return InjectedFault(
                    id: "", kind: kind, cause: cluster, subjects: victims.map { dags[$0].id }, start: date(start), end: date(end),
                    description: "Node pressure on \(cluster): tasks queue for slots and run slower.",
                    effects: [
                        "queue_wait +\(Int(wait))s on \(victims.count) DAGs of \(cluster)",
                        "dag_duration x\(f1(factor)) on \(victims.count) DAGs",
                    ])
            }
            return nil

        case .s3Latency, .dbLatency:
            let s3 = kind == .s3Latency
            let end = start + hours(&rng, 1, 3)
            guard !environments.isEmpty else { return nil }
            let offset = rng.int(0...(environments.count - 1))
            for k in environments.indices {
                let e = (k + offset) % environments.count
                let cause = "dependency/\(environments[e])/\(s3 ? "s3" : "db")"
                guard used.insert(cause).inserted else { continue }
                let latency = s3 ? 4 + rng.unit() * 2 : 4 + rng.unit() * 4
                let errors = 5 + rng.unit() * 5
                seriesEffects.append(
                    SeriesEffect(series: dependencySeries(e, s3 ? 0 : 2), start: start, end: end, change: .scale(Float(latency))))
                seriesEffects.append(
                    SeriesEffect(series: dependencySeries(e, s3 ? 1 : 3), start: start, end: end, change: .scale(Float(errors))))
                let victims = Array(
                    running(
                        dags.indices.filter { dags[$0].environment == e && (s3 ? dags[$0].usesS3 : dags[$0].usesDB) }, start, end
                    ).prefix(50))
                let factor = s3 ? 2 + rng.unit() : 1.5 + rng.unit()
                let failFrom = s3 ? start + (end - start) / 2 : nil
                for d in victims {
                    dagEffects[d, default: []].append(
                        DAGEffect(start: start, end: end, durationFactor: factor, failFrom: failFrom))
                }
                let metric = s3 ? "s3_latency" : "db_latency"
                var effects = ["\(metric) x\(f1(latency)) on \(cause)", "error_rate x\(f1(errors)) on \(cause)"]
                if !victims.isEmpty {
                    effects.append("dag_duration x\(f1(factor)) on \(victims.count) dependent DAGs")
                    if s3 { effects.append("runs scheduled in the second half of the fault fail") }
                }
                return InjectedFault(
                    id: "", kind: kind, cause: cause, subjects: [cause] + victims.map { dags[$0].id }, start: date(start),
                    end: date(end),
                    description:
                        "\(s3 ? "S3" : "The database") in \(environments[e]) answers slowly; DAGs that use it run long\(s3 ? ", then fail" : "").",
                    effects: effects)
            }
            return nil

        case .upstreamDataDelay:
            let candidates = dags.indices.filter { dags[$0].interval <= 21600 && !dags[$0].paused && !used.contains(dags[$0].id) }
            guard !candidates.isEmpty else { return nil }
            let d = candidates[rng.int(0...(candidates.count - 1))]
            let end = start + max(hours(&rng, 1, 3), 2 * dags[d].interval)
            guard !running([d], start, end).isEmpty else { return nil }
            used.insert(dags[d].id)
            let others = dags.indices.filter { $0 != d && dags[$0].environment == dags[d].environment }
            let upstream =
                others.isEmpty
                ? "dependency/\(environments[dags[d].environment])/s3" : dags[others[rng.int(0...(others.count - 1))]].id
            let factor = 3 + rng.unit() * 2
            dagEffects[d, default: []].append(DAGEffect(start: start, end: end, durationFactor: factor, failFrom: start))
            return InjectedFault(
                id: "", kind: kind, cause: upstream, subjects: [dags[d].id], start: date(start), end: date(end),
                description: "Data from \(upstream) is late: runs of \(dags[d].id) wait for it, then fail.",
                effects: ["dag_duration x\(f1(factor)) on \(dags[d].id) (sensor waiting)", "runs of \(dags[d].id) fail"])

        case .badConfigChange, .imagePullError:
            let candidates = apps.indices.filter { !apps[$0].workloads.isEmpty && !used.contains(apps[$0].id) }
            guard !candidates.isEmpty else { return nil }
            let a = candidates[rng.int(0...(candidates.count - 1))]
            used.insert(apps[a].id)
            let w = apps[a].workloads[0]
            let bad = kind == .badConfigChange
            let end = start + (bad ? hours(&rng, 0.5, 2) : hours(&rng, 0.5, 1.5))
            let rev = revision(UInt64(a) &+ 0xBAD, start)
            let wid = workloads[w].id
            if bad {
                let perHour = 6 + rng.unit() * 12
                seriesEffects.append(
                    SeriesEffect(series: workloadSeries(w, 2), start: start, end: end, change: .crashLoop(perHour: perHour)))
                appEffects[a, default: []].append(
                    AppEffect(
                        kind: kind, start: start, end: end, revision: rev, workload: w,
                        message: "ConfigMap \(apps[a].team)-config: invalid value for LOG_LEVEL; container exits at start"))
                return InjectedFault(
                    id: "", kind: kind, cause: apps[a].id, subjects: [apps[a].id, wid], start: date(start), end: date(end),
                    description:
                        "Revision \(rev) of \(apps[a].repo) changes a ConfigMap that \(wid) cannot start with; \(apps[a].id) goes Degraded until it is rolled back.",
                    effects: [
                        "change \(rev) deployed to \(apps[a].id)",
                        "health Degraded, operation Failed, history outcome failed on \(apps[a].id)",
                        "restarts +\(Int(perHour))/hour on \(wid) (crash loop)",
                    ])
            }
            seriesEffects.append(SeriesEffect(series: workloadSeries(w, 0), start: start, end: end, change: .scale(0.5)))
            appEffects[a, default: []].append(
                AppEffect(
                    kind: kind, start: start, end: end, revision: rev, workload: w,
                    message: "ImagePullBackOff: manifest for registry.example.com/\(apps[a].team)/app:\(rev.prefix(7)) not found")
            )
            return InjectedFault(
                id: "", kind: kind, cause: apps[a].id, subjects: [apps[a].id, wid], start: date(start), end: date(end),
                description:
                    "Revision \(rev) of \(apps[a].id) points at an image that does not exist; new pods of \(wid) stay in ImagePullBackOff.",
                effects: [
                    "replicas ready < desired on \(wid)", "health Degraded on \(apps[a].id)",
                    "cpu x0.5 on \(wid) (half the pods not running)",
                ])
        }
    }
}
