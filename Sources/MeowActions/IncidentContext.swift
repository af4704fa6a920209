import Foundation
import MeowModel
import MeowPlugins
import MeowStore

/// Builds what on-call needs at 3 a.m. (docs/incidents.md#what-on-call-receives): the decision and its
/// evidence, the entity and its recent history, recent changes (Git revisions, deploys), related
/// decisions now, actions proposed or taken, links to Argo CD and Airflow, the runbook, and a suspected
/// cause when a change came shortly before the problem.
struct IncidentContext {
    let byID: [String: Entity]
    let decisions: [Decision]
    let settings: IncidentSettings
    /// Changes per application id, newest first.
    let changes: [String: [Change]]

    init(snapshot: Snapshot, decisions: [Decision], settings: IncidentSettings) {
        byID = Dictionary(snapshot.entities.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        self.decisions = decisions
        self.settings = settings
        var changes: [String: [Change]] = [:]
        for case .change(let c) in snapshot.entities {
            if let app = c.application { changes[app, default: []].append(c) }
        }
        self.changes = changes.mapValues { $0.sorted { ($0.time ?? .distantPast) > ($1.time ?? .distantPast) } }
    }

    struct Facts {
        var environment: String?
        var team: String?
        var application: String?
        var cluster: String?
    }

    /// Environment, team (the `team` label, else the owner), application and cluster of a subject, from
    /// it or from what it belongs to (a run's DAG, a workload's application).
    func facts(_ subject: String) -> Facts {
        guard let e = byID[subject] else { return Facts() }
        let doc = e.document()
        var f = Facts()
        f.environment = doc["environment"]?.stringValue
        f.cluster = doc["cluster"]?.stringValue
        f.application = e.kind == .application ? e.id : doc["application"]?.stringValue
        f.team = doc["labels"]?["team"]?.stringValue ?? doc["owner"]?.stringValue
        for parent in [doc["dag"]?.stringValue, doc["dag_run"]?.stringValue, f.application].compactMap({ $0 })
        where parent != subject {
            let p = facts(parent)
            f.environment = f.environment ?? p.environment
            f.team = f.team ?? p.team
            f.cluster = f.cluster ?? p.cluster
        }
        return f
    }

    /// The incident for a cause (its number is set by the caller once the store has given one).
    func notice(for cause: IncidentRouter.Cause, number: Int64, store: any MeowStore, now: Date) async throws -> IncidentNotice {
        let d = cause.lead
        let subject = d.subject ?? "rule/\(d.rule)"
        let f = facts(subject)
        let name =
            byID[subject]?.document()["name"]?.stringValue ?? subject.split(separator: "/").last.map(String.init) ?? subject
        let title = "\(d.rule) on \(name)\(f.environment.map { " (\($0))" } ?? "")".capped(200)
        var n = IncidentNotice(
            number: number, key: cause.key, event: "open", title: title, severity: cause.severity.rawValue, type: d.type.rawValue,
            rule: d.rule, subject: subject, summary: d.message, startedAt: Timestamp.format(d.time ?? now),
            route: cause.route.name)
        n.application = f.application
        n.environment = f.environment
        n.team = f.team
        n.cluster = f.cluster
        n.evidence = Self.trimmed(d.evidence)
        n.subjects = Array(Set(cause.decisions.compactMap(\.subject))).sorted()
        n.runbook =
            d.evidence["runbook"]?.stringValue
            ?? settings.runbookURL.map { $0.hasSuffix("/") ? "\($0)\(d.rule)" : "\($0)/\(d.rule)" }

        // History: decisions that came and went on these subjects in the last week, and actions.
        let since = now.addingTimeInterval(-7 * 86400)
        for s in n.subjects.prefix(5) {
            // Not the decision itself (it is the incident), unless it came and went before.
            for h in try await store.decisionHistory(since: since, subject: s, limit: 20).suffix(10)
            where !(h.decision.rule == d.rule && now.timeIntervalSince(h.at) < 120) {
                n.history.append(
                    .init(
                        at: Timestamp.format(h.at),
                        what:
                            "\(h.change == "new" ? "appeared" : "resolved"): [\(h.decision.severity?.rawValue ?? "-")] \(h.decision.rule) on \(s): \(h.decision.message)"
                    ))
            }
        }
        n.history.sort { $0.at > $1.at }
        n.history = Array(n.history.prefix(10))
        let actionSubjects = Set(n.subjects + [f.application].compactMap { $0 })
        for a in try await store.actions(states: nil, subjects: actionSubjects, before: nil, limit: 10)
        where !a.action.hasPrefix("incident.") {
            n.actions.append(
                .init(
                    at: Timestamp.format(a.updatedAt),
                    what: "#\(a.id) \(a.action) on \(a.subject): \(a.state.rawValue)\(a.stateReason.map { " (\($0))" } ?? "")"))
        }
        for p in decisions where p.type == .actionProposed && p.subject.map(actionSubjects.contains) == true {
            n.actions.append(.init(at: Timestamp.format(now), what: "proposed by \(p.rule): \(p.message)"))
        }

        // Recent changes: Git revisions of the application, and its deployments.
        if let app = f.application {
            for c in (changes[app] ?? []).prefix(5) {
                let rev = c.revision.map { String($0.prefix(7)) } ?? "?"
                n.changes.append(
                    .init(
                        at: c.time.map(Timestamp.format) ?? "?",
                        what: "commit \(rev)\(c.author.map { " by \($0)" } ?? ""): \(c.message ?? "")"
                            + (c.filesChanged.map { " (\($0) files)" } ?? "")))
            }
            if case .application(let a)? = byID[app] {
                for h in (a.history ?? []).suffix(3).reversed() {
                    n.changes.append(
                        .init(
                            at: h.deployedAt.map(Timestamp.format) ?? "?",
                            what:
                                "deployed \(h.revision.map { String($0.prefix(7)) } ?? "?")\(h.outcome.map { " (\($0))" } ?? "")")
                    )
                }
            }
            n.changes.sort { $0.at > $1.at }
        }
        n.suspectedCause = Self.suspectedCause(d, changes: f.application.flatMap { changes[$0] } ?? [], now: now)

        // Related decisions now: the same application, else the same environment and team.
        for r in decisions where r.type != .actionProposed && r.rule != d.rule {
            guard let s = r.subject else { continue }
            let rf = facts(s)
            let same =
                (f.application != nil && rf.application == f.application)
                || (f.application == nil && rf.environment == f.environment && rf.team == f.team && f.team != nil)
            if same {
                n.related.append(.init(rule: r.rule, subject: s, severity: r.severity?.rawValue, message: r.message))
            }
        }
        n.related.sort { (Severity(rawValue: $0.severity ?? "") ?? .info) > (Severity(rawValue: $1.severity ?? "") ?? .info) }
        n.related = Array(n.related.prefix(10))
        n.links = links(subject: subject, application: f.application)
        return n
    }

    /// The rule's own hint (`cause`, `root_cause`, `hint` in the evidence), else a change of the
    /// application within two hours before the problem.
    static func suspectedCause(_ d: Decision, changes: [Change], now: Date) -> String? {
        for k in ["cause", "root_cause", "hint", "suspected_cause"] {
            if let s = d.evidence[k]?.stringValue { return s }
        }
        let start = d.time ?? now
        guard let c = changes.first(where: { ($0.time ?? .distantPast) <= start && start.timeIntervalSince($0.time!) <= 7200 })
        else { return nil }
        let minutes = Int(start.timeIntervalSince(c.time!) / 60)
        return
            "commit \(c.revision.map { String($0.prefix(7)) } ?? "?")\(c.author.map { " by \($0)" } ?? "") to \(c.application ?? "the application") \(minutes) min before: \(c.message ?? "")"
    }

    /// Argo CD's application page, Airflow's DAG or run page.
    func links(subject: String, application: String?) -> [IncidentNotice.Link] {
        var out: [IncidentNotice.Link] = []
        func base(_ s: String) -> String { s.hasSuffix("/") ? String(s.dropLast()) : s }
        if let argo = settings.argocdURL, let app = application, let a = byID[app] {
            let name = a.document()["name"]?.stringValue ?? String(app.split(separator: "/").last ?? "")
            out.append(.init(text: "Argo CD: \(name)", href: "\(base(argo))/applications/\(ProviderHTTPClient.segment(name))"))
        }
        if let airflow = settings.airflowURL, let e = byID[subject] {
            let doc = e.document()
            let dagEntity = e.kind == .dag ? e : (doc["dag"]?.stringValue).flatMap { byID[$0] }
            if let dagID = doc["dag_id"]?.stringValue ?? dagEntity?.document()["dag_id"]?.stringValue {
                let dag = ProviderHTTPClient.segment(dagID)
                if let run = doc["run_id"]?.stringValue {
                    let href =
                        settings.airflowVersion == 2
                        ? "\(base(airflow))/dags/\(dag)/grid?dag_run_id=\(run.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? run)"
                        : "\(base(airflow))/dags/\(dag)/runs/\(ProviderHTTPClient.segment(run))"
                    out.append(.init(text: "Airflow run: \(dagID) \(run)", href: href))
                } else {
                    out.append(.init(text: "Airflow DAG: \(dagID)", href: "\(base(airflow))/dags/\(dag)"))
                }
            }
        }
        return out
    }

    /// Evidence without long series (at most 20 values per array, 30 keys) and with numbers of at most six
    /// significant digits (0.48309750000000007 is 0.483098).
    static func trimmed(_ v: Value) -> Value {
        switch v {
        case .double(let d) where d.isFinite: return .double(Double(String(format: "%.6g", d)) ?? d)
        case .array(let a): return .array(a.suffix(20).map(trimmed))
        case .object(let o):
            return .object(Dictionary(uniqueKeysWithValues: o.keys.sorted().prefix(30).map { ($0, trimmed(o[$0]!)) }))
        default: return v
        }
    }
}
