import Foundation
import MeowModel
import MeowRules
import MeowRuntime

/// Reads of the published state: environments, clusters, applications, DAGs, runs, task instances,
/// decisions. None waits on an evaluation; each list is sorted by id and paged by `cursor`.
extension API {
    /// A page of a list sorted by id: items after `cursor` (the last id of the previous page), at most
    /// `limit`.
    struct Page<T> {
        var items: [T]
        var next: String?
        var total: Int

        init(_ all: [T], id: (T) -> String, request r: APIRequest, maxPage: Int, sortedByID: Bool = false) throws {
            let limit = try API.int(r, "limit", default: min(100, maxPage), range: 1...maxPage)
            let sorted = sortedByID ? all : all.sorted { id($0) < id($1) }
            var start = 0
            if let cursor = r.query("cursor") {
                // binary search: the first id after the cursor
                var lo = 0
                var hi = sorted.count
                while lo < hi {
                    let mid = (lo + hi) / 2
                    if id(sorted[mid]) <= cursor { lo = mid + 1 } else { hi = mid }
                }
                start = lo
            }
            let end = min(sorted.count, start + limit)
            items = Array(sorted[start..<end])
            next = end < sorted.count ? items.last.map(id) : nil
            total = all.count
        }

        func body(_ render: (T) throws -> Value, revision: Int) rethrows -> Value {
            [
                "items": .array(try items.map(render)), "next_cursor": next.map { .string($0) } ?? .null,
                "total": .int(Int64(total)), "revision": .int(Int64(revision)),
            ]
        }
    }

    func page<T>(_ all: [T], id: (T) -> String, _ r: APIRequest) throws -> Page<T> {
        try Page(all, id: id, request: r, maxPage: config.server.maxPage)
    }

    // MARK: Environments and clusters

    func environments(_ r: APIRequest) async throws -> APIResponse {
        let read = readIndex
        let view = read.view
        let apps = read.applications
        let index = read.decisions
        var items: [Value] = []
        for case .environment(let e) in view.snapshot.entities {
            let mine = apps.filter { $0.environment == e.name }
            let decisions = view.decisions.filter { index.environment(of: $0) == e.name }
            var o: [String: Value] = [:]
            o["id"] = .string(e.id)
            o["name"] = .string(e.name ?? "")
            o["clusters"] = .array((e.clusters ?? []).map { .string($0) })
            o["promotion_order"] = e.promotionOrder.map { .int(Int64($0)) } ?? .null
            o["promotes_to"] = e.promotesTo.map { .string($0) } ?? .null
            o["protected"] = .bool(config.protectedEnvironments.contains(e.name ?? ""))
            o["applications"] = .int(Int64(mine.count))
            o["unhealthy"] = .int(Int64(mine.filter { ($0.health ?? "Healthy") != "Healthy" }.count))
            o["decisions"] = Self.counts(decisions)
            items.append(.object(o))
        }
        return .json(["items": .array(items), "revision": .int(Int64(view.snapshot.revision))])
    }

    func clusters(_ r: APIRequest) async throws -> APIResponse {
        let read = readIndex
        let view = read.view
        let env = r.query("environment")
        let all = view.snapshot.entities.compactMap { e -> Cluster? in
            guard case .cluster(let c) = e, env == nil || c.environment == env else { return nil }
            return c
        }
        let p = try page(all, id: \.id, r)
        return .json(try p.body({ try Self.encode(Entity.cluster($0)) }, revision: view.snapshot.revision))
    }

    // MARK: Applications

    /// Applications with their health, sync, latest decisions and insights.
    func applications(_ r: APIRequest) async throws -> APIResponse {
        let health = try Self.oneOf(r, "health", ["Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown"])
        let sync = try Self.oneOf(r, "sync", ["Synced", "OutOfSync", "Unknown"])
        let q = r.query("q")?.lowercased()
        let hasDecisions = try Self.bool(r, "has_decisions")
        let read = readIndex
        let decisions = read.decisions
        // filter positions, not copies: an Application is a large value, and copying 10,000 of them per
        // request was most of a filtered request's time
        let apps = read.applications
        let env = r.query("environment"), cluster = r.query("cluster"), project = r.query("project")
        let positions = apps.indices.filter { i in
            if let env, apps[i].environment != env { return false }
            if let cluster, apps[i].cluster != cluster { return false }
            if let project, apps[i].project != project { return false }
            if let health, !health.contains(apps[i].health ?? "Unknown") { return false }
            if let sync, !sync.contains(apps[i].syncStatus ?? "Unknown") { return false }
            if let q, !apps[i].id.lowercased().contains(q) && !(apps[i].name ?? "").lowercased().contains(q) { return false }
            if let hasDecisions, decisions.bySubject[apps[i].id, default: []].isEmpty == hasDecisions { return false }
            return true
        }
        let page = try Page(positions, id: { apps[$0].id }, request: r, maxPage: config.server.maxPage, sortedByID: true)
        // the page is assembled from each item's cached JSON (keys in sorted order, as everywhere)
        var out: [UInt8] = []
        out.reserveCapacity(page.items.count * 3000 + 200)
        out += Array(#"{"items":["#.utf8)
        for (n, i) in page.items.enumerated() {
            if n > 0 { out.append(UInt8(ascii: ",")) }
            out += try read.applicationItemJSON(apps[i])
        }
        out += Array(#"],"next_cursor":"#.utf8)
        out += Array((page.next.map { Value.string($0) } ?? .null).compactJSON.utf8)
        out += Array(#","revision":\#(read.view.snapshot.revision),"total":\#(page.total)}"#.utf8)
        return .jsonBytes(out)
    }

    static func applicationItem(_ a: Application, _ index: DecisionIndex) throws -> Value {
        guard case .object(var o) = try Self.encode(Entity.application(a)) else { return .null }
        let mine = index.bySubject[a.id, default: []]
        o["decisions"] = .array(try mine.prefix(20).map { try Self.encode($0) })
        o["insights"] = Self.insights(a, mine)
        return .object(o)
    }

    /// A few derived facts the dashboard shows next to an application.
    static func insights(_ a: Application, _ decisions: [Decision]) -> Value {
        let history = a.history ?? []
        let last = history.last
        guard case .object(var o) = summary(decisions) else { return .null }
        o.merge(
            [
                "healthy": .bool((a.health ?? "") == "Healthy"),
                "in_sync": .bool((a.syncStatus ?? "") == "Synced"),
                "stale": .bool(a.stale ?? false),
                "deployments": .int(Int64(history.count)),
                "last_deployed_at": last?.deployedAt.map { .string(Timestamp.format($0)) } ?? .null,
                "proposed_actions": .array(
                    decisions.filter { $0.type == .actionProposed }.compactMap { $0.evidence["action"] }),
            ], uniquingKeysWith: { a, _ in a })
        return .object(o)
    }

    /// Counts by type and the worst severity: what an application's and a DAG's insights share.
    static func summary(_ decisions: [Decision]) -> Value {
        [
            "decisions": counts(decisions),
            "worst_severity": decisions.compactMap(\.severity).max().map { .string($0.rawValue) } ?? .null,
        ]
    }

    static func counts(_ decisions: [Decision]) -> Value {
        var o: [String: Value] = [:]
        for t in decisionTypes { o[t] = .int(0) }
        for d in decisions { o[d.type.rawValue] = .int((o[d.type.rawValue]?.intValue ?? 0) + 1) }
        return .object(o)
    }

    /// One application with its workloads, changes, decisions and history (decisions from the store,
    /// actions on it, deployments).
    func application(_ r: APIRequest) async throws -> APIResponse {
        let id = try entityID(r, kind: "application")
        let read = readIndex
        let index = read.decisions
        guard case .application(let a)? = read.byID[id] else {
            throw Problem.notFound("no application \(id) in the current state (GET /v1/applications lists them)")
        }
        guard case .object(var o) = try Self.applicationItem(a, index) else { return .json(.null) }
        let workloads = try read.workloads[a.id, default: []].map { try Self.encode($0) }
        let changes = try read.changes[a.id, default: []].map { try Self.encode($0) }
        o["decisions"] = .array(try index.bySubject[a.id, default: []].map { try Self.encode($0) })
        o["workloads"] = .array(workloads)
        o["changes"] = .array(changes)
        let since = try Self.time(r, "since") ?? Date().addingTimeInterval(-7 * 86400)
        var activity: [String: Value] = ["since": .string(Timestamp.format(since))]
        if let store {
            let related = Set([a.id] + workloads.compactMap { $0["id"]?.stringValue })
            var decisionHistory: [Value] = []
            for id in related.sorted() {
                for h in try await store.decisionHistory(since: since, subject: id, limit: 200) {
                    decisionHistory.append(try Self.encode(h))
                }
            }
            activity["decisions"] = .array(decisionHistory)
            let acts = try await store.actions(states: nil, subjects: related, before: nil, limit: 100)
            activity["actions"] = .array(try acts.map { try Self.encode($0) })
        }
        // `history` stays the deployment history, as in the list; what meow saw and did is `activity`
        o["activity"] = .object(activity)
        return .json(.object(o))
    }

    /// The entity id of `/v1/<kind>s/{id}`: the whole id (`application/sim/payments`, with its slashes,
    /// percent-encoded or not), or the part after the kind.
    func entityID(_ r: APIRequest, kind: String) throws -> String {
        guard let raw = r.parameters["id"], !raw.isEmpty else { throw Problem.badRequest("missing id in the path") }
        return raw.hasPrefix("\(kind)/") ? raw : "\(kind)/\(raw)"
    }

    // MARK: Airflow

    func dags(_ r: APIRequest) async throws -> APIResponse {
        let read = readIndex
        let view = read.view
        let q = r.query("q")?.lowercased()
        let paused = try Self.bool(r, "paused")
        let index = read.decisions
        let all = view.snapshot.entities.compactMap { e -> DAG? in
            guard case .dag(let d) = e else { return nil }
            if let env = r.query("environment"), d.environment != env { return nil }
            if let paused, (d.paused ?? false) != paused { return nil }
            if let q, !d.id.lowercased().contains(q) { return nil }
            return d
        }
        let p = try page(all, id: \.id, r)
        return .json(
            try p.body(
                { d in
                    guard case .object(var o) = try Self.encode(Entity.dag(d)) else { return .null }
                    let mine = index.bySubject[d.id, default: []]
                    o["decisions"] = .array(try mine.prefix(20).map { try Self.encode($0) })
                    o["insights"] = Self.summary(mine)
                    return .object(o)
                }, revision: view.snapshot.revision))
    }

    func dag(_ r: APIRequest) async throws -> APIResponse {
        let id = try entityID(r, kind: "dag")
        let read = readIndex
        let view = read.view
        guard let d = read.byID[id], case .dag = d else {
            throw Problem.notFound("no DAG \(id) in the current state (GET /v1/dags lists them)")
        }
        guard case .object(var o) = try Self.encode(d) else { return .json(.null) }
        let runs = view.snapshot.entities.filter { if case .dagRun(let run) = $0 { return run.dag == id } else { return false } }
        o["runs"] = .array(try runs.map { try Self.encode($0) })
        let index = read.decisions
        o["decisions"] = .array(
            try (index.bySubject[id, default: []] + runs.flatMap { index.bySubject[$0.id, default: []] }).map {
                try Self.encode($0)
            })
        return .json(.object(o))
    }

    func runs(_ r: APIRequest) async throws -> APIResponse {
        let read = readIndex
        let view = read.view
        let states = r.query("state").map { Set($0.split(separator: ",").map(String.init)) }
        let index = read.decisions
        let all = view.snapshot.entities.compactMap { e -> DAGRun? in
            guard case .dagRun(let run) = e else { return nil }
            if let dag = r.query("dag"), run.dag != dag && run.dagId != dag { return nil }
            if let states, !states.contains(run.state ?? "") { return nil }
            if let env = r.query("environment"), index.environments[run.id] != env { return nil }
            return run
        }
        let p = try page(all, id: \.id, r)
        return .json(try p.body({ try Self.encode(Entity.dagRun($0)) }, revision: view.snapshot.revision))
    }

    func taskInstances(_ r: APIRequest) async throws -> APIResponse {
        let read = readIndex
        let view = read.view
        let states = r.query("state").map { Set($0.split(separator: ",").map(String.init)) }
        let all = view.snapshot.entities.compactMap { e -> TaskInstance? in
            guard case .taskInstance(let t) = e else { return nil }
            if let run = r.query("run"), t.dagRun != run { return nil }
            // the DAG's dag_id, or its entity id (dag/<instance>/<dag_id>)
            if let dag = r.query("dag"), t.dagId != dag && !dag.hasSuffix("/\(t.dagId ?? "")") { return nil }
            if let states, !states.contains(t.state ?? "") { return nil }
            return t
        }
        let p = try page(all, id: \.id, r)
        return .json(try p.body({ try Self.encode(Entity.taskInstance($0)) }, revision: view.snapshot.revision))
    }

    // MARK: Decisions

    static let decisionTypes = ["violation", "anomaly", "action_proposed", "rule_error"]

    func decisions(_ r: APIRequest) async throws -> APIResponse {
        let read = readIndex
        let view = read.view
        let types = try Self.oneOf(r, "type", Self.decisionTypes)
        let severities = try Self.oneOf(r, "severity", Severity.allCases.map(\.rawValue))
        let since = try Self.time(r, "since")
        let until = try Self.time(r, "until")
        let rules = r.query("rule").map { Set($0.split(separator: ",").map(String.init)) }
        let subject = r.query("subject")
        let env = r.query("environment")
        let index = read.decisions
        // the cursor is a decision's identity (the runtime's), as stable as the decision itself while the
        // state changes between pages
        var numbered: [(key: String, decision: Decision)] = []
        for (key, d) in zip(Runtime.identities(of: view.decisions), view.decisions) {
            if let types, !types.contains(d.type.rawValue) { continue }
            if let severities, !severities.contains(d.severity?.rawValue ?? "") { continue }
            if let rules, !rules.contains(d.rule) { continue }
            if let subject, d.subject != subject { continue }
            if let env, index.environment(of: d) != env { continue }
            let t = d.time ?? view.evaluatedAt ?? Date()
            if let since, t < since { continue }
            if let until, t > until { continue }
            numbered.append((key, d))
        }
        let p = try page(numbered, id: \.key, r)
        return .json(
            try p.body(
                { n in
                    guard case .object(var o) = try Self.encode(n.decision) else { return .null }
                    o["environment"] = index.environment(of: n.decision).map { .string($0) } ?? .null
                    return .object(o)
                }, revision: view.snapshot.revision))
    }
}

/// Decisions by subject, and each subject's environment, for one published view.
struct DecisionIndex {
    var bySubject: [String: [Decision]] = [:]
    var environments: [String: String] = [:]

    init(_ view: StateView) {
        for d in view.decisions { if let s = d.subject { bySubject[s, default: []].append(d) } }
        for e in view.snapshot.entities {
            if let env = e.environmentName { environments[e.id] = env }
        }
        // runs and task instances are in their DAG's environment
        for e in view.snapshot.entities {
            switch e {
            case .dagRun(let r): if let dag = r.dag, let env = environments[dag] { environments[r.id] = env }
            case .taskInstance(let t):
                if let run = t.dagRun, let env = environments[run] { environments[t.id] = env }
            default: break
            }
        }
    }

    func environment(of d: Decision) -> String? {
        if let s = d.subject, let env = environments[s] { return env }
        return d.evidence["environment"]?.stringValue
    }
}

extension Entity {
    var application: Application? {
        if case .application(let a) = self { return a }
        return nil
    }

    /// The environment the entity belongs to, for filters.
    var environmentName: String? {
        switch self {
        case .environment(let e): e.name
        case .cluster(let c): c.environment
        case .application(let a): a.environment
        case .workload(let w): w.environment
        case .dag(let d): d.environment
        case .dagRun, .taskInstance, .incident, .series, .event, .change: nil
        }
    }
}
