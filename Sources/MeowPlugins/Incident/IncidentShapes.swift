import Foundation
import MeowModel

/// An incident shaped for each target, within each API's documented limits (docs/incidents.md).
public enum IncidentShapes {
    // MARK: PagerDuty Events API v2 (POST /v2/enqueue)

    /// PagerDuty's severity: critical, error, warning or info.
    public static func pagerDutySeverity(_ s: String) -> String {
        switch s {
        case "critical": "critical"
        case "high": "error"
        case "warning", "medium": "warning"
        default: "info"
        }
    }

    /// A dedup key within PagerDuty's 255 characters (Opsgenie's alias allows 512).
    public static func dedupKey(_ key: String, max: Int = 255) -> String {
        guard key.utf8.count > max else { return key }
        return String(key.prefix(max - 17)) + "#" + FNV1a.hex(key)
    }

    /// A trigger (open, update) or a resolve event.
    public static func pagerDuty(_ n: IncidentNotice, routingKey: String) -> Value {
        var event: [String: Value] = [
            "routing_key": .string(routingKey), "dedup_key": .string(dedupKey(n.key)),
            "event_action": .string(n.event == "resolve" ? "resolve" : "trigger"),
        ]
        guard n.event != "resolve" else { return .object(event) }
        var details: [String: Value] = [
            "incident": .string(n.name), "what": .string(n.summary), "subject": .string(n.subject),
            "rule": .string(n.rule), "type": .string(n.type), "meow_severity": .string(n.severity), "evidence": n.evidence,
            "started_at": .string(n.startedAt), "route": .string(n.route),
        ]
        if let c = n.suspectedCause { details["suspected_cause"] = .string(c) }
        if let r = n.runbook { details["runbook"] = .string(r) }
        if let t = n.team { details["team"] = .string(t) }
        if !n.changes.isEmpty { details["recent_changes"] = .array(n.changes.map { .string("\($0.at) \($0.what)") }) }
        if !n.actions.isEmpty { details["actions"] = .array(n.actions.map { .string("\($0.at) \($0.what)") }) }
        if !n.history.isEmpty { details["history"] = .array(n.history.map { .string("\($0.at) \($0.what)") }) }
        if !n.related.isEmpty {
            details["related"] = .array(
                n.related.map { .string("[\($0.severity ?? "-")] \($0.rule) on \($0.subject): \($0.message)") })
        }
        if n.subjects.count > 1 { details["subjects"] = .array(n.subjects.map(Value.string)) }
        var payload: [String: Value] = [
            "summary": .string("[\(n.name)] \(n.title)".capped(1024)), "source": .string(n.subject),
            "severity": .string(pagerDutySeverity(n.severity)), "timestamp": .string(n.startedAt), "class": .string(n.rule),
            "component": .string(n.application ?? n.subject), "custom_details": .object(details),
        ]
        if let e = n.environment { payload["group"] = .string(e) }
        event["payload"] = .object(payload)
        event["client"] = .string("meow")
        if !n.links.isEmpty {
            event["links"] = .array(n.links.map { .object(["href": .string($0.href), "text": .string($0.text)]) })
        }
        return .object(event)
    }

    // MARK: Alertmanager (POST /api/v2/alerts)

    /// One postable alert. The labels identify it (the same labels update it; `endsAt` in the past resolves
    /// it); a resolve re-sends the annotations, which Alertmanager would otherwise replace with none.
    public static func alertmanager(_ n: IncidentNotice, extraLabels: [String: String], now: Date) -> Value {
        var labels = extraLabels
        labels["alertname"] = labels["alertname"] ?? "MeowIncident"
        labels["meow_incident"] = n.key
        labels["severity"] = n.severity
        labels["rule"] = n.rule
        if let e = n.environment { labels["environment"] = e }
        if let t = n.team { labels["team"] = t }
        if let a = n.application { labels["application"] = a }
        var annotations: [String: Value] = [
            "summary": .string("[\(n.name)] \(n.title)"), "description": .string(n.text), "incident": .string(n.name),
        ]
        if let r = n.runbook { annotations["runbook_url"] = .string(r) }
        var alert: [String: Value] = [
            "labels": .object(labels.mapValues(Value.string)), "annotations": .object(annotations),
            "startsAt": .string(n.startedAt),
        ]
        if let href = n.links.first?.href, URL(string: href)?.scheme != nil { alert["generatorURL"] = .string(href) }
        if n.event == "resolve" { alert["endsAt"] = .string(n.resolvedAt ?? Timestamp.format(now)) }
        return .array([.object(alert)])
    }

    // MARK: Slack incoming webhook (Block Kit)

    static func emoji(_ n: IncidentNotice) -> String {
        if n.event == "resolve" { return "✅" }
        switch n.severity {
        case "critical": return "🔴"
        case "high": return "🟠"
        case "warning", "medium": return "🟡"
        default: return "🔵"
        }
    }

    /// A message of at most 50 blocks: header (150), sections (3000, 10 fields of 2000), buttons (25, 75).
    public static func slack(_ n: IncidentNotice) -> Value {
        let resolved = n.event == "resolve"
        let verb = resolved ? "RESOLVED " : n.event == "update" ? "UPDATED " : ""
        let head = "\(emoji(n)) \(verb)\(n.name) \(n.title)".capped(150)
        func section(_ text: String) -> Value {
            .object(["type": "section", "text": .object(["type": "mrkdwn", "text": .string(text.capped(3000))])])
        }
        func lines(_ items: [IncidentNotice.HistoryItem]) -> String {
            items.prefix(8).map { "• `\($0.at)` \($0.what)" }.joined(separator: "\n")
        }
        var fields: [Value] = [
            "*Severity*\n\(n.severity)", "*Since*\n\(n.startedAt)", "*Subject*\n\(n.subject)", "*Rule*\n\(n.rule)",
        ].map { .object(["type": "mrkdwn", "text": .string($0.capped(2000))]) }
        if let e = n.environment { fields.append(.object(["type": "mrkdwn", "text": .string("*Environment*\n\(e)")])) }
        if let t = n.team { fields.append(.object(["type": "mrkdwn", "text": .string("*Team*\n\(t)")])) }
        if let r = n.resolvedAt { fields.append(.object(["type": "mrkdwn", "text": .string("*Resolved*\n\(r)")])) }
        var blocks: [Value] = [
            .object(["type": "header", "text": .object(["type": "plain_text", "text": .string(head), "emoji": true])]),
            .object([
                "type": "section", "text": .object(["type": "mrkdwn", "text": .string(n.summary.capped(3000))]),
                "fields": .array(Array(fields.prefix(10))),
            ]),
        ]
        if !resolved {
            if let c = n.suspectedCause { blocks.append(section("*Suspected cause*\n\(c)")) }
            if case .object(let o) = n.evidence, !o.isEmpty {
                blocks.append(
                    section(
                        "*Evidence*\n"
                            + o.keys.sorted().prefix(12).map { "• \($0): `\(IncidentNotice.short(o[$0]!))`" }.joined(
                                separator: "\n")))
            }
            if !n.changes.isEmpty { blocks.append(section("*Recent changes*\n\(lines(n.changes))")) }
            if !n.actions.isEmpty { blocks.append(section("*Actions*\n\(lines(n.actions))")) }
            if !n.related.isEmpty {
                blocks.append(
                    section(
                        "*Related now*\n"
                            + n.related.prefix(8).map { "• [\($0.severity ?? "-")] \($0.rule) on \($0.subject)" }.joined(
                                separator: "\n")))
            }
            if let r = n.runbook { blocks.append(section("*Runbook*\n<\(r)>")) }
        }
        blocks.append(.object(["type": "divider"]))
        let buttons: [Value] = n.links.prefix(5).map {
            .object([
                "type": "button", "text": .object(["type": "plain_text", "text": .string($0.text.capped(75))]),
                "url": .string($0.href.capped(3000)),
            ])
        }
        if !buttons.isEmpty { blocks.append(.object(["type": "actions", "elements": .array(buttons)])) }
        blocks.append(
            .object([
                "type": "context",
                "elements": .array([
                    .object(["type": "mrkdwn", "text": .string("meow · dedup `\(n.key)` · route \(n.route)".capped(3000))])
                ]),
            ]))
        return .object(["text": .string("[\(n.severity)] \(verb)\(n.name) \(n.title)"), "blocks": .array(blocks)])
    }

    // MARK: Opsgenie Alert API

    /// P1 (critical) .. P5 (info).
    public static func opsgeniePriority(_ s: String) -> String {
        switch s {
        case "critical": "P1"
        case "high": "P2"
        case "warning", "medium": "P3"
        case "low": "P4"
        default: "P5"
        }
    }

    /// `POST /v2/alerts`: message 130, alias 512, description 15000, tags 20 × 50, details 8000 in all.
    public static func opsgenie(_ n: IncidentNotice, responders: [String]) -> Value {
        var tags = ["meow", n.severity, n.rule]
        if let e = n.environment { tags.append(e) }
        if let t = n.team { tags.append("team:\(t)") }
        var details: [(String, String)] = [
            ("incident", n.name), ("subject", n.subject), ("rule", n.rule), ("started_at", n.startedAt),
        ]
        if let e = n.environment { details.append(("environment", e)) }
        if let t = n.team { details.append(("team", t)) }
        if let r = n.runbook { details.append(("runbook", r)) }
        if let c = n.suspectedCause { details.append(("suspected_cause", c)) }
        for l in n.links { details.append((l.text, l.href)) }
        var kept: [String: Value] = [:]
        var total = 0
        for (k, v) in details {
            let k = k.capped(100)
            let v = v.capped(1000)
            guard total + k.count + v.count <= 8000 else { break }
            total += k.count + v.count
            kept[k] = .string(v)
        }
        var body: [String: Value] = [
            "message": .string("[\(n.name)] \(n.title)".capped(130)), "alias": .string(dedupKey(n.key, max: 512)),
            "description": .string(n.text.capped(15000)), "tags": .array(tags.prefix(20).map { .string($0.capped(50)) }),
            "details": .object(kept), "entity": .string(n.subject.capped(512)), "source": "meow",
            "priority": .string(opsgeniePriority(n.severity)),
        ]
        if !responders.isEmpty {
            body["responders"] = .array(responders.prefix(50).map { .object(["type": "team", "name": .string($0)]) })
        }
        return .object(body)
    }

    // MARK: Generic webhook

    /// `incident.opened`, `incident.updated` or `incident.resolved`, with the whole incident and its text.
    public static func webhook(_ n: IncidentNotice, now: Date) -> Value {
        let type =
            switch n.event {
            case "resolve": "incident.resolved"
            case "update": "incident.updated"
            default: "incident.opened"
            }
        return .object([
            "type": .string(type), "timestamp": .string(Timestamp.format(now)), "data": n.value, "text": .string(n.text),
        ])
    }
}
