import Foundation

/// RFC 3339 timestamps as meow writes and reads them: UTC, `2026-01-01T00:00:00Z`, fractional seconds
/// accepted on input.
public enum Timestamp {
    public static func format(_ date: Date) -> String {
        Date.ISO8601FormatStyle().format(date)
    }

    public static func parse(_ text: String) -> Date? {
        if let d = try? Date(text, strategy: .iso8601) { return d }
        if let d = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return d }
        return nil
    }

    /// Parses durations such as `30s`, `15m`, `24h`, `7d`, `1h30m`.
    /// A duration as meow.yaml writes it: `1h`, `30m`, `90s`, `1.5s`, `2d`.
    public static func formatDuration(_ s: TimeInterval) -> String {
        if s >= 86400, s.truncatingRemainder(dividingBy: 86400) == 0 { return "\(Int(s / 86400))d" }
        if s >= 3600, s.truncatingRemainder(dividingBy: 3600) == 0 { return "\(Int(s / 3600))h" }
        if s >= 60, s.truncatingRemainder(dividingBy: 60) == 0 { return "\(Int(s / 60))m" }
        return "\(String(format: "%g", s))s"
    }

    public static func parseDuration(_ text: String) -> TimeInterval? {
        var total: Double = 0
        var number = ""
        var sawUnit = false
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            let ch = chars[i]
            i += 1
            if ch.isNumber || ch == "." {
                number.append(ch)
                continue
            }
            guard let n = Double(number) else { return nil }
            switch ch {
            case "m" where i < chars.count && chars[i] == "s":
                i += 1
                total += n / 1000
            case "s": total += n
            case "m": total += n * 60
            case "h": total += n * 3600
            case "d": total += n * 86400
            case "w": total += n * 7 * 86400
            default: return nil
            }
            number = ""
            sawUnit = true
        }
        guard number.isEmpty, sawUnit else { return nil }
        return total
    }
}

extension Duration {
    /// The duration in seconds, as a `Double` (for timings and stats).
    public var seconds: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }
}
