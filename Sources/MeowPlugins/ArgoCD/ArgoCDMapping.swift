import Foundation
import MeowModel

/// Maps Argo CD's API objects to meow's state model (docs/plugins.md#argocd has the table).
struct ArgoCDMapping: Sendable {
    var instance: String
    /// The instance's environment (meow.yaml), used when no label names one.
    var environment: String?
    /// Argo CD's own namespace: applications there get `application/<instance>/<name>`, others
    /// `application/<instance>/<namespace>/<name>`.
    var argoNamespace: String
    var environmentLabel: String
    /// Deployments and failed syncs newer than this become `event` entities (0: none).
    var eventWindow: TimeInterval = 86400

    static func changeKey(repo: String, revision: String) -> String { "\(repo)@\(revision)" }

    /// The synced revision, then the history's revisions newest first, without repeats.
    static func recentRevisions(_ app: ArgoCDAPI.Application) -> [String] {
        var out: [String] = []
        var candidates: [String] = []
        if let r = app.status?.sync?.revision { candidates.append(r) }
        for h in (app.status?.history ?? []).reversed() { if let r = h.revision { candidates.append(r) } }
        for r in candidates where !r.isEmpty && !out.contains(r) { out.append(r) }
        return out
    }

    func applicationID(name: String, namespace: String?) -> String {
        if let namespace, namespace != argoNamespace { return "application/\(instance)/\(namespace)/\(name)" }
        return "application/\(instance)/\(name)"
    }

    /// The Argo CD name (and namespace, when not Argo CD's own) of an application entity id.
    func applicationName(from id: String) throws -> (String, String?) {
        let prefix = "application/\(instance)/"
        guard id.hasPrefix(prefix) else {
            throw ProviderError(.invalid, "\(id) is not an application of Argo CD instance \(instance)")
        }
        let rest = id.dropFirst(prefix.count).split(separator: "/").map(String.init)
        switch rest.count {
        case 1: return (rest[0], nil)
        case 2: return (rest[1], rest[0])
        default:
            throw ProviderError(.invalid, "\(id) is not an application id of the form application/\(instance)/[namespace/]name")
        }
    }

    func clusterName(_ c: ArgoCDAPI.Cluster) -> String {
        if let n = c.name, !n.isEmpty { return n }
        return Self.hostName(c.server ?? "unknown")
    }

    static func hostName(_ server: String) -> String {
        if server == "https://kubernetes.default.svc" { return "in-cluster" }
        return URL(string: server)?.host ?? server
    }

    func entities(
        apps: [ArgoCDAPI.Application], clusters: [ArgoCDAPI.Cluster], changes: [String: ArgoCDAPI.RevisionMetadata], at now: Date
    ) -> [Entity] {
        var out: [Entity] = []
        var clusterByServer: [String: (id: String, environment: String?)] = [:]
        var clusterByName: [String: (id: String, environment: String?)] = [:]
        for c in clusters {
            let name = clusterName(c)
            let id = "cluster/\(instance)/\(name)"
            let env = c.labels?[environmentLabel] ?? environment
            if let s = c.server { clusterByServer[s] = (id, env) }
            clusterByName[name] = (id, env)
            let state = c.connectionState ?? c.info?.connectionState
            var conditions: [Condition] = []
            if let status = state?.status {
                conditions.append(
                    Condition(
                        type: "Connected", status: status == "Successful" ? "True" : status == "Failed" ? "False" : "Unknown",
                        reason: status, message: state?.message))
            }
            out.append(
                .cluster(
                    Cluster(
                        id: id, name: name, labels: c.labels, annotations: c.annotations, observedAt: now, provider: instance,
                        environment: env, apiServer: c.server, version: c.serverVersion ?? c.info?.serverVersion,
                        conditions: conditions.isEmpty ? nil : conditions)))
        }
        for app in apps {
            guard let name = app.metadata?.name else { continue }
            let id = applicationID(name: name, namespace: app.metadata?.namespace)
            let appID = id
            let labels = app.metadata?.labels ?? [:]
            let annotations = app.metadata?.annotations ?? [:]
            let meta = { (key: String) in labels["meow.io/\(key)"] ?? annotations["meow.io/\(key)"] }
            let spec = app.spec
            let source = spec?.source ?? spec?.sources?.first
            let dest = spec?.destination
            let cluster = dest?.name.flatMap { clusterByName[$0] } ?? dest?.server.flatMap { clusterByServer[$0] }
            let clusterID =
                cluster?.id ?? dest.map { "cluster/\(instance)/\($0.name ?? Self.hostName($0.server ?? "unknown"))" }
            let env = labels[environmentLabel] ?? annotations[environmentLabel] ?? cluster?.environment ?? environment
            let status = app.status
            // Resources
            var summary: ResourceSummary?
            if let resources = status?.resources {
                var kinds: [String: Int] = [:]
                for r in resources { if let k = r.kind { kinds[k, default: 0] += 1 } }
                summary = ResourceSummary(
                    total: resources.count, outOfSync: resources.filter { ($0.status ?? "Synced") != "Synced" }.count,
                    degraded: resources.filter { r in r.health.map { ($0.status ?? "Healthy") != "Healthy" } ?? false }.count,
                    kinds: kinds)
            }
            // History: Argo CD records successful deployments; a failed last operation is added as failed.
            var history: [DeploymentRecord] = (status?.history ?? []).map {
                DeploymentRecord(
                    id: $0.id.map { Int($0) }, revision: $0.revision ?? $0.revisions?.first,
                    deployedAt: $0.deployedAt.flatMap(Timestamp.parse), outcome: "succeeded")
            }
            let op = status?.operationState
            if let op, op.phase == "Failed" || op.phase == "Error" {
                history.append(
                    DeploymentRecord(
                        revision: op.syncResult?.revision ?? op.operation?.sync?.revision,
                        deployedAt: (op.finishedAt ?? op.startedAt).flatMap(Timestamp.parse), outcome: "failed"))
            }
            let policy = spec?.syncPolicy
            let automated = policy?.automated.map { $0.enabled ?? true } ?? false
            out.append(
                .application(
                    Application(
                        id: id, name: name, labels: labels, annotations: annotations, observedAt: now, provider: instance,
                        instance: instance, project: spec?.project, environment: env, cluster: clusterID,
                        namespace: dest?.namespace, repo: source?.repoURL, path: source?.path ?? source?.chart,
                        targetRevision: source?.targetRevision ?? "HEAD",
                        syncedRevision: status?.sync?.revision ?? status?.sync?.revisions?.first,
                        syncStatus: status?.sync?.status ?? "Unknown", health: status?.health?.status ?? "Unknown",
                        healthMessage: status?.health?.message,
                        operation: op.map {
                            OperationState(
                                phase: $0.phase, message: $0.message,
                                revision: $0.syncResult?.revision ?? $0.operation?.sync?.revision,
                                startedAt: $0.startedAt.flatMap(Timestamp.parse),
                                finishedAt: $0.finishedAt.flatMap(Timestamp.parse))
                        },
                        syncPolicy: policy.map { _ in
                            SyncPolicy(
                                automated: automated, prune: policy?.automated?.prune ?? false,
                                selfHeal: policy?.automated?.selfHeal ?? false)
                        },
                        history: history.isEmpty ? nil : history, resources: summary, images: status?.summary?.images,
                        criticality: meta("criticality"), owner: meta("owner") ?? labels["owner"] ?? labels["team"],
                        tier: meta("tier") ?? labels["tier"])))
            // Events: recent deployments and a failed last sync, the raw material for correlation.
            if eventWindow > 0 {
                for h in status?.history ?? [] {
                    guard let id = h.id, let at = h.deployedAt.flatMap(Timestamp.parse), now.timeIntervalSince(at) <= eventWindow
                    else { continue }
                    let rev = h.revision ?? h.revisions?.first ?? "?"
                    let who = h.initiatedBy.map { $0.automated == true ? "automated sync" : $0.username ?? "unknown" }
                    out.append(
                        .event(
                            Event(
                                id: "event/\(instance)/\(name)/deploy/\(id)", observedAt: now, provider: instance, time: at,
                                source: instance, type: "deploy", subject: appID,
                                message: "deployed \(rev.prefix(12)) (history id \(id))\(who.map { " by \($0)" } ?? "")",
                                details: .object(["revision": .string(rev), "history_id": .int(id)]))))
                }
                if let op, op.phase == "Failed" || op.phase == "Error",
                    let at = (op.finishedAt ?? op.startedAt).flatMap(Timestamp.parse), now.timeIntervalSince(at) <= eventWindow
                {
                    let rev = op.syncResult?.revision ?? op.operation?.sync?.revision ?? "?"
                    out.append(
                        .event(
                            Event(
                                id: "event/\(instance)/\(name)/sync-failed/\(Int(at.timeIntervalSince1970))", observedAt: now,
                                provider: instance, time: at, source: instance, type: "sync_failed", subject: appID,
                                message: "sync of \(rev.prefix(12)) \(op.phase ?? "failed"): \(op.message ?? "")",
                                details: .object(["revision": .string(rev)]))))
                }
            }
            // Changes: the commits behind the synced revision and recent deployments.
            if let repo = source?.repoURL {
                for r in Self.recentRevisions(app) {
                    guard let m = changes[Self.changeKey(repo: repo, revision: r)] else { continue }
                    out.append(
                        .change(
                            Change(
                                id: "change/\(instance)/\(name)/\(r)", name: String(r.prefix(12)), observedAt: now,
                                provider: instance,
                                revision: r, repo: repo, application: id, author: m.author, time: m.date.flatMap(Timestamp.parse),
                                message: m.message)))
                }
            }
        }
        return out
    }
}
