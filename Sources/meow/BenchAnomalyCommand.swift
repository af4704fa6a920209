import ArgumentParser
import Foundation
import MeowAnalytics

/// `meow bench anomaly`: scores detectors on a NAB-style corpus with NAB's three profiles.
struct BenchAnomalyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "anomaly",
        abstract: "Score anomaly detectors on a NAB-style corpus (data/<category>/*.csv + combined_windows.json).",
        discussion: """
            Runs each detector over every CSV under --data and scores it like the Numenta Anomaly Benchmark: \
            probationary 15%, earliest detection per window rewarded by a scaled sigmoid, false positives \
            weighted per profile, one threshold optimised over the corpus, normalised so that a detector \
            that never fires scores 0 and a perfect one 100. Profiles: standard, reward_low_FP_rate, reward_low_FN_rate.
            """)

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Option(
        name: .long, help: ArgumentHelp("Directory searched recursively for *.csv files (timestamp,value).", valueName: "DIR"))
    var data: String

    @Option(
        name: .long,
        help: ArgumentHelp("NAB combined_windows.json: {\"<category>/<file>.csv\": [[start, end], ...]}.", valueName: "FILE"))
    var labels: String

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Score only this detector (default: the default detector and every single detector).", valueName: "NAME"))
    var detector: String?

    @Option(
        name: .long,
        help: ArgumentHelp("NAB config/profiles.json to use instead of the built-in NAB profiles.", valueName: "FILE"))
    var profiles: String?

    @Option(name: .long, help: "Output format: text (table) or json.")
    var output: OutputFormat = .text

    @Flag(name: .long, help: "Also print each file's raw standard-profile score (text output).")
    var perFile = false

    func run() throws {
        let names: [String]
        if let detector {
            guard DetectorRegistry.make(detector) != nil else {
                Self.fail("unknown detector '\(detector)' (known: \(DetectorRegistry.names.joined(separator: ", ")))")
            }
            names = [detector]
        } else {
            names = DetectorRegistry.names
        }
        let profileList: [NABProfile]
        let files: [NABDataFile]
        do {
            profileList = try profiles.map { try NABProfile.load(path: $0) } ?? NABProfile.all
            files = try NABCorpus.load(dataDirectory: data, labelsPath: labels) { Self.progress("loading \($0)") }
        } catch let e as TimeSeriesCSVError {
            Self.fail(e.description)
        }
        var results: [NABBenchmark.DetectorResult] = []
        for name in names {
            guard let r = NABBenchmark.run(detector: name, files: files, profiles: profileList) else { continue }
            Self.progress(String(format: "scored %@ on %d files in %.2fs", name, files.count, r.seconds))
            results.append(r)
        }
        let text: String
        switch output {
        case .text: text = Self.table(results, profiles: profileList, files: files, perFile: perFile)
        case .json: text = Self.json(results, files: files)
        }
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    static func table(_ results: [NABBenchmark.DetectorResult], profiles: [NABProfile], files: [NABDataFile], perFile: Bool)
        -> String
    {
        let nWindows = files.reduce(0) { $0 + $1.windows.count }
        var s = "NAB scores (\(files.count) files, \(nWindows) windows; null = 0, perfect = 100)\n"
        let nameWidth = max(18, (results.map(\.detector.count).max() ?? 0) + 2)
        s += "detector".padding(toLength: nameWidth, withPad: " ", startingAt: 0)
        for p in profiles { s += Self.leftPad(p.name, 20) }
        s += "   TP/FN/FP (\(profiles.first?.name ?? ""))\n"
        for r in results {
            s += r.detector.padding(toLength: nameWidth, withPad: " ", startingAt: 0)
            for p in r.profiles { s += Self.leftPad(String(format: "%.1f", p.normalizedScore), 20) }
            if let f = r.profiles.first { s += "   \(f.truePositives)/\(f.falseNegatives)/\(f.falsePositives)" }
            s += "\n"
        }
        if perFile {
            for r in results {
                guard let std = r.profiles.first else { continue }
                s +=
                    "\n\(r.detector): raw \(std.profile.name) score per file (threshold \(String(format: "%.4f", std.threshold)))\n"
                for (i, f) in files.enumerated() {
                    s += "  " + String(format: "%8.3f", std.perFile[i]) + "  \(f.name) (\(f.windows.count) windows)\n"
                }
            }
        }
        return s
    }

    static func json(_ results: [NABBenchmark.DetectorResult], files: [NABDataFile]) -> String {
        func num(_ x: Double) -> Any { x.isFinite ? x : NSNull() }
        let arr: [[String: Any]] = results.map { r in
            var profs: [String: Any] = [:]
            for p in r.profiles {
                profs[p.profile.name] =
                    [
                        "score": num(p.normalizedScore), "raw": num(p.rawScore), "null": num(p.nullScore),
                        "perfect": num(p.perfectScore), "threshold": num(p.threshold),
                        "true_positives": p.truePositives, "false_negatives": p.falseNegatives,
                        "false_positives": p.falsePositives,
                    ] as [String: Any]
            }
            return ["detector": r.detector, "files": files.count, "profiles": profs]
        }
        let data = (try? JSONSerialization.data(withJSONObject: arr, options: [.prettyPrinted, .sortedKeys])) ?? Data("[]".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    static func leftPad(_ s: String, _ n: Int) -> String {
        s.count >= n ? " " + s : String(repeating: " ", count: n - s.count) + s
    }

    static func progress(_ message: String) {
        FileHandle.standardError.write(Data("\(message)\n".utf8))
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
        Self.exit(withError: ExitCode(2))
    }
}
