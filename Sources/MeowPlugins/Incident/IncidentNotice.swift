import Foundation
import MeowModel

/// One incident as meow sends it: what broke, since when, the evidence, the suspected cause, recent
/// changes, the runbook, related decisions and the actions proposed or taken (docs/incidents.md). The
/// incident router builds it; each output shapes it for its target (`IncidentShapes`). It travels as the
/// `incident` parameter of the `open` and `resolve` actions, so the ledger keeps exactly what on-call got.
public struct IncidentNotice: Codable, Sendable, Equatable {
    public struct Link: Codable, Sendable, Equatable {
        public var text: String
        public var href: String

        public init(text: String, href: String) {
            self.text = text
            self.href = href
        }
    }

    /// Something that happened to the subject before (a decision that came and went, an action).
    public struct HistoryItem: Codable, Sendable, Equatable {
        public var at: String
        public var what: String

        public init(at: String, what: String) {
            self.at = at
            self.what = what
        }
    }

    /// Another current decision in the same application or environment, within the window.
    public struct Related: Codable, Sendable, Equatable {
        public var rule: String
        public var subject: String
        public var severity: String?
        public var message: String

        public init(rule: String, subject: String, severity: String?, message: String) {
            self.rule = rule
            self.subject = subject
            self.severity = severity
            self.message = message
        }
    }

    /// meow's incident number (`INC-<number>`), stable for the incident's life.
    public var number: Int64
    /// The dedup key: PagerDuty's `dedup_key`, Opsgenie's `alias`, the `meow_incident` label. One per cause.
    public var key: String
    /// `open`, `update` (the severity or the cause changed) or `resolve`.
    public var event: String
    public var title: String
    /// meow's severity (info, low, medium, warning, high, critical).
    public var severity: String
    /// The decision's type (violation, anomaly, rule_error).
    public var type: String
    public var rule: String
    public var subject: String
    public var application: String?
    public var environment: String?
    public var team: String?
    public var cluster: String?
    /// The decision's message.
    public var summary: String
    public var evidence: Value
    /// Why the router thinks this is the cause (the rule's `cause` or `hint` evidence), when it says.
    public var suspectedCause: String?
    public var runbook: String?
    /// When the condition was first seen (RFC 3339).
    public var startedAt: String
    public var resolvedAt: String?
    /// The route that sent it, and the subjects grouped into this incident.
    public var route: String
    public var subjects: [String]
    public var history: [HistoryItem]
    /// Recent changes: Git revisions, deploys, config changes of the application.
    public var changes: [HistoryItem]
    public var related: [Related]
    /// Actions meow proposed or took on these subjects.
    public var actions: [HistoryItem]
    public var links: [Link]

    public init(
        number: Int64, key: String, event: String, title: String, severity: String, type: String, rule: String, subject: String,
        summary: String, startedAt: String, route: String
    ) {
        self.number = number
        self.key = key
        self.event = event
        self.title = title
        self.severity = severity
        self.type = type
        self.rule = rule
        self.subject = subject
        self.summary = summary
        self.evidence = .object([:])
        self.startedAt = startedAt
        self.route = route
        self.subjects = [subject]
        self.history = []
        self.changes = []
        self.related = []
        self.actions = []
        self.links = []
    }

    enum CodingKeys: String, CodingKey {
        case number, key, event, title, severity, type, rule, subject, application, environment, team, cluster, summary, evidence
        case suspectedCause = "suspected_cause"
        case runbook
        case startedAt = "started_at"
        case resolvedAt = "resolved_at"
        case route, subjects, history, changes, related, actions, links
    }

    /// `INC-12`.
    public var name: String { "INC-\(number)" }

    public var value: Value { (try? ValueEncoder().encode(self)) ?? .null }

    /// Reads the `incident` parameter of an action.
    public static func from(_ params: [String: Value]) throws -> IncidentNotice {
        guard let v = params["incident"] else { throw ProviderError(.invalid, "the incident parameter is missing") }
        do {
            return try ValueDecoder().decode(IncidentNotice.self, from: v)
        } catch {
            throw ProviderError(.invalid, "the incident parameter is not an incident: \(error)")
        }
    }

    /// The context as plain text (Alertmanager's description, Opsgenie's description, the webhook's
    /// `text`): what an engineer reads first at 3 a.m.
    public var text: String {
        var lines: [String] = []
        lines.append("\(name) [\(severity)] \(title)")
        lines.append("What: \(summary)")
        lines.append("Where: \(subject)\(environment.map { " (\($0))" } ?? "")\(team.map { ", team \($0)" } ?? "")")
        lines.append("Since: \(startedAt)\(resolvedAt.map { ", resolved \($0)" } ?? "")")
        if let suspectedCause { lines.append("Suspected cause: \(suspectedCause)") }
        if let runbook { lines.append("Runbook: \(runbook)") }
        if case .object(let o) = evidence, !o.isEmpty {
            lines.append("Evidence: " + o.keys.sorted().map { "\($0)=\(Self.short(o[$0]!))" }.joined(separator: ", "))
        }
        func section(_ title: String, _ items: [HistoryItem]) {
            guard !items.isEmpty else { return }
            lines.append("\(title):")
            lines += items.map { "  \($0.at) \($0.what)" }
        }
        section("Recent changes", changes)
        section("Actions", actions)
        section("History", history)
        if !related.isEmpty {
            lines.append("Related now:")
            lines += related.map { "  [\($0.severity ?? "-")] \($0.rule) on \($0.subject): \($0.message)" }
        }
        if subjects.count > 1 { lines.append("Grouped subjects: \(subjects.joined(separator: ", "))") }
        lines += links.map { "\($0.text): \($0.href)" }
        return lines.joined(separator: "\n")
    }

    /// A value in one short line (evidence values can be long series).
    static func short(_ v: Value) -> String {
        switch v {
        case .string(let s): return s.count > 80 ? String(s.prefix(77)) + "..." : s
        case .array(let a): return a.count > 6 ? "[\(a.count) values]" : v.jsonString()
        case .object(let o): return o.count > 6 ? "{\(o.count) fields}" : v.jsonString()
        default: return v.jsonString()
        }
    }
}
