import Foundation

/// A parsed `timestamp,value` series (NAB format).
public struct TimeSeries: Sendable, Equatable {
    /// The timestamps exactly as written in the file.
    public var timestampText: [String]
    /// Timestamps as seconds since 1970-01-01 UTC.
    public var times: [Double]
    public var values: [Double]
    /// Lines (1-based) whose timestamp went backwards and was clamped to the previous one
    /// (only with ``TimeSeriesCSV/TimestampOrder/clampBackwardSteps``).
    public var clampedLines: [Int]

    public init(timestampText: [String], times: [Double], values: [Double], clampedLines: [Int] = []) {
        self.timestampText = timestampText
        self.times = times
        self.values = values
        self.clampedLines = clampedLines
    }

    public var count: Int { values.count }
}

/// A CSV problem, located by file and 1-based line number.
public struct TimeSeriesCSVError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    /// 1-based line number (the header is line 1); 0 when the problem is not tied to a line.
    public var line: Int
    public var message: String

    public init(file: String, line: Int, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    /// `file:line: message`, the format printed after `error: ` by the CLI.
    public var description: String { line > 0 ? "\(file):\(line): \(message)" : "\(file): \(message)" }
}

/// Parses `timestamp,value` CSV files.
///
/// - The header must contain the columns `timestamp` and `value` (any order, extra columns ignored,
///   case-insensitive, surrounding quotes and whitespace ignored).
/// - Timestamps: `YYYY-MM-DD HH:MM:SS[.ffffff]` (NAB), ISO 8601 with `T` and optional `Z`/`±HH:MM`,
///   or a plain number of seconds since the epoch. Times are UTC unless an offset is given.
/// - Values: decimal numbers. Empty lines are skipped.
/// - Timestamps must not decrease (equal timestamps are allowed: real exports repeat them around DST
///   changes). With ``TimestampOrder/clampBackwardSteps`` a backward step is tolerated and the time is
///   clamped to the previous row's (used for benchmark corpora such as NAB, which contain one).
public enum TimeSeriesCSV {
    /// How to treat a timestamp earlier than the previous row's.
    public enum TimestampOrder: Sendable {
        /// Reject it with a line-numbered error (default, `meow detect`).
        case strict
        /// Accept it, clamp the time to the previous one and record the line in `clampedLines`.
        case clampBackwardSteps
    }

    public static func load(path: String, order: TimestampOrder = .strict) throws -> TimeSeries {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TimeSeriesCSVError(file: path, line: 0, message: "cannot read file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw TimeSeriesCSVError(file: path, line: 0, message: "file is not UTF-8 text")
        }
        return try parse(text, file: path, order: order)
    }

    public static func parse(_ text: String, file: String = "<input>", order: TimestampOrder = .strict) throws -> TimeSeries {
        var clamped: [Int] = []
        var timestampText: [String] = []
        var times: [Double] = []
        var values: [Double] = []
        var tsCol = -1
        var valCol = -1
        var headerSeen = false
        var lineNo = 0
        var columnCount = 0
        // Lines end in \n, \r\n or a lone \r (some NAB files use old Mac line endings).
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0.isNewline }) {
            lineNo += 1
            var line = Substring(rawLine)
            if line.hasSuffix("\r") { line = line.dropLast() }
            if lineNo == 1, line.hasPrefix("\u{FEFF}") { line = line.dropFirst() }
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(clean)
            if !headerSeen {
                headerSeen = true
                let names = fields.map { $0.lowercased() }
                tsCol = names.firstIndex(of: "timestamp") ?? -1
                valCol = names.firstIndex(of: "value") ?? -1
                if tsCol < 0 || valCol < 0 {
                    let missing = [tsCol < 0 ? "timestamp" : nil, valCol < 0 ? "value" : nil].compactMap { $0 }
                    throw TimeSeriesCSVError(
                        file: file, line: lineNo,
                        message:
                            "missing column \(missing.map { "'\($0)'" }.joined(separator: " and ")) in header (expected 'timestamp,value', got '\(Self.snippet(line))')"
                    )
                }
                columnCount = fields.count
                continue
            }
            guard fields.count > max(tsCol, valCol) else {
                throw TimeSeriesCSVError(
                    file: file, line: lineNo,
                    message: "expected \(columnCount) columns, got \(fields.count): '\(Self.snippet(line))'")
            }
            let ts = fields[tsCol]
            guard let t = parseTimestamp(ts) else {
                throw TimeSeriesCSVError(file: file, line: lineNo, message: "unparsable timestamp '\(ts)'")
            }
            let vs = fields[valCol]
            guard let v = Double(vs), !vs.isEmpty else {
                throw TimeSeriesCSVError(file: file, line: lineNo, message: "unparsable value '\(vs)'")
            }
            var time = t
            if let prev = times.last, t < prev {
                if order == .strict {
                    throw TimeSeriesCSVError(
                        file: file, line: lineNo,
                        message:
                            "timestamp '\(ts)' is earlier than the previous row '\(timestampText.last!)' (timestamps must be sorted ascending)"
                    )
                }
                clamped.append(lineNo)
                time = prev
            }
            timestampText.append(ts)
            times.append(time)
            values.append(v)
        }
        if !headerSeen {
            throw TimeSeriesCSVError(file: file, line: 1, message: "empty file (expected header 'timestamp,value')")
        }
        return TimeSeries(timestampText: timestampText, times: times, values: values, clampedLines: clamped)
    }

    private static func snippet(_ s: Substring) -> String {
        s.count <= 60 ? String(s) : String(s.prefix(57)) + "..."
    }

    private static func clean(_ s: Substring) -> String {
        var t = s.trimmingCharacters(in: .whitespaces)
        if t.count >= 2, t.hasPrefix("\""), t.hasSuffix("\"") { t = String(t.dropFirst().dropLast()) }
        return t
    }

    /// Parses a timestamp to seconds since the Unix epoch (UTC), or nil.
    public static func parseTimestamp(_ s: String) -> Double? {
        let u = Array(s.utf8)
        if u.isEmpty { return nil }
        // Plain epoch seconds.
        if !u.contains(UInt8(ascii: "-")) || (u.first == UInt8(ascii: "-") && !u.dropFirst().contains(UInt8(ascii: "-"))) {
            if let x = Double(s), x.isFinite { return x }
            return nil
        }
        var i = 0
        func digits(_ n: Int) -> Int? {
            guard i + n <= u.count else { return nil }
            var v = 0
            for k in 0..<n {
                let c = u[i + k]
                guard c >= 48 && c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            i += n
            return v
        }
        func expect(_ c: Character) -> Bool {
            guard i < u.count, u[i] == c.asciiValue! else { return false }
            i += 1
            return true
        }
        guard let year = digits(4), expect("-"), let month = digits(2), expect("-"), let day = digits(2) else { return nil }
        guard (1...12).contains(month), (1...31).contains(day) else { return nil }
        var hour = 0, minute = 0, second = 0
        var frac = 0.0
        var offset = 0
        if i < u.count {
            guard u[i] == UInt8(ascii: " ") || u[i] == UInt8(ascii: "T") else { return nil }
            i += 1
            guard let h = digits(2), expect(":"), let m = digits(2) else { return nil }
            hour = h; minute = m
            if i < u.count, u[i] == UInt8(ascii: ":") {
                i += 1
                guard let sec = digits(2) else { return nil }
                second = sec
                if i < u.count, u[i] == UInt8(ascii: ".") {
                    i += 1
                    var scale = 0.1
                    var any = false
                    while i < u.count, u[i] >= 48, u[i] <= 57 {
                        frac += Double(u[i] - 48) * scale
                        scale /= 10
                        i += 1
                        any = true
                    }
                    guard any else { return nil }
                }
            }
            guard hour < 24, minute < 60, second < 61 else { return nil }
            if i < u.count {
                if u[i] == UInt8(ascii: "Z") {
                    i += 1
                } else if u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-") {
                    let sign = u[i] == UInt8(ascii: "+") ? 1 : -1
                    i += 1
                    guard let oh = digits(2) else { return nil }
                    _ = expect(":")
                    guard let om = digits(2) else { return nil }
                    offset = sign * (oh * 3600 + om * 60)
                }
            }
            guard i == u.count else { return nil }
        }
        let days = daysFromCivil(year: year, month: month, day: day)
        return Double(days * 86400 + hour * 3600 + minute * 60 + second - offset) + frac
    }

    /// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }
}
