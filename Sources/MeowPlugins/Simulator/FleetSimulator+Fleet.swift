import Foundation
import MeowModel

/// What the simulation knows of a workload besides its signal.
struct WorkloadInfo {
    var entity: Int
    var id: String
    var cluster: String
    var app: Int
}

/// The signal parameters of a workload, drawn once from the static fleet. Only numbers, so the step
/// loop copies no references.
struct WorkloadSignal {
    var cpu: Double
    var memory: Double
    var restarts: Double
    var amplitude: Double
    var sinPhase: Double
    var cosPhase: Double
    var trendPerDay: Double
}

struct AppState {
    var entity: Int
    var id: String
    var repo: String
    var team: String
    var environment: String
    var workloads: [Int]
    var deployPeriod: Double
    var deployOffset: Double
    var automated: Bool
}

struct DAGState {
    var entity: Int
    var id: String
    var dagId: String
    var instance: String
    var environment: Int
    var cluster: String
    var interval: Double
    var baseDuration: Double
    var baseQueueWait: Double
    var usesS3: Bool
    var usesDB: Bool
    var paused: Bool
    var tasks: [String]
}

extension FleetSimulator {
    static let authors = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"]
    static let taskSets = [
        ["extract", "transform", "load"], ["wait_for_upstream", "ingest", "validate", "publish"],
        ["prepare", "train", "evaluate"], ["query", "aggregate", "export"],
    ]

    /// Draws the simulation parameters from the static fleet with a generator of its own, so the static
    /// part of a snapshot is exactly what `FleetGenerator` produces for the same options.
    func indexFleet() {
        var rng = SeededRandom(seed: seed ^ 0x51AB_1A7E_D0C5_EED5)
        var appIndex: [String: Int] = [:]
        for (i, e) in base.entities.enumerated() {
            switch e {
            case .cluster(let c):
                clusters.append(c.id)
            case .application(let a):
                appIndex[a.id] = apps.count
                let period = Double(rng.int(6...96)) * 3600
                apps.append(
                    AppState(
                        entity: i, id: a.id, repo: a.repo ?? "", team: a.project ?? "", environment: a.environment ?? "",
                        workloads: [], deployPeriod: period, deployOffset: rng.unit() * period,
                        automated: a.syncPolicy?.automated == true))
            case .workload(let w):
                let phase = (rng.unit() - 0.3) * 2 * Double.pi / 3  // peaks mostly in the afternoon (UTC)
                let app = appIndex[w.application ?? ""] ?? 0
                apps[app].workloads.append(workloads.count)
                workloads.append(WorkloadInfo(entity: i, id: w.id, cluster: w.cluster ?? "", app: app))
                signals.append(
                    WorkloadSignal(
                        cpu: max(0.01, w.usage?.cpu ?? 0.1), memory: max(16 * 1_048_576, w.usage?.memory ?? 268_435_456),
                        restarts: Double(w.restarts ?? 0), amplitude: 0.2 + rng.unit() * 0.3,
                        sinPhase: sin(phase), cosPhase: cos(phase), trendPerDay: (rng.unit() - 0.5) * 0.04))
            case .dag(let d):
                let env = environments.firstIndex(of: d.environment ?? "") ?? 0
                let envClusters = (1...max(1, options.fleet.clustersPerEnvironment)).map { "cluster/\(environments[env])-\($0)" }
                let interval = DAGSchedule.interval(d.schedule)
                let typical = min(interval * 0.4, 600 + interval / 60)
                dags.append(
                    DAGState(
                        entity: i, id: d.id, dagId: d.dagId ?? d.id, instance: d.instance ?? "", environment: env,
                        cluster: rng.pick(envClusters), interval: interval, baseDuration: typical * (0.3 + rng.unit() * 0.7),
                        baseQueueWait: 2 + rng.unit() * 20, usesS3: rng.chance(0.7), usesDB: rng.chance(0.5),
                        paused: d.paused == true, tasks: rng.pick(Self.taskSets)))
            default:
                break
            }
        }
    }

    /// Scheduled times of a DAG's runs in `[from, to]`, aligned to the epoch.
    func scheduledTimes(_ d: Int, from: Double, to: Double) -> [Double] {
        let dag = dags[d]
        guard !dag.paused, to >= from else { return [] }
        var out: [Double] = []
        var s = (from / dag.interval).rounded(.up) * dag.interval
        while s <= to {
            out.append(s)
            s += dag.interval
        }
        return out
    }

    /// Deploy times of an application in `[from, to]` (apps deploy every 6 to 96 hours, at their own offset).
    func deployTimes(_ a: Int, from: Double, to: Double) -> [Double] {
        let app = apps[a]
        guard to >= from else { return [] }
        var out: [Double] = []
        var k = ((from - app.deployOffset) / app.deployPeriod).rounded(.up)
        while app.deployOffset + k * app.deployPeriod <= to {
            out.append(app.deployOffset + k * app.deployPeriod)
            k += 1
        }
        return out
    }

    /// A revision hash for (key, time): stable, 16 hex digits.
    func revision(_ key: UInt64, _ t: Double) -> String {
        String(format: "%016llx", SignalNoise.hash(seed ^ 0x0C0FFEE, key, Int64(t)))
    }
}
