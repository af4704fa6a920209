/// How bad a decision is. Ordered: `info < low < medium < warning < high < critical`.
public enum Severity: String, Codable, Sendable, CaseIterable, Comparable {
    case info, low, medium, warning, high, critical

    public static func < (a: Severity, b: Severity) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
