import Foundation
import MeowModel
import NIOHTTP1

/// One Kubernetes cluster (a kubeconfig context, or the pod's service account): workloads and the
/// cluster's capacity, kept current by list + watch (`KubernetesInformer`, one per resource). The first
/// `observe()` starts the informers and waits for their first LIST; later ones read the local copies,
/// which the watches keep current between polls. Actions: scale, rollout restart, HPA bounds.
public actor KubernetesProvider: Provider {
    public nonisolated let name: String
    public nonisolated let manifest: PluginManifest
    let context: ProviderContext
    let http: ProviderHTTPClient
    let config: KubeConfig
    let clusterName: String
    let informers: [String: KubernetesInformer]
    var version: String?

    static let resources = [
        "/apis/apps/v1/deployments", "/apis/apps/v1/statefulsets", "/apis/apps/v1/daemonsets", "/apis/apps/v1/replicasets",
        "/api/v1/pods", "/api/v1/nodes", "/apis/autoscaling/v2/horizontalpodautoscalers", "/api/v1/events",
    ]
    /// metrics.k8s.io has no watch: it is listed at every poll, when the cluster serves it.
    static let podMetrics = "/apis/metrics.k8s.io/v1beta1/pods"
    var metricsAvailable = true
    /// Argo CD health customizations (`customizations`), read once at start.
    let customizations: ArgoCDCustomizations?
    /// `Kind/namespace/name` → (resourceVersion, condition): a script runs again only when the object changed.
    var healthCache: [String: (version: String, condition: Condition)] = [:]
    /// How many times a health script ran (tests: the cache).
    var healthScriptRuns = 0

    public init(manifest: PluginManifest, context: ProviderContext) throws {
        name = context.name
        self.manifest = manifest
        self.context = context
        if context.bool("in_cluster") == true {
            config = try KubeConfig.inCluster()
        } else {
            let env = ProcessInfo.processInfo.environment
            let path =
                context.string("kubeconfig") ?? env["KUBECONFIG"]?.split(separator: ":").first.map(String.init)
                ?? ((env["HOME"] ?? "") + "/.kube/config")
            config = try KubeConfig.load(path: path, context: context.string("context"))
        }
        clusterName = context.string("cluster_name") ?? config.context
        if let path = context.string("customizations") {
            do {
                customizations = try ArgoCDCustomizations.load(path: path)
            } catch {
                throw ProviderError(.invalid, "customizations \(path): \(error)")
            }
        } else {
            customizations = nil
        }
        http = try ProviderHTTPClient(
            baseURL: config.server, insecure: config.insecure, timeout: context.timeout, caPEM: config.caPEM,
            clientCertificatePEM: config.clientCertificatePEM, clientKeyPEM: config.clientKeyPEM,
            maxConnections: Self.resources.count + 16)
        let token = config.token
        let tokenFile = config.tokenFile
        let headers: @Sendable () throws -> [(String, String)] = {
            if let token { return [("Authorization", "Bearer \(token)")] }
            if let tokenFile {
                guard let d = FileManager.default.contents(atPath: tokenFile) else {
                    throw ProviderError(.unauthorized, "cannot read the token file \(tokenFile)")
                }
                return [
                    (
                        "Authorization",
                        "Bearer " + String(decoding: d, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                    )
                ]
            }
            return []
        }
        let watchTimeout = Int(context.double("watch_timeout") ?? 300)
        var built: [String: KubernetesInformer] = [:]
        for r in Self.resources {
            built[r] = KubernetesInformer(resource: r, http: http, watchTimeout: watchTimeout, headers: headers)
        }
        informers = built
        authHeaders = headers
    }

    let authHeaders: @Sendable () throws -> [(String, String)]

    public func shutdown() async {
        for (_, i) in informers { await i.stop() }
        await http.shutdown()
    }

    public func observe() async throws -> Observation {
        let now = Date()
        for (_, i) in informers { await i.start() }
        await withTaskGroup(of: Void.self) { group in
            for (_, i) in informers { group.addTask { await i.waitForFirstAttempt() } }
        }
        if version == nil {
            let r = try await http.send(.GET, "/version", headers: try authHeaders())
            if r.status == 200 { version = (try? JSONDecoder().decode(Value.self, from: r.body))?["gitVersion"]?.stringValue }
        }
        var objects: [String: [Value]] = [:]
        var warnings: [String] = []
        for r in Self.resources {
            let s = await informers[r]!.snapshot
            if !s.synced {
                throw s.error ?? ProviderError(.unavailable, "GET \(r): no list yet")
            }
            if let e = s.error { warnings.append("\(r): watch interrupted, showing the last known state: \(e.message)") }
            objects[r] = s.objects
        }
        // usage from metrics-server, when present (404: no metrics-server; not an error)
        if metricsAvailable {
            do {
                let r = try await http.send(.GET, Self.podMetrics, headers: try authHeaders())
                if r.status == 404 {
                    metricsAvailable = false
                } else {
                    try Self.check(r, "GET \(Self.podMetrics)", base: http.baseURL)
                    objects[Self.podMetrics] = (try? JSONDecoder().decode(Value.self, from: r.body))?["items"]?.arrayValue ?? []
                }
            } catch let e as ProviderError {
                warnings.append("pod metrics not read: \(e.message)")
            }
        }
        let mapping = KubernetesMapping(
            instance: name, cluster: clusterName, environment: context.environment, server: config.server, version: version,
            argocdInstance: context.string("argocd_instance"), argoHealth: argoHealth(objects))
        return Observation(entities: mapping.entities(objects, at: now), warnings: warnings)
    }

    /// The Argo CD health of each workload object, from the cache while its resourceVersion is the same.
    func argoHealth(_ objects: [String: [Value]]) -> [String: Condition] {
        guard let customizations else { return [:] }
        var out: [String: Condition] = [:]
        var seen = Set<String>()
        for (resource, kind) in KubernetesMapping.workloadResources {
            for o in objects[resource] ?? [] {
                let key = "\(kind)/\(KubernetesMapping.namespace(o))/\(KubernetesMapping.name(o))"
                let version = o["metadata"]?["resourceVersion"]?.stringValue ?? ""
                seen.insert(key)
                if let c = healthCache[key], c.version == version, !version.isEmpty {
                    out[key] = c.condition
                } else if let c = KubernetesMapping.argoHealth(o, kind: kind, customizations: customizations) {
                    healthScriptRuns += 1
                    healthCache[key] = (version, c)
                    out[key] = c
                }
            }
        }
        healthCache = healthCache.filter { seen.contains($0.key) }
        return out
    }

    /// How many LIST and WATCH requests each informer made (tests: relists after 410).
    func informerStats() async -> [String: (lists: Int, watches: Int)] {
        var out: [String: (Int, Int)] = [:]
        for (r, i) in informers { out[r] = (await i.lists, await i.watches) }
        return out
    }

    // MARK: Actions

    public func perform(_ request: ActionRequest) async throws -> ActionOutcome {
        guard let action = manifest.action(request.action) else {
            throw ProviderError(.invalid, "kubernetes has no action \"\(request.action)\"")
        }
        let params = try ActionParams.validate(request.params, against: action.params, action: action.name)
        let (namespace, workload, kind, base) = try await workloadPath(request.subject)
        switch action.name {
        case "scale":
            guard kind != "daemonsets" else {
                throw ProviderError(.invalid, "scale: \(workload) is a DaemonSet (one pod per node)")
            }
            let n = params["replicas"]?.intValue ?? 0
            let out = try await patch("\(base)/scale", ["spec": ["replicas": n]])
            return ActionOutcome(
                ok: true, message: "scaled \(namespace)/\(workload) to \(n) replicas",
                details: .object(["replicas": out["spec"]?["replicas"] ?? .null]))
        case "restart":
            let stamp = Timestamp.format(Date())
            _ = try await patch(
                base, ["spec": ["template": ["metadata": ["annotations": ["kubectl.kubernetes.io/restartedAt": stamp]]]]])
            return ActionOutcome(ok: true, message: "rollout restart of \(namespace)/\(workload) at \(stamp)")
        case "patch_hpa":
            let hpas = await informers["/apis/autoscaling/v2/horizontalpodautoscalers"]!.snapshot.objects
            guard
                let hpa = hpas.first(where: {
                    $0["metadata"]?["namespace"]?.stringValue == namespace
                        && $0["spec"]?["scaleTargetRef"]?["name"]?.stringValue == workload
                }), let hpaName = hpa["metadata"]?["name"]?.stringValue
            else {
                throw ProviderError(.notFound, "patch_hpa: no HorizontalPodAutoscaler targets \(namespace)/\(workload)")
            }
            var spec: [String: Any] = [:]
            if let m = params["min_replicas"]?.intValue { spec["minReplicas"] = m }
            if let m = params["max_replicas"]?.intValue { spec["maxReplicas"] = m }
            _ = try await patch(
                "/apis/autoscaling/v2/namespaces/\(namespace)/horizontalpodautoscalers/\(hpaName)", ["spec": spec])
            return ActionOutcome(ok: true, message: "patched HPA \(namespace)/\(hpaName)")
        default:
            throw ProviderError(.invalid, "kubernetes action \"\(action.name)\" is declared but not implemented")
        }
    }

    /// Namespace, name, resource (deployments, statefulsets, daemonsets) and API path of a workload id.
    func workloadPath(_ subject: String) async throws -> (String, String, String, String) {
        let prefix = "workload/\(clusterName)/"
        let parts = subject.hasPrefix(prefix) ? subject.dropFirst(prefix.count).split(separator: "/").map(String.init) : []
        guard parts.count == 2 else {
            throw ProviderError(
                .invalid, "\(subject) is not a workload of cluster \(clusterName) (workload/\(clusterName)/<namespace>/<name>)")
        }
        let (namespace, workload) = (parts[0], parts[1])
        var kind = "deployments"
        for k in ["deployments", "statefulsets", "daemonsets"] {
            if await informers["/apis/apps/v1/\(k)"]!.snapshot.objects.contains(where: {
                $0["metadata"]?["namespace"]?.stringValue == namespace && $0["metadata"]?["name"]?.stringValue == workload
            }) {
                kind = k
            }
        }
        return (namespace, workload, kind, "/apis/apps/v1/namespaces/\(namespace)/\(kind)/\(workload)")
    }

    /// After a crash mid-call: the scale subresource shows the requested replicas, or the pod template
    /// carries a restartedAt at or after the call.
    public func reconcile(_ request: ActionRequest) async -> ReconcileVerdict {
        do {
            let (_, _, _, base) = try await workloadPath(request.subject)
            switch request.action {
            case "scale":
                guard let want = request.params["replicas"]?.intValue else { return .unknown("no replicas in the request") }
                let scale = try await get("\(base)/scale")
                let have = scale["spec"]?["replicas"]?.intValue
                return have == want
                    ? .done("the scale subresource shows \(want) replicas")
                    : .notDone("the scale subresource shows \(have.map(String.init) ?? "no") replicas, not \(want)")
            case "restart":
                let object = try await get(base)
                let stamp = object["spec"]?["template"]?["metadata"]?["annotations"]?["kubectl.kubernetes.io/restartedAt"]?
                    .stringValue
                guard let since = request.startedAt else { return .unknown("no start time to compare with") }
                if let stamp, let t = Timestamp.parse(stamp), t >= since.addingTimeInterval(-1) {
                    return .done("the pod template was restarted at \(stamp)")
                }
                return .notDone("the pod template's restartedAt is \(stamp ?? "unset"), before the call")
            default:
                return .unknown("kubernetes cannot tell whether \(request.action) took effect; check it by hand")
            }
        } catch {
            return .unknown("could not ask the API server: \(error)")
        }
    }

    func get(_ path: String) async throws -> Value {
        let r = try await http.send(.GET, path, headers: try authHeaders())
        try Self.check(r, "GET \(path)", base: http.baseURL)
        return (try? JSONDecoder().decode(Value.self, from: r.body)) ?? .object([:])
    }

    func patch(_ path: String, _ body: [String: Any]) async throws -> Value {
        let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        let r = try await http.send(
            .PATCH, path, body: data, headers: try authHeaders() + [("Content-Type", "application/merge-patch+json")])
        try Self.check(r, "PATCH \(path)", base: http.baseURL)
        return (try? JSONDecoder().decode(Value.self, from: r.body)) ?? .object([:])
    }

    /// A Kubernetes `Status` error as a ProviderError.
    static func check(_ r: ProviderHTTPClient.Response, _ label: String, base: String) throws {
        if let e = ProviderError.forStatus(
            r.status, label, base: base, said: (try? JSONDecoder().decode(Value.self, from: r.body))?["message"]?.stringValue,
            unauthorizedHint: "check the kubeconfig's user", forbiddenHint: "RBAC: the user needs list and watch")
        {
            throw e
        }
    }
}
