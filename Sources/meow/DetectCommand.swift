import ArgumentParser
import Foundation
import MeowAnalytics

/// `meow detect`: scores every row of a `timestamp,value` CSV with a streaming anomaly detector.
struct DetectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Score every point of a timestamp,value CSV for anomalies (streaming, no look-ahead).",
        discussion: """
            Reads a CSV with header 'timestamp,value' (NAB format) and writes one row per input row, in \
            order: timestamp,value,anomaly_score (score in 0…1). Detectors: \(DetectorRegistry.names.joined(separator: ", ")). \
            See docs/detectors.md.
            """)

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case csv, json
    }

    @Option(name: .long, help: ArgumentHelp("CSV file with header 'timestamp,value'.", valueName: "FILE.csv"))
    var input: String

    @Option(
        name: .long, help: ArgumentHelp("Detector to run: \(DetectorRegistry.names.joined(separator: ", ")).", valueName: "NAME"))
    var detector: String = "default"

    @Option(name: .long, help: "Output format: csv (timestamp,value,anomaly_score) or json (array of objects with explanation).")
    var output: OutputFormat = .csv

    @Flag(name: .long, help: "Add an 'explanation' column to CSV output (which detector fired, expected range).")
    var explain = false

    func run() throws {
        guard var det = DetectorRegistry.make(detector) else {
            Self.fail("unknown detector '\(detector)' (known: \(DetectorRegistry.names.joined(separator: ", ")))")
        }
        let series: TimeSeries
        do {
            series = try TimeSeriesCSV.load(path: input)
        } catch let e as TimeSeriesCSVError {
            Self.fail(e.description)
        }
        let scores = det.scores(times: series.times, values: series.values)
        var out = ""
        out.reserveCapacity(series.count * 48)
        switch output {
        case .csv:
            out += explain ? "timestamp,value,anomaly_score,explanation\n" : "timestamp,value,anomaly_score\n"
            for i in 0..<series.count {
                out += "\(series.timestampText[i]),\(Self.number(series.values[i])),\(Self.number(scores[i].score))"
                if explain { out += ",\(Self.csvQuote(scores[i].explanation))" }
                out += "\n"
            }
        case .json:
            out += "[\n"
            for i in 0..<series.count {
                let s = scores[i]
                out +=
                    "  {\"timestamp\": \(Self.jsonString(series.timestampText[i])), \"value\": \(Self.jsonNumber(series.values[i])), "
                out += "\"anomaly_score\": \(Self.jsonNumber(s.score)), \"explanation\": \(Self.jsonString(s.explanation))"
                if let e = s.expected {
                    out += ", \"expected\": [\(Self.jsonNumber(e.lowerBound)), \(Self.jsonNumber(e.upperBound))]"
                }
                out += i == series.count - 1 ? "}\n" : "},\n"
            }
            out += "]\n"
        }
        FileHandle.standardOutput.write(Data(out.utf8))
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
        Self.exit(withError: ExitCode(2))
    }

    static func number(_ x: Double) -> String {
        if x.isFinite && x == x.rounded() && abs(x) < 1e15 { return String(Int64(x)) }
        return "\(x)"
    }

    static func jsonNumber(_ x: Double) -> String { x.isFinite ? number(x) : "null" }

    static func jsonString(_ s: String) -> String {
        var r = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": r += "\\\""
            case "\\": r += "\\\\"
            case "\n": r += "\\n"
            case "\r": r += "\\r"
            case "\t": r += "\\t"
            default:
                if c.value < 0x20 { r += String(format: "\\u%04x", c.value) } else { r.unicodeScalars.append(c) }
            }
        }
        return r + "\""
    }

    static func csvQuote(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" })
            ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
}
