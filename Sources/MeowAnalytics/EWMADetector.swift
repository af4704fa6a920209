import Foundation

/// Exponentially weighted moving average and variance (EWMA/EWMV) detector.
///
/// Keeps an exponentially weighted mean and variance; `z = (x − mean)/σ`. Outliers are winsorised to
/// `mean ± clip·σ` before they update the state, so one spike does not inflate σ and mask the next.
/// Gaps: the mean decays once per missing step (`(1−α)^gap`), so after a long gap the old level
/// weighs less; the spread is kept. Cost O(1).
///
/// Parameters:
/// - `alpha` (default 0.05): smoothing per regular step (memory ≈ 1/α ≈ 20 points).
/// - `minPoints` (default 10): points needed before scoring.
/// - `clip` (default 4): winsorisation limit in σ.
public struct EWMADetector: StreamingDetector {
    public let name: String
    public let alpha: Double
    public let minPoints: Int
    public let clip: Double
    private var mean = 0.0
    private var variance = 0.0
    private var count = 0
    private var spacing = SpacingEstimator()
    private var floor = ScaleFloor()

    public init(alpha: Double = 0.05, minPoints: Int = 10, clip: Double = 4, name: String = "ewma") {
        self.alpha = min(max(alpha, 1e-6), 1)
        self.minPoints = max(2, minPoints)
        self.clip = clip
        self.name = name
    }

    public mutating func update(time: Double, value: Double) -> AnomalyScore {
        guard value.isFinite else { return .quiet(name, reason: "non-finite value ignored", value: value) }
        let gap = max(1, spacing.observe(time))
        var result = AnomalyScore.quiet(name, reason: "warming up", value: value)
        let sd = max(variance.squareRoot(), floor.value)
        if count >= minPoints {
            let z = (value - mean) / sd
            let s = AnomalyCalibration.score(z: z)
            result = AnomalyScore(
                score: s, detector: name,
                reason: s > 0 ? (z > 0 ? "above EWMA ± 3σ" : "below EWMA ± 3σ") : "normal",
                expected: (mean - 3 * sd)...(mean + 3 * sd), value: value)
        }
        floor.observe(value)
        count += 1
        if count == 1 {
            mean = value
            variance = 0
        } else {
            let a0 = max(alpha, 1.0 / Double(count))
            let a = gap > 1.5 ? 1 - pow(1 - a0, min(gap, 1e6)) : a0
            let x = count > minPoints ? min(max(value, mean - clip * sd), mean + clip * sd) : value
            let d = x - mean
            mean += a * d
            // The variance keeps its per-step update: a gap makes the old mean stale, not the spread.
            variance = (1 - a0) * (variance + a0 * d * d)
            if !variance.isFinite { variance = .greatestFiniteMagnitude }
        }
        return result
    }
}
