import Foundation
import LuaHost
import MeowModel

/// Maps Kubernetes objects to `cluster` and `workload` entities (docs/plugins.md#kubernetes).
struct KubernetesMapping {
    var instance: String
    var cluster: String
    var environment: String?
    var server: String
    var version: String?
    var argocdInstance: String?
    /// Argo CD health conditions by `Kind/namespace/name` (computed by the provider, cached per
    /// resourceVersion).
    var argoHealth: [String: Condition] = [:]

    /// A quantity (`500m`, `2`, `128Mi`, `1G`, `1e3`) as a number: cores or bytes.
    static func quantity(_ v: Value?) -> Double? {
        guard let v else { return nil }
        if let d = v.doubleValue { return d }
        guard var s = v.stringValue, !s.isEmpty else { return nil }
        let suffixes: [(String, Double)] = [
            ("Ki", 1024), ("Mi", 1_048_576), ("Gi", 1_073_741_824), ("Ti", 1_099_511_627_776), ("Pi", 1_125_899_906_842_624),
            ("Ei", 1_152_921_504_606_846_976), ("n", 1e-9), ("u", 1e-6), ("m", 1e-3), ("k", 1e3), ("K", 1e3), ("M", 1e6),
            ("G", 1e9), ("T", 1e12), ("P", 1e15), ("E", 1e18),
        ]
        for (suffix, factor) in suffixes where s.hasSuffix(suffix) {
            s.removeLast(suffix.count)
            return Double(s).map { $0 * factor }
        }
        return Double(s)
    }

    static func amounts(_ v: Value?) -> ResourceAmounts? {
        let cpu = quantity(v?["cpu"])
        let memory = quantity(v?["memory"])
        return cpu == nil && memory == nil ? nil : ResourceAmounts(cpu: cpu, memory: memory)
    }

    /// The resources that become workloads, with their kind.
    static let workloadResources = [
        ("/apis/apps/v1/deployments", "Deployment"), ("/apis/apps/v1/statefulsets", "StatefulSet"),
        ("/apis/apps/v1/daemonsets", "DaemonSet"),
    ]

    static func name(_ o: Value) -> String { o["metadata"]?["name"]?.stringValue ?? "" }
    static func namespace(_ o: Value) -> String { o["metadata"]?["namespace"]?.stringValue ?? "" }

    func entities(_ objects: [String: [Value]], at now: Date) -> [Entity] {
        let clusterID = "cluster/\(cluster)"
        let pods = objects["/api/v1/pods"] ?? []
        let nodes = objects["/api/v1/nodes"] ?? []
        let replicaSets = objects["/apis/apps/v1/replicasets"] ?? []
        // pod → owning workload (ReplicaSet → Deployment, or a StatefulSet/DaemonSet directly)
        var rsOwner: [String: String] = [:]
        for rs in replicaSets {
            if let o = rs["metadata"]?["ownerReferences"]?[0], o["kind"]?.stringValue == "Deployment",
                let n = o["name"]?.stringValue
            {
                rsOwner["\(Self.namespace(rs))/\(Self.name(rs))"] = "Deployment/\(Self.namespace(rs))/\(n)"
            }
        }
        var podsOf: [String: [Value]] = [:]
        var ownerOfPod: [String: String] = [:]
        var requestedCPU = 0.0
        var requestedMemory = 0.0
        var running = 0
        for p in pods {
            let phase = p["status"]?["phase"]?.stringValue ?? ""
            if phase != "Succeeded" && phase != "Failed" {
                running += 1
                for c in p["spec"]?["containers"]?.arrayValue ?? [] {
                    requestedCPU += Self.quantity(c["resources"]?["requests"]?["cpu"]) ?? 0
                    requestedMemory += Self.quantity(c["resources"]?["requests"]?["memory"]) ?? 0
                }
            }
            guard let o = p["metadata"]?["ownerReferences"]?[0], let kind = o["kind"]?.stringValue, let n = o["name"]?.stringValue
            else { continue }
            let ns = Self.namespace(p)
            let owner = kind == "ReplicaSet" ? rsOwner["\(ns)/\(n)"] : "\(kind)/\(ns)/\(n)"
            if let owner {
                podsOf[owner, default: []].append(p)
                ownerOfPod["\(ns)/\(Self.name(p))"] = owner
            }
        }
        // metrics.k8s.io usage per workload: the sum over its pods' containers
        var usage: [String: (cpu: Double, memory: Double)] = [:]
        for pm in objects["/apis/metrics.k8s.io/v1beta1/pods"] ?? [] {
            guard let owner = ownerOfPod["\(Self.namespace(pm))/\(Self.name(pm))"] else { continue }
            for c in pm["containers"]?.arrayValue ?? [] {
                usage[owner, default: (0, 0)].cpu += Self.quantity(c["usage"]?["cpu"]) ?? 0
                usage[owner, default: (0, 0)].memory += Self.quantity(c["usage"]?["memory"]) ?? 0
            }
        }
        var cpu = 0.0
        var memory = 0.0
        var podSlots = 0
        var ready = 0
        for n in nodes {
            cpu += Self.quantity(n["status"]?["allocatable"]?["cpu"]) ?? 0
            memory += Self.quantity(n["status"]?["allocatable"]?["memory"]) ?? 0
            podSlots += Int(Self.quantity(n["status"]?["allocatable"]?["pods"]) ?? 0)
            if (n["status"]?["conditions"]?.arrayValue ?? []).contains(where: {
                $0["type"] == .string("Ready") && $0["status"] == .string("True")
            }) {
                ready += 1
            }
        }
        var out: [Entity] = [
            .cluster(
                Cluster(
                    id: clusterID, name: cluster, observedAt: now, provider: instance, environment: environment,
                    apiServer: server,
                    version: version,
                    capacity: Capacity(
                        cpuAllocatable: cpu, cpuRequested: (requestedCPU * 1000).rounded() / 1000, memoryAllocatable: memory,
                        memoryRequested: requestedMemory, podsAllocatable: podSlots, pods: running),
                    nodes: NodeCounts(total: nodes.count, ready: ready)))
        ]
        for (resource, kind) in Self.workloadResources {
            for w in objects[resource] ?? [] {
                let ns = Self.namespace(w)
                let name = Self.name(w)
                let labels = (w["metadata"]?["labels"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
                let annotations = (w["metadata"]?["annotations"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
                let spec = w["spec"]
                let status = w["status"]
                let replicas =
                    kind == "DaemonSet"
                    ? Replicas(
                        desired: status?["desiredNumberScheduled"]?.intValue.map { Int($0) },
                        ready: status?["numberReady"]?.intValue.map { Int($0) },
                        available: status?["numberAvailable"]?.intValue.map { Int($0) })
                    : Replicas(
                        desired: Int(spec?["replicas"]?.intValue ?? 1), ready: Int(status?["readyReplicas"]?.intValue ?? 0),
                        available: Int(status?["availableReplicas"]?.intValue ?? 0))
                var conditions: [Condition] = (status?["conditions"]?.arrayValue ?? []).map {
                    Condition(
                        type: $0["type"]?.stringValue, status: $0["status"]?.stringValue, reason: $0["reason"]?.stringValue,
                        message: $0["message"]?.stringValue)
                }
                if let c = argoHealth["\(kind)/\(ns)/\(name)"] { conditions.append(c) }
                var restarts = 0
                for p in podsOf["\(kind)/\(ns)/\(name)"] ?? [] {
                    for cs in p["status"]?["containerStatuses"]?.arrayValue ?? [] {
                        restarts += Int(cs["restartCount"]?.intValue ?? 0)
                        // why containers are not running: CrashLoopBackOff, ImagePullBackOff, OOMKilled
                        if let reason = cs["state"]?["waiting"]?["reason"]?.stringValue {
                            conditions.append(
                                Condition(
                                    type: "PodWaiting", status: "True", reason: reason,
                                    message: "pod \(Self.name(p)), container \(cs["name"]?.stringValue ?? "?")"))
                        }
                        if let reason = cs["lastState"]?["terminated"]?["reason"]?.stringValue, reason != "Completed" {
                            conditions.append(
                                Condition(
                                    type: "PodTerminated", status: "True", reason: reason,
                                    message: "pod \(Self.name(p)), container \(cs["name"]?.stringValue ?? "?")"))
                        }
                    }
                }
                let containers: [Container] = (spec?["template"]?["spec"]?["containers"]?.arrayValue ?? []).map { c in
                    Container(
                        name: c["name"]?.stringValue, image: c["image"]?.stringValue,
                        requests: Self.amounts(c["resources"]?["requests"]),
                        limits: Self.amounts(c["resources"]?["limits"]),
                        privileged: c["securityContext"]?["privileged"]?.boolValue,
                        runAsNonRoot: c["securityContext"]?["runAsNonRoot"]?.boolValue
                            ?? spec?["template"]?["spec"]?["securityContext"]?["runAsNonRoot"]?.boolValue)
                }
                // the owning Argo CD application: its tracking annotation or instance label
                let app =
                    annotations["argocd.argoproj.io/tracking-id"].flatMap { $0.split(separator: ":").first.map(String.init) }
                    ?? labels["app.kubernetes.io/instance"]
                out.append(
                    .workload(
                        Workload(
                            id: "workload/\(cluster)/\(ns)/\(name)", name: name, labels: labels, annotations: annotations,
                            observedAt: now,
                            provider: instance, cluster: clusterID, environment: labels["meow.io/environment"] ?? environment,
                            namespace: ns,
                            workloadKind: kind,
                            application: app.map { a in argocdInstance.map { "application/\($0)/\(a)" } ?? a },
                            replicas: replicas, restarts: restarts, conditions: conditions.isEmpty ? nil : conditions,
                            containers: containers,
                            usage: usage["\(kind)/\(ns)/\(name)"].map {
                                ResourceAmounts(cpu: ($0.cpu * 1000).rounded() / 1000, memory: $0.memory)
                            },
                            owner: labels["meow.io/owner"] ?? labels["team"] ?? labels["owner"])))
            }
        }
        // Warning events of the last hour, about workloads or their pods: raw material for correlation
        for ev in objects["/api/v1/events"] ?? [] where ev["type"]?.stringValue == "Warning" {
            let time = (ev["lastTimestamp"]?.stringValue ?? ev["eventTime"]?.stringValue).flatMap(Timestamp.parse)
            guard let time, now.timeIntervalSince(time) <= 3600 else { continue }
            let io = ev["involvedObject"]
            let ns = io?["namespace"]?.stringValue ?? Self.namespace(ev)
            let objName = io?["name"]?.stringValue ?? ""
            let subject: String? =
                switch io?["kind"]?.stringValue {
                case "Pod":
                    ownerOfPod["\(ns)/\(objName)"].map {
                        "workload/\(cluster)/\($0.split(separator: "/").dropFirst().joined(separator: "/"))"
                    }
                case "Deployment", "StatefulSet", "DaemonSet": "workload/\(cluster)/\(ns)/\(objName)"
                case "Node": clusterID
                default: nil
                }
            out.append(
                .event(
                    Event(
                        id: "event/\(cluster)/\(ns)/\(Self.name(ev))", observedAt: now, provider: instance, time: time,
                        source: instance,
                        type: "kubernetes_warning", subject: subject,
                        message: "\(ev["reason"]?.stringValue ?? "Warning"): \(ev["message"]?.stringValue ?? "")",
                        details: .object([
                            "reason": ev["reason"] ?? .null, "count": ev["count"] ?? .null,
                            "object": .string("\(io?["kind"]?.stringValue ?? "?")/\(ns)/\(objName)"),
                        ]))))
        }
        return out
    }
}

extension KubernetesMapping {
    /// The health Argo CD would compute with the configured customizations (docs/argocd-lua.md): a
    /// condition `ArgoCDHealth` whose status is the health status, reason the script, message its message.
    /// A failing script gives `Unknown` with the error, as in Argo CD.
    static func argoHealth(_ object: Value, kind: String, customizations: ArgoCDCustomizations) -> Condition? {
        guard let (script, source) = customizations.healthScript(for: "apps/\(kind)") else { return nil }
        // LIST items carry no kind or apiVersion; the scripts may read them.
        var o = object
        if case .object(var fields) = o {
            fields["apiVersion"] = fields["apiVersion"] ?? "apps/v1"
            fields["kind"] = fields["kind"] ?? .string(kind)
            o = .object(fields)
        }
        switch ArgoCDScript.health(script: script, object: o) {
        case .success(let h): return Condition(type: "ArgoCDHealth", status: h.status, reason: source, message: h.message)
        case .failure(let e): return Condition(type: "ArgoCDHealth", status: "Unknown", reason: source, message: e.message)
        }
    }

}
