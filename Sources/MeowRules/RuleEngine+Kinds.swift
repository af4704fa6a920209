import Foundation
import MeowAnalytics
import MeowModel

extension RuleEngine {
    /// Entity documents as rules see them: each entity's fields plus `series`, a table of the series whose
    /// subject it is, by metric (`w.series.cpu.values`).
    static func documents(of snapshot: Snapshot) -> [Value] {
        var bySubject: [String: [String: Value]] = [:]
        for case .series(let s) in snapshot.entities {
            guard let subject = s.subject, let metric = s.metric else { continue }
            bySubject[subject, default: [:]][metric] = s.document
        }
        return snapshot.entities.map { entity in
            guard entity.kind != .series, case .object(var fields) = entity.document() else { return entity.document() }
            fields["series"] = .object(bySubject[entity.id] ?? [:])
            return .object(fields)
        }
    }

    /// Values and times of what an anomaly rule's `series` function returned: a series (`w.series.cpu`),
    /// or a plain list of numbers.
    static func seriesData(_ v: Value) -> Result<(values: [Double], times: [Double]?, metric: String?), RuleIssue> {
        switch v {
        case .array(let items):
            let values = items.compactMap(\.doubleValue)
            guard values.count == items.count else {
                return .failure(RuleIssue("series returned a list with a non-number in it"))
            }
            return .success((values, nil, nil))
        case .object(let o):
            if o.isEmpty { return .success(([], nil, nil)) }
            let metric = o["metric"]?.stringValue
            if let items = o["values"]?.arrayValue {
                let values = items.compactMap(\.doubleValue)
                var times: [Double]?
                if let t = o["times"]?.arrayValue {
                    times = t.compactMap(\.doubleValue)
                } else if let start = o["start"]?.doubleValue, let step = o["step_seconds"]?.doubleValue {
                    times = values.indices.map { start + Double($0) * step }
                }
                return .success((values, times?.count == values.count ? times : nil, metric))
            }
            if let samples = o["samples"]?.arrayValue {
                let values = samples.compactMap { $0["v"]?.doubleValue }
                let times = samples.compactMap { $0["t"]?.doubleValue }
                return .success((values, times.count == values.count ? times : nil, metric))
            }
            return .failure(RuleIssue("series returned a table without 'values' (return e.g. w.series.cpu)"))
        default:
            return .failure(
                RuleIssue("series must return a series (e.g. w.series.cpu) or a list of numbers, got a \(v.typeName)"))
        }
    }

    /// Runs an anomaly rule's detector over the series: an anomaly when the last `sustained` points are all
    /// anomalous.
    static func anomaly(_ rule: Rule, series: Value, subject: String) -> Result<Decision?, RuleIssue> {
        guard let spec = rule.anomaly else { return .success(nil) }
        let data: (values: [Double], times: [Double]?, metric: String?)
        switch seriesData(series) {
        case .success(let d): data = d
        case .failure(let e): return .failure(e)
        }
        guard data.values.count >= spec.sustained else { return .success(nil) }
        let verdicts = spec.detector.evaluate(data.values, times: data.times, last: spec.sustained)
        let tail = verdicts.suffix(spec.sustained)
        guard tail.count == spec.sustained, tail.allSatisfy(\.anomalous), let last = tail.last else { return .success(nil) }
        let what = data.metric ?? "value"
        var message = "\(what) \(fmt(last.value))"
        var evidence: [String: Value] = [
            "value": .double(last.value), "detector": .string(spec.detector.name), "score": .double(last.score),
            "window": .int(Int64(data.values.count)), "sustained": .int(Int64(spec.sustained)),
        ]
        if let e = last.expected {
            message += " outside the expected \(fmt(e.lowerBound))…\(fmt(e.upperBound))"
            evidence["expected"] = [
                "low": .double(e.lowerBound.isFinite ? e.lowerBound : -Double.greatestFiniteMagnitude),
                "high": .double(e.upperBound.isFinite ? e.upperBound : Double.greatestFiniteMagnitude),
            ]
        }
        switch spec.detector {
        case .robustZ, .ewma: message += " (z = \(fmt(last.score)))"
        case .ensemble: message += " (score \(fmt(last.score)))"
        case .threshold: break
        }
        if spec.sustained > 1 { message += " for \(spec.sustained) points" }
        if let metric = data.metric { evidence["metric"] = .string(metric) }
        if let t = data.times?.last { evidence["at"] = .string(Timestamp.format(Date(timeIntervalSince1970: t))) }
        return .success(
            Decision(
                type: .anomaly, rule: rule.id, subject: subject, severity: rule.severity, message: message,
                evidence: .object(evidence), file: rule.file, line: rule.line))
    }

    /// A proposed action (dry-run: nothing is executed here; the action pipeline does that).
    static func proposal(_ rule: Rule, reason: String?, params: Value?, subject: String) -> Decision {
        let spec = rule.remediation!
        var evidence: [String: Value] = ["action": .string(spec.action), "mode": .string(spec.mode.rawValue)]
        if let params, params != .null { evidence["params"] = params }
        if let reason { evidence["reason"] = .string(reason) }
        if let c = spec.cooldownSeconds { evidence["cooldown_seconds"] = .double(c) }
        if let p = spec.perHour { evidence["per_hour"] = .int(Int64(p)) }
        var message = "propose \(spec.action)"
        if let d = rule.description { message = "\(d): \(message)" }
        if let reason { message += " (\(reason))" }
        return Decision(
            type: .actionProposed, rule: rule.id, subject: subject, severity: rule.severity, message: message,
            evidence: .object(evidence), file: rule.file, line: rule.line)
    }

    static func fmt(_ x: Double) -> String {
        guard x.isFinite else { return x > 0 ? "∞" : "-∞" }
        if x == x.rounded() && abs(x) < 1e9 { return String(Int64(x)) }
        return String(format: "%.3g", x)
    }
}
