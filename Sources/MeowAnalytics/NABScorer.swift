import Foundation

/// Scores anomaly-score series against labelled windows the way the Numenta Anomaly Benchmark does.
///
/// Rules (after NAB's published scorer):
/// - The first `min(floor(0.15·n), 750)` rows of each file are probationary and not scored.
/// - A row is a detection when its anomaly score is `>= threshold`.
/// - Inside a window only the earliest detection counts. Its reward is
///   `tpWeight · σ(p) / σ(-1)` with `σ(p) = 2/(1+e^{5p}) − 1` and `p = −(windowEnd − i + 1)/windowWidth`
///   (≈ tpWeight at the window start, → 0 at its end).
/// - A window with no detection costs `−fnWeight`.
/// - Every detection outside windows is a false positive worth `fpWeight · σ(p)` (negative), where
///   `p = (i − previousWindowEnd)/(previousWindowWidth − 1)` measures how far past the preceding window
///   it is (`σ = −1` when `p ≥ 3` or when no window precedes it).
/// - One threshold is chosen per profile for the whole corpus, maximising the summed raw score.
/// - Normalised score: `100 · (raw − null)/(perfect − null)`; null never detects (every window missed),
///   perfect detects every window at its first scorable row and nothing else.
public enum NABScorer {
    /// NAB's scaled sigmoid.
    @inlinable
    public static func scaledSigmoid(_ p: Double) -> Double {
        if p >= 3 { return -1 }
        return 2 / (1 + exp(5 * p)) - 1
    }

    /// NAB's probationary length for a file of `n` rows.
    public static func probationaryLength(_ n: Int, percent: Double = 0.15) -> Int {
        min(Int((percent * Double(n)).rounded(.down)), Int(percent * 5000))
    }

    /// Per-row scoring weight for one file: `window` is the window index (nil outside windows) and
    /// `weight` the (signed) contribution of a detection at this row. Probationary rows are nil.
    public struct RowWeight: Sendable, Equatable {
        public var window: Int?
        public var weight: Double
    }

    /// Computes the per-row weights of a file with `count` rows and the given windows.
    public static func rowWeights(count n: Int, windows: [ClosedRange<Int>], profile: NABProfile) -> [RowWeight?] {
        let maxTP = scaledSigmoid(-1)
        let probation = probationaryLength(n)
        var out = [RowWeight?](repeating: nil, count: n)
        var wi = 0
        var prevEnd: Int?
        var prevWidth = 0
        for i in 0..<n {
            while wi < windows.count && windows[wi].upperBound < i {
                prevEnd = windows[wi].upperBound
                prevWidth = windows[wi].count
                wi += 1
            }
            let w: RowWeight
            if wi < windows.count && windows[wi].contains(i) {
                let win = windows[wi]
                let p = -Double(win.upperBound - i + 1) / Double(win.count)
                w = RowWeight(window: wi, weight: scaledSigmoid(p) * profile.tpWeight / maxTP)
            } else {
                let p: Double
                if let prevEnd { p = Double(i - prevEnd) / Double(max(prevWidth - 1, 1)) } else { p = 3 }
                w = RowWeight(window: nil, weight: scaledSigmoid(p) * profile.fpWeight)
            }
            if i >= probation { out[i] = w }
        }
        return out
    }

    /// Outcome for one profile.
    public struct ProfileResult: Sendable, Equatable {
        public var profile: NABProfile
        /// The corpus-wide threshold that maximised the raw score (`.infinity` = never detect).
        public var threshold: Double
        public var rawScore: Double
        public var nullScore: Double
        public var perfectScore: Double
        /// `100 · (raw − null)/(perfect − null)`.
        public var normalizedScore: Double
        /// Windows with at least one detection.
        public var truePositives: Int
        /// Detections outside windows (after probation).
        public var falsePositives: Int
        /// Windows without a detection.
        public var falseNegatives: Int
        /// Raw score per file at the chosen threshold, in corpus order.
        public var perFile: [Double]
    }

    /// A scored file: anomaly scores plus its windows.
    public struct ScoredFile: Sendable {
        public var name: String
        public var scores: [Double]
        public var windows: [ClosedRange<Int>]
        public init(name: String, scores: [Double], windows: [ClosedRange<Int>]) {
            self.name = name
            self.scores = scores
            self.windows = windows
        }
    }

    /// Scores a corpus for one profile, optimising the threshold over all files together.
    public static func score(_ files: [ScoredFile], profile: NABProfile) -> ProfileResult {
        struct Point { var score: Double; var weight: Double; var window: Int; var file: Int }  // window -1 = FP
        var points: [Point] = []
        var windowBest: [Double] = []  // best (earliest) scorable reward per global window
        var windowFile: [Int] = []
        for (fi, f) in files.enumerated() {
            let rows = rowWeights(count: f.scores.count, windows: f.windows, profile: profile)
            var localToGlobal: [Int: Int] = [:]
            for (i, r) in rows.enumerated() {
                guard let r else { continue }
                let s = f.scores[i].isNaN ? 0 : f.scores[i]
                if let w = r.window {
                    let g: Int
                    if let existing = localToGlobal[w] {
                        g = existing
                    } else {
                        g = windowBest.count
                        localToGlobal[w] = g
                        windowBest.append(r.weight)
                        windowFile.append(fi)
                    }
                    windowBest[g] = max(windowBest[g], r.weight)
                    points.append(Point(score: s, weight: r.weight, window: g, file: fi))
                } else {
                    points.append(Point(score: s, weight: r.weight, window: -1, file: fi))
                }
            }
        }
        let nWindows = windowBest.count
        let nullScore = -profile.fnWeight * Double(nWindows)
        let perfectScore = windowBest.reduce(0, +)
        points.sort { $0.score > $1.score }

        var detected = [Double?](repeating: nil, count: nWindows)
        var fpSum = 0.0
        var tpSum = 0.0
        var nDetected = 0
        var fpCount = 0
        var best = (score: nullScore, threshold: Double.infinity, index: 0)
        var i = 0
        while i < points.count {
            let t = points[i].score
            var j = i
            while j < points.count && points[j].score == t {
                let p = points[j]
                if p.window < 0 {
                    fpSum += p.weight
                    fpCount += 1
                } else if let d = detected[p.window] {
                    if p.weight > d { tpSum += p.weight - d; detected[p.window] = p.weight }
                } else {
                    detected[p.window] = p.weight
                    tpSum += p.weight
                    nDetected += 1
                }
                j += 1
            }
            let total = fpSum + tpSum - profile.fnWeight * Double(nWindows - nDetected)
            if total > best.score + 1e-12 { best = (total, t, j) }
            i = j
        }

        // Recount at the chosen threshold for the report.
        var perFile = [Double](repeating: 0, count: files.count)
        var hit = [Double?](repeating: nil, count: nWindows)
        var fps = 0
        for p in points.prefix(best.index) {
            if p.window < 0 {
                perFile[p.file] += p.weight; fps += 1
            } else {
                hit[p.window] = max(hit[p.window] ?? -.infinity, p.weight)
            }
        }
        var tp = 0
        for g in 0..<nWindows {
            if let h = hit[g] { perFile[windowFile[g]] += h; tp += 1 } else { perFile[windowFile[g]] -= profile.fnWeight }
        }
        let denom = perfectScore - nullScore
        let norm = denom > 0 ? 100 * (best.score - nullScore) / denom : 0
        return ProfileResult(
            profile: profile, threshold: best.threshold, rawScore: best.score, nullScore: nullScore,
            perfectScore: perfectScore, normalizedScore: norm, truePositives: tp,
            falsePositives: fps, falseNegatives: nWindows - tp, perFile: perFile)
    }
}
