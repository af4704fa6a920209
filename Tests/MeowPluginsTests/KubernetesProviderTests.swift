import Foundation
import MeowDoubles
import MeowModel
import MeowTesting
import Testing

@testable import MeowPlugins

/// The Kubernetes provider against the fake API server (list/watch semantics, 410 Gone, bookmarks).
@Suite struct KubernetesProviderTests {
    static func fixture(_ d: KubernetesDouble) async {
        for n in 1...2 {
            await d.apply(
                .object([
                    "kind": .string("Node"), "apiVersion": .string("v1"), "metadata": .object(["name": .string("node-\(n)")]),
                    "status": .object([
                        "allocatable": .object(["cpu": .string("8"), "memory": .string("32Gi"), "pods": .string("110")]),
                        "conditions": .array([.object(["type": .string("Ready"), "status": .string(n == 1 ? "True" : "False")])]),
                    ]),
                ]))
        }
        let container: Value = .object([
            "name": .string("api"), "image": .string("ghcr.io/example/api:1.2.3"),
            "resources": .object([
                "requests": .object(["cpu": .string("500m"), "memory": .string("512Mi")]),
                "limits": .object(["memory": .string("1Gi")]),
            ]),
            "securityContext": .object(["runAsNonRoot": .bool(true)]),
        ])
        await d.apply(
            .object([
                "kind": .string("Deployment"), "apiVersion": .string("apps/v1"),
                "metadata": .object([
                    "name": .string("api"), "namespace": .string("payments"),
                    "labels": .object(["app.kubernetes.io/instance": .string("payments-api"), "team": .string("payments")]),
                ]),
                "spec": .object([
                    "replicas": .int(3), "template": .object(["spec": .object(["containers": .array([container])])]),
                ]),
                "status": .object([
                    "readyReplicas": .int(2), "availableReplicas": .int(2),
                    "conditions": .array([.object(["type": .string("Available"), "status": .string("True")])]),
                ]),
            ]))
        await d.apply(
            .object([
                "kind": .string("ReplicaSet"), "apiVersion": .string("apps/v1"),
                "metadata": .object([
                    "name": .string("api-7d9f"), "namespace": .string("payments"),
                    "ownerReferences": .array([.object(["kind": .string("Deployment"), "name": .string("api")])]),
                ]),
            ]))
        for (i, crash) in [(1, false), (2, false), (3, true)] {
            var status: [String: Value] = ["phase": .string("Running")]
            status["containerStatuses"] = .array([
                .object([
                    "name": .string("api"), "restartCount": .int(crash ? 7 : 0),
                    "state": crash
                        ? .object(["waiting": .object(["reason": .string("CrashLoopBackOff")])])
                        : .object(["running": .object([:])]),
                    "lastState": crash ? .object(["terminated": .object(["reason": .string("OOMKilled")])]) : .object([:]),
                ])
            ])
            await d.apply(
                .object([
                    "kind": .string("Pod"), "apiVersion": .string("v1"),
                    "metadata": .object([
                        "name": .string("api-7d9f-\(i)"), "namespace": .string("payments"),
                        "ownerReferences": .array([.object(["kind": .string("ReplicaSet"), "name": .string("api-7d9f")])]),
                    ]),
                    "spec": .object(["containers": .array([container])]), "status": .object(status),
                ]))
        }
        for i in 1...3 {
            await d.apply(
                .object([
                    "kind": .string("PodMetrics"), "apiVersion": .string("metrics.k8s.io/v1beta1"),
                    "metadata": .object(["name": .string("api-7d9f-\(i)"), "namespace": .string("payments")]),
                    "containers": .array([
                        .object(["name": .string("api"), "usage": .object(["cpu": .string("250m"), "memory": .string("200Mi")])])
                    ]),
                ]))
        }
        await d.apply(
            .object([
                "kind": .string("Event"), "apiVersion": .string("v1"),
                "metadata": .object(["name": .string("api-7d9f-3.17a"), "namespace": .string("payments")]),
                "involvedObject": .object([
                    "kind": .string("Pod"), "namespace": .string("payments"), "name": .string("api-7d9f-3"),
                ]),
                "type": .string("Warning"), "reason": .string("BackOff"),
                "message": .string("Back-off restarting failed container api"),
                "count": .int(12), "lastTimestamp": .string(Timestamp.format(Date())),
            ]))
        await d.apply(
            .object([
                "kind": .string("DaemonSet"), "apiVersion": .string("apps/v1"),
                "metadata": .object(["name": .string("node-agent"), "namespace": .string("monitoring")]),
                "spec": .object([
                    "template": .object([
                        "spec": .object([
                            "containers": .array([.object(["name": .string("agent"), "image": .string("agent:2")])])
                        ])
                    ])
                ]),
                "status": .object(["desiredNumberScheduled": .int(2), "numberReady": .int(2), "numberAvailable": .int(2)]),
            ]))
        await d.apply(
            .object([
                "kind": .string("HorizontalPodAutoscaler"), "apiVersion": .string("autoscaling/v2"),
                "metadata": .object(["name": .string("api"), "namespace": .string("payments")]),
                "spec": .object([
                    "scaleTargetRef": .object(["kind": .string("Deployment"), "name": .string("api")]), "minReplicas": .int(2),
                    "maxReplicas": .int(10),
                ]),
            ]))
    }

    func kubeconfig(_ server: String, token: String = "k8s-token", extraUser: String = "") throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("meow-kube-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("config").path
        try """
        apiVersion: v1
        kind: Config
        current-context: prod
        clusters:
          - name: prod-cluster
            cluster:
              server: \(server)
        users:
          - name: meow
            user:
              token: \(token)
        \(extraUser)
        contexts:
          - name: prod
            context: {cluster: prod-cluster, user: meow}
          - name: exec
            context: {cluster: prod-cluster, user: exec-user}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func provider(_ d: KubernetesDouble, token: String = "k8s-token", settings: [String: Value] = [:]) async throws
        -> KubernetesProvider
    {
        var s: [String: Value] = [
            "kubeconfig": .string(try kubeconfig(await d.baseURL, token: token)), "argocd_instance": .string("argocd-prod"),
        ]
        for (k, v) in settings { s[k] = v }
        let manifest = try #require(PluginRegistry.builtin.plugin("kubernetes")?.manifest)
        return try KubernetesProvider(
            manifest: manifest, context: ProviderContext(name: "k8s-prod", environment: "prod", settings: s, timeout: 5))
    }

    func start() async throws -> KubernetesDouble {
        let d = KubernetesDouble()
        _ = try await d.start()
        await Self.fixture(d)
        return d
    }

    func workloads(_ o: Observation) -> [String: Workload] {
        Dictionary(
            o.entities.compactMap { e -> (String, Workload)? in if case .workload(let w) = e { (w.id, w) } else { nil } },
            uniquingKeysWith: { a, _ in a })
    }

    /// Observes until `condition` holds, up to `limit` seconds (the watch delivers in milliseconds).
    func observe(_ p: KubernetesProvider, until limit: Double = 30, _ condition: (Observation) -> Bool) async throws
        -> Observation
    {
        let deadline = Date().addingTimeInterval(limit)
        var o = try await p.observe()
        while !condition(o) && Date() < deadline {
            try await Task.sleep(for: .milliseconds(50))
            o = try await p.observe()
        }
        return o
    }

    @Test func workloadsAndCapacityAreMapped() async throws {
        let d = try await start()
        defer { Task { await d.stop() } }
        let p = try await provider(d)
        defer { Task { await p.shutdown() } }
        let o = try await p.observe()
        let w = workloads(o)
        #expect(w.keys.sorted() == ["workload/prod/monitoring/node-agent", "workload/prod/payments/api"])
        let api = try #require(w["workload/prod/payments/api"])
        #expect(
            api.workloadKind == "Deployment" && api.cluster == "cluster/prod" && api.environment == "prod"
                && api.namespace == "payments")
        #expect(api.replicas == Replicas(desired: 3, ready: 2, available: 2))
        #expect(api.restarts == 7)
        #expect(api.containers?.first?.requests == ResourceAmounts(cpu: 0.5, memory: 536_870_912))
        #expect(api.containers?.first?.limits == ResourceAmounts(cpu: nil, memory: 1_073_741_824))
        #expect(api.containers?.first?.runAsNonRoot == true && api.owner == "payments")
        #expect(api.application == "application/argocd-prod/payments-api")
        #expect(api.conditions?.contains { $0.type == "ArgoCDHealth" } == false, "no customizations configured")
        let reasons = Set(api.conditions?.compactMap(\.reason) ?? [])
        #expect(reasons.isSuperset(of: ["CrashLoopBackOff", "OOMKilled"]))
        #expect(w["workload/prod/monitoring/node-agent"]?.replicas == Replicas(desired: 2, ready: 2, available: 2))
        // metrics.k8s.io usage summed over the pods; no metrics for the DaemonSet's pods: no usage
        #expect(api.usage == ResourceAmounts(cpu: 0.75, memory: 600 * 1_048_576))
        #expect(w["workload/prod/monitoring/node-agent"]?.usage == nil)
        // a Warning event about a pod, attached to its workload
        let events = o.entities.compactMap { e -> Event? in if case .event(let v) = e { v } else { nil } }
        #expect(events.count == 1)
        #expect(events.first?.subject == api.id && events.first?.type == "kubernetes_warning")
        #expect(events.first?.message == "BackOff: Back-off restarting failed container api")
        let cluster = try #require(
            o.entities.compactMap { e -> Cluster? in if case .cluster(let c) = e { c } else { nil } }.first)
        #expect(cluster.id == "cluster/prod" && cluster.version == "v1.30.4" && cluster.nodes == NodeCounts(total: 2, ready: 1))
        #expect(cluster.capacity?.cpuAllocatable == 16 && cluster.capacity?.cpuRequested == 1.5)
        #expect(cluster.capacity?.memoryAllocatable == 64 * 1_073_741_824 && cluster.capacity?.podsAllocatable == 220)
        #expect(cluster.capacity?.pods == 3)
    }

    /// With Argo CD customizations, workloads carry the health Argo CD would compute.
    @Test func argoCDHealthCustomizationsGiveWorkloadsTheirHealth() async throws {
        let d = try await start()
        defer { Task { await d.stop() } }
        let examples = PackageRoot.url().appendingPathComponent("docs/examples/argocd").path
        let p = try await provider(d, settings: ["customizations": .string(examples)])
        defer { Task { await p.shutdown() } }
        let api = try #require(workloads(try await p.observe())["workload/prod/payments/api"])
        let health = try #require(api.conditions?.first { $0.type == "ArgoCDHealth" })
        #expect(health.status == "Progressing")
        #expect(health.reason == "apps/Deployment/health.lua")
        #expect(health.message == "Waiting for rollout to finish: 2 of 3 updated replicas are available...")
        // The DaemonSet has no customization here: no condition.
        #expect(
            workloads(try await p.observe())["workload/prod/monitoring/node-agent"]?.conditions?.contains {
                $0.type == "ArgoCDHealth"
            } != true)
        // The script runs again only when the object changes (its resourceVersion).
        #expect(await p.healthScriptRuns == 1)
        guard case .object(var dep)? = await d.object(kind: "Deployment", namespace: "payments", name: "api") else { return }
        dep["status"] = KubernetesDouble.merge(dep["status"] ?? .null, .object(["availableReplicas": .int(3)]))
        await d.apply(.object(dep))
        let healed = try await observe(p) { o in
            workloads(o)["workload/prod/payments/api"]?.conditions?.first { $0.type == "ArgoCDHealth" }?.status == "Healthy"
        }
        #expect(workloads(healed)["workload/prod/payments/api"] != nil)
        #expect(await p.healthScriptRuns == 2)
        // An unreadable source is refused at start.
        await #expect(throws: ProviderError.self) { _ = try await provider(d, settings: ["customizations": "/nonexistent"]) }
    }

    @Test func watchUpdatesAppearWithinOnePollWithoutRelisting() async throws {
        let d = try await start()
        defer { Task { await d.stop() } }
        let p = try await provider(d)
        defer { Task { await p.shutdown() } }
        _ = try await p.observe()
        guard case .object(var dep)? = await d.object(kind: "Deployment", namespace: "payments", name: "api") else { return }
        dep["spec"] = KubernetesDouble.merge(dep["spec"] ?? .null, .object(["replicas": .int(5)]))
        await d.apply(.object(dep))
        await d.delete(kind: "DaemonSet", namespace: "monitoring", name: "node-agent")
        let o = try await observe(p) {
            workloads($0)["workload/prod/payments/api"]?.replicas?.desired == 5 && workloads($0).count == 1
        }
        #expect(workloads(o)["workload/prod/payments/api"]?.replicas?.desired == 5)
        #expect(workloads(o)["workload/prod/monitoring/node-agent"] == nil)
        let stats = await p.informerStats()
        #expect(stats["/apis/apps/v1/deployments"]?.lists == 1)  // the watch carried it
    }

    @Test func aGoneResourceVersionRelistsAndADroppedWatchResumes() async throws {
        let d = try await start()
        defer { Task { await d.stop() } }
        let p = try await provider(d)
        defer { Task { await p.shutdown() } }
        _ = try await p.observe()
        // the watch ends (server restart): the informer watches again from its resourceVersion
        await d.dropWatches()
        guard case .object(var dep)? = await d.object(kind: "Deployment", namespace: "payments", name: "api") else { return }
        dep["spec"] = KubernetesDouble.merge(dep["spec"] ?? .null, .object(["replicas": .int(4)]))
        await d.apply(.object(dep))
        var o = try await observe(p) { workloads($0)["workload/prod/payments/api"]?.replicas?.desired == 4 }
        #expect(workloads(o)["workload/prod/payments/api"]?.replicas?.desired == 4)
        #expect((await p.informerStats()["/apis/apps/v1/deployments"]?.watches ?? 0) >= 2)
        // changes made while the client is cut off, then history compacted: its resourceVersion is too old,
        // the server answers 410 Gone, and the informer lists again
        await d.partition(true)
        dep["spec"] = KubernetesDouble.merge(dep["spec"] ?? .null, .object(["replicas": .int(6)]))
        await d.apply(.object(dep))
        await d.compact()
        await d.partition(false)
        await d.dropWatches()
        o = try await observe(p) { workloads($0)["workload/prod/payments/api"]?.replicas?.desired == 6 }
        #expect(workloads(o)["workload/prod/payments/api"]?.replicas?.desired == 6)
        #expect((await p.informerStats()["/apis/apps/v1/deployments"]?.lists ?? 0) >= 2)
    }

    @Test func actionsPatchTheAPIAndAreObservedBack() async throws {
        let d = try await start()
        defer { Task { await d.stop() } }
        let p = try await provider(d)
        defer { Task { await p.shutdown() } }
        _ = try await p.observe()
        let scale = ActionRequest(action: "scale", subject: "workload/prod/payments/api", params: ["replicas": .int(2)])
        #expect(await p.reconcile(scale) == .notDone("the scale subresource shows 3 replicas, not 2"))
        let scaled = try await p.perform(scale)
        #expect(await p.reconcile(scale) == .done("the scale subresource shows 2 replicas"))
        #expect(scaled.ok && scaled.details["replicas"] == .int(2))
        let o = try await observe(p) { workloads($0)["workload/prod/payments/api"]?.replicas?.desired == 2 }
        #expect(workloads(o)["workload/prod/payments/api"]?.replicas?.desired == 2)
        let restart = ActionRequest(
            action: "restart", subject: "workload/prod/payments/api", startedAt: Date().addingTimeInterval(-0.5))
        guard case .notDone = await p.reconcile(restart) else {
            Issue.record("not restarted yet")
            return
        }
        _ = try await p.perform(restart)
        guard case .done = await p.reconcile(restart) else {
            Issue.record("restarted: reconcile must say done")
            return
        }
        let restarted = await d.object(kind: "Deployment", namespace: "payments", name: "api")
        #expect(
            restarted?["spec"]?["template"]?["metadata"]?["annotations"]?["kubectl.kubernetes.io/restartedAt"]?.stringValue != nil
        )
        #expect(restarted?["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.count == 1)  // a merge, not a replace
        _ = try await p.perform(
            ActionRequest(action: "patch_hpa", subject: "workload/prod/payments/api", params: ["max_replicas": .int(20)]))
        let hpa = await d.object(kind: "HorizontalPodAutoscaler", namespace: "payments", name: "api")
        #expect(hpa?["spec"]?["maxReplicas"] == .int(20) && hpa?["spec"]?["minReplicas"] == .int(2))
        await #expect(throws: ProviderError.self) {
            try await p.perform(
                ActionRequest(action: "scale", subject: "workload/prod/monitoring/node-agent", params: ["replicas": .int(3)]))
        }
        await #expect(throws: ProviderError.self) {
            try await p.perform(
                ActionRequest(action: "scale", subject: "workload/staging/payments/api", params: ["replicas": .int(3)]))
        }
    }

    @Test func aWrongTokenAndBadKubeconfigsAreExplained() async throws {
        let d = try await start()
        defer { Task { await d.stop() } }
        let p = try await provider(d, token: "wrong")
        do {
            _ = try await p.observe()
            Issue.record("observed with a wrong token")
        } catch let e as ProviderError {
            #expect(e.kind == .unauthorized && e.message.contains("401 Unauthorized"), "\(e.message)")
        }
        await p.shutdown()
        let manifest = try #require(PluginRegistry.builtin.plugin("kubernetes")?.manifest)
        let exec = try kubeconfig(
            await d.baseURL, extraUser: "  - name: exec-user\n    user:\n      exec: {command: aws, args: [eks, get-token]}")
        #expect(throws: ConfigError.self) {
            _ = try KubernetesProvider(
                manifest: manifest,
                context: ProviderContext(name: "k", settings: ["kubeconfig": .string(exec), "context": .string("exec")]))
        }
        #expect(throws: ConfigError.self) {
            _ = try KubernetesProvider(
                manifest: manifest,
                context: ProviderContext(name: "k", settings: ["kubeconfig": .string(exec), "context": .string("nope")]))
        }
        #expect(
            KubernetesMapping.quantity(.string("250m")) == 0.25 && KubernetesMapping.quantity(.string("2Gi")) == 2_147_483_648)
        #expect(KubernetesMapping.quantity(.string("1G")) == 1e9 && KubernetesMapping.quantity(.int(3)) == 3)
    }
}
