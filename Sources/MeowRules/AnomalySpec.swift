import MeowAnalytics
import MeowModel

/// What an `anomaly { ... }` rule adds: the detector and how long it must fire.
///
/// ```lua
/// anomaly {
///   id = "cpu-spike", severity = "warning", match = { kind = "workload" },
///   series = function(w) return w.series.cpu end,
///   detector = detect.robust_z { window = 30, threshold = 4, direction = "up" },
///   sustained = 2,   -- the last 2 points must both be anomalous (like Prometheus `for:`)
/// }
/// ```
public struct AnomalySpec: Sendable, Hashable {
    public var detector: SeriesDetector
    public var sustained: Int

    static func parse(_ spec: [String: Value]) -> Result<AnomalySpec, RuleIssue> {
        guard let d = spec["detector"]?.objectValue, let name = d["detector"]?.stringValue else {
            return .failure(
                RuleIssue("missing required field 'detector' (e.g. detector = detect.robust_z { window = 30, threshold = 3.5 })"))
        }
        func number(_ key: String, _ def: Double, _ range: ClosedRange<Double>) -> Result<Double, RuleIssue> {
            guard let v = d[key] else { return .success(def) }
            guard let n = v.doubleValue, range.contains(n) else {
                return .failure(RuleIssue("detect.\(name): '\(key)' must be a number in \(range.lowerBound)…\(range.upperBound)"))
            }
            return .success(n)
        }
        func direction() -> Result<SeriesDetector.Direction, RuleIssue> {
            guard let v = d["direction"] else { return .success(.both) }
            guard let s = v.stringValue, let dir = SeriesDetector.Direction(rawValue: s) else {
                return .failure(RuleIssue("detect.\(name): 'direction' must be \"up\", \"down\" or \"both\""))
            }
            return .success(dir)
        }
        let known: [String: Set<String>] = [
            "robust_z": ["detector", "window", "threshold", "direction", "min_change"],
            "ewma": ["detector", "alpha", "threshold", "direction"],
            "threshold": ["detector", "above", "below"],
            "default": ["detector", "score"],
        ]
        guard let allowed = known[name] else {
            return .failure(
                RuleIssue("unknown detector '\(name)' (detect.robust_z, detect.ewma, detect.threshold, detect.default)"))
        }
        if let k = d.keys.sorted().first(where: { !allowed.contains($0) }) {
            return .failure(
                RuleIssue(
                    "detect.\(name): unknown option '\(k)' (known: \(allowed.subtracting(["detector"]).sorted().joined(separator: ", ")))"
                ))
        }
        let detector: SeriesDetector
        do {
            switch name {
            case "robust_z":
                detector = .robustZ(
                    window: Int(try number("window", 30, 5...10_000).get()),
                    threshold: try number("threshold", 3.5, 0.5...100).get(), direction: try direction().get(),
                    minChange: try number("min_change", 0, 0...100).get())
            case "ewma":
                detector = .ewma(
                    alpha: try number("alpha", 0.3, 0.001...1).get(),
                    threshold: try number("threshold", 3.5, 0.5...100).get(), direction: try direction().get())
            case "threshold":
                let above = d["above"]?.doubleValue, below = d["below"]?.doubleValue
                guard above != nil || below != nil else {
                    return .failure(RuleIssue("detect.threshold needs 'above' or 'below'"))
                }
                detector = .threshold(above: above, below: below)
            default:
                detector = .ensemble(score: try number("score", 0.5, 0.01...1).get())
            }
        } catch let issue as RuleIssue {
            return .failure(issue)
        } catch {
            return .failure(RuleIssue("\(error)"))
        }
        var sustained = 1
        if let s = spec["sustained"] {
            guard let n = s.intValue, n >= 1, n <= 1000 else {
                return .failure(RuleIssue("'sustained' must be a whole number from 1 to 1000"))
            }
            sustained = Int(n)
        }
        return .success(AnomalySpec(detector: detector, sustained: sustained))
    }
}

/// What a `remediation { ... }` rule adds: the action it proposes and the pipeline settings.
public struct RemediationSpec: Sendable, Hashable {
    public enum Mode: String, Sendable, Hashable, CaseIterable {
        case dryRun = "dry-run", approve, auto
    }
    /// `plugin.action`, e.g. `airflow.clear_failed`.
    public var action: String
    public var params: Value?
    public var paramsIsFunction: Bool
    public var mode: Mode
    public var cooldownSeconds: Double?
    public var perHour: Int?

    static func parse(_ spec: [String: Value], paramsIsFunction: Bool) -> Result<RemediationSpec, RuleIssue> {
        guard let action = spec["action"]?.stringValue else {
            return .failure(
                RuleIssue("missing required field 'action' (a \"plugin.action\" name such as \"airflow.clear_failed\")"))
        }
        guard action.range(of: #"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$"#, options: .regularExpression) != nil else {
            return .failure(RuleIssue("action \"\(action)\" must be \"plugin.action\" (e.g. \"kubernetes.scale\")"))
        }
        var mode = Mode.dryRun
        if let m = spec["mode"] {
            guard let s = m.stringValue, let parsed = Mode(rawValue: s) else {
                return .failure(RuleIssue("mode must be one of dry-run, approve, auto"))
            }
            mode = parsed
        }
        var cooldown: Double?
        if let c = spec["cooldown"] {
            guard let s = c.stringValue, let d = Timestamp.parseDuration(s) else {
                return .failure(RuleIssue("cooldown must be a duration such as \"30m\" or \"2h\""))
            }
            cooldown = d
        }
        var perHour: Int?
        if let l = spec["limit"] {
            guard let o = l.objectValue, let n = o["per_hour"]?.intValue, n >= 1, o.count == 1 else {
                return .failure(RuleIssue("limit must be { per_hour = N }"))
            }
            perHour = Int(n)
        }
        let params = spec["params"]
        if let p = params, p.objectValue == nil {
            return .failure(RuleIssue("params must be a table or a function(entity) returning a table"))
        }
        return .success(
            RemediationSpec(
                action: action, params: params, paramsIsFunction: paramsIsFunction, mode: mode,
                cooldownSeconds: cooldown, perHour: perHour))
    }
}
