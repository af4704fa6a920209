import Foundation

/// Turns a stream of raw anomaly scores into an "anomaly likelihood", after the post-processing of
/// Numenta's HTM detector (Ahmad et al., "Unsupervised real-time anomaly detection for streaming data",
/// 2017). Detector-agnostic: any non-negative raw score works (prediction error, context novelty, …).
///
/// Per point:
/// 1. the short-term average `a` of the last `averagingWindow` raw scores is computed;
/// 2. `a` is compared with a normal distribution fitted to the short-term averages of the previous
///    `historyWindow` points (mean and variance floored at `minMean`/`minStd`² so that a perfectly quiet
///    history does not make every blip infinitely unlikely);
/// 3. the result is the upper-tail probability `tail = Q((a − mean)/std)`, reported on a log scale by
///    ``logScore(tail:)``: `d/(d + 5)` with `d = −log10(tail)`, so tail 1e-5 (HTM's red threshold) scores 0.5.
/// While fewer than `learningPeriod` averages are known the score is 0 (no opinion).
/// Cost O(1) per point (running sums over ring buffers), memory O(historyWindow).
public struct AnomalyLikelihood: Sendable {
    public let historyWindow: Int
    public let averagingWindow: Int
    public let learningPeriod: Int
    public let minMean: Double
    public let minStd: Double

    private var short: [Double] = []
    private var shortHead = 0
    private var shortSum = 0.0
    private var long: [Double] = []
    private var longHead = 0
    private var longSum = 0.0
    private var longSumSq = 0.0
    private var updatesSinceResum = 0

    public init(
        historyWindow: Int = 8640, averagingWindow: Int = 10, learningPeriod: Int = 300,
        minMean: Double = 0.03, minStd: Double = 0.0173
    ) {
        self.historyWindow = max(10, historyWindow)
        self.averagingWindow = max(1, averagingWindow)
        self.learningPeriod = max(2, min(learningPeriod, self.historyWindow))
        self.minMean = minMean
        self.minStd = minStd
    }

    /// Number of short-term averages in the history.
    public var count: Int { long.count }

    /// Feeds one raw score; returns the tail probability of the current short-term average
    /// (1 = perfectly ordinary, small = unusually high), or nil while learning.
    public mutating func tail(_ rawScore: Double) -> Double? {
        let raw = rawScore.isFinite ? max(0, rawScore) : 0
        if short.count < averagingWindow {
            short.append(raw)
        } else {
            shortSum -= short[shortHead]
            short[shortHead] = raw
            shortHead = (shortHead + 1) % averagingWindow
        }
        shortSum += raw
        let avg = max(0, shortSum / Double(short.count))
        var result: Double? = nil
        let n = Double(long.count)
        if long.count >= learningPeriod {
            let mean = max(longSum / n, minMean)
            let variance = max(longSumSq / n - (longSum / n) * (longSum / n), 0)
            let std = max(variance.squareRoot(), minStd)
            let z = (avg - mean) / std
            result = 0.5 * erfc(z / 2.0.squareRoot())
        }
        if long.count < historyWindow {
            long.append(avg)
        } else {
            let old = long[longHead]
            long[longHead] = avg
            longHead = (longHead + 1) % historyWindow
            longSum -= old
            longSumSq -= old * old
        }
        longSum += avg
        longSumSq += avg * avg
        updatesSinceResum += 1
        if updatesSinceResum >= historyWindow {  // cancel floating-point drift of the running sums
            updatesSinceResum = 0
            longSum = long.reduce(0, +)
            longSumSq = long.reduce(0) { $0 + $1 * $1 }
        }
        return result
    }

    /// Log-scale score of a tail probability: `d/(d + 5)` with `d = −log10(tail)`; 0 for tail 1,
    /// 0.5 for 1e-5, 0.67 for 1e-10, → 1 as tail → 0 (no saturation before Double underflow).
    @inlinable
    public static func logScore(tail: Double) -> Double {
        guard tail < 1 else { return 0 }
        let d = -log10(max(tail, Double.leastNormalMagnitude))
        return d / (d + 5)
    }

    /// Tail probability corresponding to a ``logScore(tail:)`` value.
    public static func tail(forScore s: Double) -> Double {
        if s <= 0 { return 1 }
        if s >= 1 { return 0 }
        return pow(10, -5 * s / (1 - s))
    }
}

/// "likelihood": any detector's raw score stream post-processed by ``AnomalyLikelihood``.
///
/// The score is ``EnsembleDetector/score(tail:)`` of the likelihood's tail probability (0 for tail ≥ 0.1,
/// 0.5 at 1e-5), or the base detector's own score while the likelihood is still learning. No alert
/// suppression: this shows the effect of the post-processing alone. A value far outside the range
/// of all values seen so far (``RangeNovelty``) scores at least 0.6.
///
/// Parameters: `base` (default: the seasonal-baseline detector), `historyWindow` (8640),
/// `averagingWindow` (10), `learningPeriod` (300).
public struct LikelihoodDetector: StreamingDetector {
    public let name: String
    private var base: AnyStreamingDetector
    private var likelihood: AnomalyLikelihood
    private var range = RangeNovelty()

    public init(
        base: any StreamingDetector = SeasonalBaselineDetector(), historyWindow: Int = 8640, averagingWindow: Int = 10,
        learningPeriod: Int = 300, name: String = "likelihood"
    ) {
        self.base = AnyStreamingDetector(base)
        likelihood = AnomalyLikelihood(
            historyWindow: historyWindow, averagingWindow: averagingWindow, learningPeriod: learningPeriod)
        self.name = name
    }

    public mutating func update(time: Double, value: Double) -> AnomalyScore {
        guard value.isFinite else { return .quiet(name, reason: "non-finite value ignored", value: value) }
        var out = base.update(time: time, value: value)
        let raw = out.score
        out.detector = "\(name)/\(out.detector)"
        let excess = range.excess(value)
        if let tail = likelihood.tail(raw) {
            out.score = EnsembleDetector.score(tail: tail)
            out.reason = out.score > 0 ? "unusually high recent \(base.name) scores" : "normal"
        }
        if excess > 0 && RangeNovelty.score(excess: excess) > out.score {
            out.score = RangeNovelty.score(excess: excess)
            out.reason = "outside the range of all values seen"
        }
        return out
    }
}

/// HTM's "spatial anomaly" rule: a value farther outside the range of every value seen so far than
/// `tolerance` × that range is anomalous whatever the likelihood says (a single extreme point is diluted
/// by the likelihood's short-term average). Inactive for the first `warmup` values and while the
/// range is empty (constant series: the prediction channels handle the first change).
public struct RangeNovelty: Sendable, Equatable {
    public let tolerance: Double
    public let warmup: Int
    private var lo = Double.infinity
    private var hi = -Double.infinity
    private var count = 0

    public init(tolerance: Double = 0.1, warmup: Int = 100) {
        self.tolerance = max(0, tolerance)
        self.warmup = max(1, warmup)
    }

    /// How far `x` lies outside the tolerated range, in units of the range (0 = inside); then learns `x`.
    public mutating func excess(_ x: Double) -> Double {
        guard x.isFinite else { return 0 }
        var out = 0.0
        let range = hi - lo
        if count >= warmup && range == 0 && x != lo {
            out = 1  // first change off a constant series
        } else if count >= warmup && range > 0 && range.isFinite {
            let tol = range * tolerance
            if x > hi + tol { out = (x - hi) / range } else if x < lo - tol { out = (lo - x) / range }
            if !out.isFinite { out = .greatestFiniteMagnitude }
        }
        lo = min(lo, x)
        hi = max(hi, x)
        count += 1
        return out
    }

    /// Score of an excess: 0 inside the range, then from `base` (just outside) towards 1.
    @inlinable
    public static func score(excess e: Double, base: Double = 0.6) -> Double {
        guard e > 0 else { return 0 }
        return base + (1 - base) * e / (e + 1)
    }
}
