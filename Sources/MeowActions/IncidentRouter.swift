import Foundation
import Logging
import MeowModel
import MeowPlugins
import MeowStore

/// Turns decisions into incidents (docs/incidents.md). After each evaluation it:
///
/// 1. routes each problem (violation, anomaly, rule_error) by environment, team, rule, type and severity
///    (`incidents.routes`), and groups the routed ones by cause: one incident per rule and application
///    (or subject);
/// 2. opens an incident in the store for a new cause, with its context (`IncidentContext`), and updates it
///    when its severity rises;
/// 3. resolves the open incidents whose cause has been gone `resolve_after`;
/// 4. returns the deliveries as proposals for the action pipeline: `incident.open` / `incident.resolve`
///    on each output, keyed by incident, output, event and revision, so that the pipeline's modes, rate
///    limit, breaker and ledger apply, and so that a restart neither pages twice nor loses a resolve (the
///    proposals of open and recently resolved incidents are made again at every pass; the keys make them
///    the same actions).
public actor IncidentRouter {
    let settings: IncidentSettings
    let store: any MeowStore
    let logger: Logger

    public init(settings: IncidentSettings, store: any MeowStore, logger: Logger = Logger(label: "meow.incidents")) {
        self.settings = settings
        self.store = store
        self.logger = logger
    }

    /// One cause: the routed decisions of one rule on one application (or subject).
    struct Cause {
        var key: String
        var route: IncidentSettings.Route
        var outputs: [String]
        var decisions: [Decision]
        var severity: Severity
        var lead: Decision
    }

    /// How long a resolved incident's resolve is proposed again (a crash between resolving and proposing).
    static let resolveReplay: TimeInterval = 3600

    /// The deliveries to make now, as proposals for the pipeline.
    public func route(decisions: [Decision], snapshot: Snapshot, at now: Date) async throws -> [Decision] {
        guard settings.enabled else { return [] }
        let context = IncidentContext(snapshot: snapshot, decisions: decisions, settings: settings)
        var causes: [String: Cause] = [:]
        for d in decisions where d.type != .actionProposed {
            let subject = d.subject ?? "rule/\(d.rule)"
            let facts = context.facts(subject)
            let routes = settings.routes(
                type: d.type.rawValue, rule: d.rule, severity: d.severity, environment: facts.environment, team: facts.team)
            guard let first = routes.first else { continue }
            let group = settings.groupBy == .application ? (facts.application ?? subject) : subject
            let key = "meow:\(d.rule):\(group)"
            let severity = d.severity ?? .info
            if var c = causes[key] {
                c.decisions.append(d)
                for r in routes where !c.outputs.contains(where: { r.outputs.contains($0) }) { c.outputs += r.outputs }
                if severity > c.severity {
                    c.severity = severity
                    c.lead = d
                }
                causes[key] = c
            } else {
                var outputs: [String] = []
                for r in routes { for o in r.outputs where !outputs.contains(o) { outputs.append(o) } }
                causes[key] = Cause(key: key, route: first, outputs: outputs, decisions: [d], severity: severity, lead: d)
            }
        }

        let known = try await store.incidents(
            states: nil, resolvedSince: now.addingTimeInterval(-Self.resolveReplay), before: nil, limit: 10_000)
        var open: [String: IncidentRecord] = [:]
        for r in known where r.state == .open { open[r.key] = r }
        var proposals: [Decision] = []

        for key in causes.keys.sorted() {
            let cause = causes[key]!
            if let existing = open[key] {
                open[key] = nil
                let rises = (Severity(rawValue: existing.severity) ?? .info) < cause.severity
                let subjects = Set(cause.decisions.compactMap(\.subject))
                let updated = try await store.updateIncident(existing.id) { r in
                    r.lastSeenAt = now
                    if rises {
                        r.severity = cause.severity.rawValue
                        r.revision += 1
                        r.updatedAt = now
                    }
                }
                guard var record = updated else { continue }
                if rises {
                    var notice = try await context.notice(for: cause, number: record.id, store: store, now: now)
                    notice.event = "update"
                    notice.startedAt = Timestamp.format(record.openedAt)
                    notice.subjects = Array(subjects.union(notice.subjects)).sorted()
                    let value = notice.value
                    let title = notice.title
                    record =
                        try await store.updateIncident(record.id) {
                            $0.notice = value
                            $0.title = title
                        } ?? record
                }
                proposals += try await deliveries(record, event: "open", now: now)
            } else {
                let notice = try await context.notice(for: cause, number: 0, store: store, now: now)
                let (record, created) = try await store.openIncident(
                    IncidentRecord(
                        key: key, route: cause.route.name, outputs: cause.outputs, severity: cause.severity.rawValue,
                        rule: cause.lead.rule,
                        subject: cause.lead.subject ?? key, title: notice.title, openedAt: now, notice: notice.value))
                var stored = record
                if created {
                    // The number is the store's id, known only now.
                    var numbered = notice
                    numbered.number = record.id
                    let value = numbered.value
                    stored = try await store.updateIncident(record.id) { $0.notice = value } ?? record
                    logger.info("incident INC-\(record.id) opened: \(notice.title)")
                }
                proposals += try await deliveries(stored, event: "open", now: now)
            }
        }

        // Open incidents whose cause is gone: resolved once it has been gone resolve_after.
        for (_, r) in open.sorted(by: { $0.key < $1.key }) {
            guard now.timeIntervalSince(r.lastSeenAt) >= settings.resolveAfter else {
                proposals += try await deliveries(r, event: "open", now: now)
                continue
            }
            let resolved = try await store.updateIncident(r.id) { x in
                x.state = .resolved
                x.resolvedAt = now
                x.updatedAt = now
                if var n = try? ValueDecoder().decode(IncidentNotice.self, from: x.notice) {
                    n.event = "resolve"
                    n.resolvedAt = Timestamp.format(now)
                    x.notice = n.value
                }
            }
            if let resolved {
                logger.info("incident INC-\(r.id) resolved: the condition cleared")
                proposals += try await deliveries(resolved, event: "resolve", now: now)
            }
        }
        for r in known where r.state == .resolved { proposals += try await deliveries(r, event: "resolve", now: now) }
        return proposals
    }

    /// Delivery keys already delivered (or decided for good): no store lookup for them.
    var settled = Set<String>()

    /// Tries of one delivery whose earlier tries failed (the output was down past its retries, or its
    /// breaker or rate limit refused it): at most this many, the n-th no sooner than `retryWait(n)`
    /// after the last one finished.
    static let maxTries = 12

    static func retryWait(_ n: Int) -> TimeInterval { min(900, 30 * pow(2, Double(n - 1))) }

    /// The key of the delivery to propose now: the first try's, or a later try's when the earlier ones
    /// failed; nil while waiting before the next try (or after the last).
    func deliveryKey(_ base: String, now: Date) async throws -> String? {
        if settled.contains(base) { return base }
        var n = 0
        while true {
            let key = n == 0 ? base : "\(base)#try\(n + 1)"
            if settled.contains(key) { return key }
            guard let a = try await store.action(key: key) else { return key }
            switch a.state {
            case .failed, .refused:
                guard n + 1 < Self.maxTries else { return nil }
                let finished = a.finishedAt ?? a.updatedAt
                if now.timeIntervalSince(finished) < Self.retryWait(n + 1) { return nil }
                n += 1
            case .succeeded, .dryRun, .rejected, .expired, .unknown:
                settled.insert(key)
                return key
            default:
                return key
            }
        }
    }

    /// One proposal per output of an incident: the pipeline's action `incident.<event>` keyed by incident,
    /// event, output and revision (and the try, after failed ones).
    func deliveries(_ r: IncidentRecord, event: String, now: Date) async throws -> [Decision] {
        guard var notice = try? ValueDecoder().decode(IncidentNotice.self, from: r.notice) else { return [] }
        notice.number = r.id
        if event == "resolve" {
            notice.event = "resolve"
            notice.resolvedAt = notice.resolvedAt ?? r.resolvedAt.map(Timestamp.format)
        }
        var out: [Decision] = []
        for output in r.outputs {
            let base = "incident|INC-\(r.id)|\(event)|\(output)|r\(event == "resolve" ? 0 : r.revision)"
            guard let key = try await deliveryKey(base, now: now) else { continue }
            var evidence: [String: Value] = [
                "action": .string("incident.\(event)"), "params": .object(["incident": notice.value]),
                "mode": .string(settings.mode.rawValue), "provider": .string(output), "idempotency_key": .string(key),
                "reason": .string(
                    "\(notice.name) \(event == "resolve" ? "resolved: the condition cleared" : notice.event == "update" ? "updated: \(notice.summary)" : "opened: \(notice.summary)") (route \(r.route))"
                ),
            ]
            if let e = notice.environment { evidence["environment"] = .string(e) }
            out.append(
                Decision(
                    type: .actionProposed, rule: r.rule, subject: r.subject, severity: Severity(rawValue: r.severity),
                    message: "\(notice.name) \(event) → \(output)", evidence: .object(evidence), file: nil, line: nil))
        }
        return out
    }
}
