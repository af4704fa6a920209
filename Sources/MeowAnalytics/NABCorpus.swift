import Foundation

/// One NAB scoring profile: the weights of true positives, false positives and false negatives.
public struct NABProfile: Sendable, Equatable, Hashable {
    public var name: String
    public var tpWeight: Double
    public var fpWeight: Double
    public var fnWeight: Double

    public init(name: String, tpWeight: Double, fpWeight: Double, fnWeight: Double) {
        self.name = name
        self.tpWeight = tpWeight
        self.fpWeight = fpWeight
        self.fnWeight = fnWeight
    }

    public static let standard = NABProfile(name: "standard", tpWeight: 1.0, fpWeight: 0.11, fnWeight: 1.0)
    public static let rewardLowFP = NABProfile(name: "reward_low_FP_rate", tpWeight: 1.0, fpWeight: 0.22, fnWeight: 1.0)
    public static let rewardLowFN = NABProfile(name: "reward_low_FN_rate", tpWeight: 1.0, fpWeight: 0.11, fnWeight: 2.0)
    /// NAB's three published profiles, in NAB's order.
    public static let all: [NABProfile] = [.standard, .rewardLowFP, .rewardLowFN]

    /// Reads NAB's `config/profiles.json` (`{name: {CostMatrix: {tpWeight, fpWeight, fnWeight}}}`).
    public static func load(path: String) throws -> [NABProfile] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TimeSeriesCSVError(file: path, line: 0, message: "cannot read profiles file")
        }
        guard let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw TimeSeriesCSVError(file: path, line: 0, message: "profiles file is not a JSON object")
        }
        var out: [NABProfile] = []
        for (name, value) in obj {
            guard let cm = (value as? [String: Any])?["CostMatrix"] as? [String: Any],
                let tp = (cm["tpWeight"] as? NSNumber)?.doubleValue,
                let fp = (cm["fpWeight"] as? NSNumber)?.doubleValue,
                let fn = (cm["fnWeight"] as? NSNumber)?.doubleValue
            else {
                throw TimeSeriesCSVError(
                    file: path, line: 0, message: "profile '\(name)' lacks CostMatrix tpWeight/fpWeight/fnWeight")
            }
            out.append(NABProfile(name: name, tpWeight: tp, fpWeight: fp, fnWeight: fn))
        }
        let order = all.map(\.name)
        return out.sorted { (order.firstIndex(of: $0.name) ?? 99, $0.name) < (order.firstIndex(of: $1.name) ?? 99, $1.name) }
    }
}

/// One data file of a NAB-style corpus with its labelled anomaly windows.
public struct NABDataFile: Sendable, Equatable {
    /// Path relative to the data directory, e.g. `realKnownCause/nyc_taxi.csv` (the labels key).
    public var name: String
    public var series: TimeSeries
    /// Anomaly windows as inclusive row-index ranges, ascending.
    public var windows: [ClosedRange<Int>]

    public init(name: String, series: TimeSeries, windows: [ClosedRange<Int>]) {
        self.name = name
        self.series = series
        self.windows = windows
    }
}

/// Loads a NAB-style corpus: every `*.csv` under a data directory plus a `combined_windows.json`.
public enum NABCorpus {
    /// Labels: file key → list of `[start, end]` timestamp strings.
    public static func loadLabels(path: String) throws -> [String: [[String]]] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TimeSeriesCSVError(file: path, line: 0, message: "cannot read labels file")
        }
        do {
            return try JSONDecoder().decode([String: [[String]]].self, from: data)
        } catch {
            throw TimeSeriesCSVError(
                file: path, line: 0,
                message: "labels must be a JSON object {\"<category>/<file>.csv\": [[start, end], ...]}: \(error)")
        }
    }

    /// All `*.csv` files under `directory`, as sorted paths relative to it.
    public static func csvFiles(under directory: String) throws -> [String] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw TimeSeriesCSVError(file: directory, line: 0, message: "data directory not found")
        }
        guard let e = FileManager.default.enumerator(atPath: directory) else {
            throw TimeSeriesCSVError(file: directory, line: 0, message: "cannot list data directory")
        }
        var out: [String] = []
        while let p = e.nextObject() as? String {
            if p.lowercased().hasSuffix(".csv") { out.append(p) }
        }
        return out.sorted()
    }

    /// Loads every CSV under `dataDirectory` with its windows from `labelsPath`.
    ///
    /// Backward timestamp steps are clamped (NAB's own files contain one); `progress` is told about
    /// each file and each clamped line.
    ///
    /// A file without a labels entry is an error (a NAB corpus labels every file, `[]` for none).
    /// Window bounds are mapped to the first row at or after the start and the last row at or before the end.
    public static func load(
        dataDirectory: String, labelsPath: String,
        progress: ((String) -> Void)? = nil
    ) throws -> [NABDataFile] {
        let labels = try loadLabels(path: labelsPath)
        let files = try csvFiles(under: dataDirectory)
        if files.isEmpty {
            throw TimeSeriesCSVError(file: dataDirectory, line: 0, message: "no .csv files found")
        }
        var out: [NABDataFile] = []
        for rel in files {
            let full = (dataDirectory as NSString).appendingPathComponent(rel)
            progress?(rel)
            let series = try TimeSeriesCSV.load(path: full, order: .clampBackwardSteps)
            for line in series.clampedLines {
                progress?("warning: \(full):\(line): timestamp goes backwards; clamped to the previous row's")
            }
            guard
                let raw = labels[rel]
                    ?? labels.first(where: { rel.hasSuffix("/" + $0.key) || $0.key.hasSuffix("/" + rel) })?.value
            else {
                throw TimeSeriesCSVError(file: labelsPath, line: 0, message: "no labels entry for '\(rel)'")
            }
            var windows: [ClosedRange<Int>] = []
            for pair in raw {
                guard pair.count == 2, let a = TimeSeriesCSV.parseTimestamp(pair[0]),
                    let b = TimeSeriesCSV.parseTimestamp(pair[1])
                else {
                    throw TimeSeriesCSVError(file: labelsPath, line: 0, message: "bad window \(pair) for '\(rel)'")
                }
                if let w = rowRange(times: series.times, start: a, end: b) { windows.append(w) }
            }
            windows.sort { $0.lowerBound < $1.lowerBound }
            out.append(NABDataFile(name: rel, series: series, windows: windows))
        }
        return out
    }

    /// Inclusive row range covered by `[start, end]`, or nil if no row falls inside.
    public static func rowRange(times: [Double], start: Double, end: Double) -> ClosedRange<Int>? {
        var lo = 0, hi = times.count
        while lo < hi { let m = (lo + hi) / 2; if times[m] < start { lo = m + 1 } else { hi = m } }
        let first = lo
        lo = 0; hi = times.count
        while lo < hi { let m = (lo + hi) / 2; if times[m] <= end { lo = m + 1 } else { hi = m } }
        let last = lo - 1
        return first <= last ? first...last : nil
    }
}
