import Foundation
import MeowModel

/// Options of a generated fleet (`meow fleet`).
public struct FleetOptions: Sendable, Hashable {
    public var apps = 100
    public var environments = ["dev", "staging", "prod"]
    public var clustersPerEnvironment = 2
    public var workloadsPerApp = 5
    /// Airflow DAGs; nil = one per five apps.
    public var dags: Int? = nil
    public var seed: UInt64 = 1
    /// The time the snapshot is taken; the default is fixed so output never depends on the wall clock.
    public var at = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z
    public init() {}
}

/// Generates a deterministic fleet snapshot: applications spread over environments and clusters, their
/// workloads, and Airflow DAGs, with a realistic sprinkling of policy problems (a few percent of apps with
/// `:latest` images, missing requests, manual sync in prod, missing owners, ...).
///
/// Same options ⇒ same snapshot, byte for byte. `FleetSimulator` builds on it: a time-stepped fleet with
/// history and injected faults.
public struct FleetGenerator: Sendable {
    public var options: FleetOptions

    public init(options: FleetOptions) { self.options = options }

    static let teams = [
        "payments", "checkout", "search", "identity", "catalog", "billing", "ledger", "notifications", "data", "growth",
    ]
    static let components = ["api", "worker", "web", "gateway", "scheduler", "consumer", "cache", "indexer"]
    static let dagWords = ["etl", "export", "rollup", "sync", "backfill", "report", "ingest", "train"]

    public func generate() -> Snapshot {
        var rng = SeededRandom(seed: options.seed)
        let at = options.at
        var entities: [Entity] = []
        var clustersByEnv: [String: [String]] = [:]

        for (order, env) in options.environments.enumerated() {
            var clusterIDs: [String] = []
            for c in 1...max(1, options.clustersPerEnvironment) {
                let name = "\(env)-\(c)"
                let id = "cluster/\(name)"
                clusterIDs.append(id)
                let cpu = Double(rng.int(16...64) * 8)
                let mem = cpu * 4 * 1_073_741_824
                let used = 0.35 + rng.unit() * 0.55
                let nodes = Int(cpu / 8)
                entities.append(
                    .cluster(
                        Cluster(
                            id: id, name: name, labels: ["environment": env], observedAt: at, provider: "simulator",
                            environment: env, apiServer: "https://\(name).k8s.example.com",
                            version: rng.pick(["1.29.6", "1.30.4", "1.31.1"]),
                            capacity: Capacity(
                                cpuAllocatable: cpu, cpuRequested: (cpu * used).rounded(),
                                memoryAllocatable: mem, memoryRequested: (mem * (used + rng.unit() * 0.1)).rounded(),
                                podsAllocatable: nodes * 110, pods: Int(Double(nodes * 110) * used * 0.5)),
                            nodes: NodeCounts(total: nodes, ready: rng.chance(0.1) ? nodes - 1 : nodes))))
            }
            clustersByEnv[env] = clusterIDs
            entities.append(
                .environment(
                    EnvironmentEntity(
                        id: "environment/\(env)", name: env, observedAt: at, provider: "simulator", clusters: clusterIDs,
                        promotionOrder: order,
                        promotesTo: order + 1 < options.environments.count ? options.environments[order + 1] : nil)))
        }

        for i in 0..<options.apps {
            let env = options.environments[i % options.environments.count]
            let isProd = env == "prod"
            let team = Self.teams[(i / options.environments.count) % Self.teams.count]
            let component = rng.pick(Self.components)
            let name = "\(team)-\(component)-\(String(format: "%04d", i))"
            let cluster = rng.pick(clustersByEnv[env] ?? ["cluster/\(env)-1"])
            let clusterName = String(cluster.dropFirst("cluster/".count))
            let instance = "argocd-\(env)"
            let appID = "application/\(instance)/\(name)"
            let namespace = rng.chance(0.02) ? "default" : team
            var labels = ["app.kubernetes.io/name": name, "team": team]
            if rng.chance(0.95) { labels["owner"] = team }
            if !isProd || rng.chance(0.9) { labels["meow.io/criticality"] = rng.pick(["low", "medium", "high", "critical"]) }
            let version = "v\(rng.int(1...4)).\(rng.int(0...30)).\(rng.int(0...9))"
            func image(_ comp: String) -> String {
                if rng.chance(0.04) { return "registry.example.com/\(team)/\(comp):latest" }
                if rng.chance(0.01) { return "registry.example.com/\(team)/\(comp)" }
                return "registry.example.com/\(team)/\(comp):\(version)"
            }
            let automated = isProd ? rng.chance(0.94) : rng.chance(0.6)
            let syncPolicy =
                automated
                ? SyncPolicy(automated: true, prune: rng.chance(0.8), selfHeal: isProd ? rng.chance(0.95) : rng.chance(0.5))
                : nil
            let health = rng.chance(0.9) ? "Healthy" : rng.pick(["Degraded", "Progressing", "Missing"])
            let sync = rng.chance(0.92) ? "Synced" : "OutOfSync"
            let revision = String(
                format: "%08x%08x", UInt32(truncatingIfNeeded: rng.next()), UInt32(truncatingIfNeeded: rng.next()))
            var history: [DeploymentRecord] = []
            for h in 0..<rng.int(2...5) {
                history.append(
                    DeploymentRecord(
                        id: h + 1, revision: String(format: "%08x", UInt32(truncatingIfNeeded: rng.next())),
                        deployedAt: at.addingTimeInterval(-Double(rng.int(1...30) * 86400 - h * 3600)),
                        outcome: rng.chance(0.9) ? "succeeded" : "failed"))
            }
            history.sort { ($0.deployedAt ?? at) < ($1.deployedAt ?? at) }
            let target = isProd ? (rng.chance(0.9) ? version : "HEAD") : rng.pick(["main", "HEAD", version])
            let repo =
                rng.chance(0.01) ? "http://git.example.com/\(team)/\(name).git" : "https://git.example.com/\(team)/\(name).git"

            var images: [String] = []
            var workloadEntities: [Entity] = []
            for w in 0..<options.workloadsPerApp {
                let wname = w == 0 ? name : "\(name)-\(Self.components[w % Self.components.count])"
                var containers: [Container] = []
                for c in 0..<(rng.chance(0.3) ? 2 : 1) {
                    let cname = c == 0 ? "main" : "sidecar"
                    let img = c == 0 ? image(component) : "registry.example.com/platform/envoy:1.31.\(rng.int(0...4))"
                    images.append(img)
                    let cpuReq = Double(rng.pick([100, 250, 500, 1000, 2000])) / 1000
                    let memReq = Double(rng.pick([128, 256, 512, 1024, 2048])) * 1_048_576
                    containers.append(
                        Container(
                            name: cname, image: img,
                            requests: rng.chance(0.93) ? ResourceAmounts(cpu: cpuReq, memory: memReq) : nil,
                            limits: rng.chance(0.9) ? ResourceAmounts(cpu: cpuReq * 2, memory: memReq * 2) : nil,
                            privileged: rng.chance(0.01) ? true : nil,
                            runAsNonRoot: rng.chance(0.85)))
                }
                let desired = isProd ? (rng.chance(0.95) ? rng.int(2...6) : 1) : rng.int(1...3)
                let ready = rng.chance(0.95) ? desired : max(0, desired - 1)
                let cpuRequested = containers.compactMap { $0.requests?.cpu }.reduce(0, +)
                workloadEntities.append(
                    .workload(
                        Workload(
                            id: "workload/\(clusterName)/\(namespace)/\(wname)", name: wname,
                            labels: ["app.kubernetes.io/instance": name, "team": team], observedAt: at, provider: "simulator",
                            cluster: cluster, environment: env, namespace: namespace,
                            workloadKind: w == 0 || rng.chance(0.8) ? "Deployment" : "StatefulSet", application: appID,
                            replicas: Replicas(desired: desired, ready: ready, available: ready),
                            restarts: rng.chance(0.05) ? rng.int(5...40) : rng.int(0...1),
                            containers: containers,
                            usage: ResourceAmounts(
                                cpu: (max(cpuRequested, 0.1) * (0.1 + rng.unit() * 0.9) * 1000).rounded() / 1000,
                                memory: (Double(rng.int(64...1500)) * 1_048_576).rounded()),
                            owner: labels["owner"])))
            }
            entities.append(
                .application(
                    Application(
                        id: appID, name: name, labels: labels, observedAt: at, provider: "simulator",
                        instance: instance, project: team, environment: env, cluster: cluster, namespace: namespace,
                        repo: repo, path: "deploy/\(env)", targetRevision: target, syncedRevision: revision,
                        syncStatus: sync, health: health,
                        operation: OperationState(
                            phase: health == "Degraded" && rng.chance(0.5) ? "Failed" : "Succeeded", revision: revision,
                            startedAt: history.last?.deployedAt, finishedAt: history.last?.deployedAt?.addingTimeInterval(45)),
                        syncPolicy: syncPolicy, history: history,
                        resources: ResourceSummary(
                            total: options.workloadsPerApp * 3, outOfSync: sync == "Synced" ? 0 : rng.int(1...3),
                            degraded: health == "Healthy" ? 0 : 1,
                            kinds: [
                                "Deployment": options.workloadsPerApp, "Service": options.workloadsPerApp,
                                "ConfigMap": options.workloadsPerApp,
                            ]),
                        images: Array(Set(images)).sorted(),
                        criticality: labels["meow.io/criticality"], owner: labels["owner"], tier: rng.pick(["1", "2", "3"]))))
            entities.append(contentsOf: workloadEntities)
        }

        let dagCount = options.dags ?? max(1, options.apps / 5)
        for d in 0..<dagCount {
            let env = options.environments[d % options.environments.count]
            let team = Self.teams[d % Self.teams.count]
            let dagID = "\(team)_\(rng.pick(Self.dagWords))_\(d)"
            let owners = rng.chance(0.9) ? [team] : ["airflow"]
            entities.append(
                .dag(
                    DAG(
                        id: "dag/airflow-\(env)/\(dagID)", name: dagID, labels: ["team": team], observedAt: at,
                        provider: "simulator",
                        instance: "airflow-\(env)", environment: env, dagId: dagID, paused: rng.chance(0.05),
                        schedule: rng.pick(["@hourly", "@daily", "0 */6 * * *", "*/15 * * * *"]), owners: owners,
                        tags: [team, rng.pick(["etl", "ml", "reporting"])],
                        nextRun: at.addingTimeInterval(Double(rng.int(1...24) * 3600)))))
        }
        return Snapshot(revision: 1, observedAt: at, entities: entities)
    }
}
