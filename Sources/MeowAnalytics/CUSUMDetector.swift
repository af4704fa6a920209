import Foundation

/// Two-sided CUSUM change-point detector (level shifts).
///
/// Standardises each point against a slowly adapting reference (EW mean and EW mean absolute
/// deviation), clips it to `±clip` so a lone spike cannot trigger a change on its own, and accumulates
/// `S⁺ = max(0, S⁺ + z − k)` and `S⁻ = max(0, S⁻ − z − k)`. The score grows with `max(S⁺, S⁻)/h`
/// (`S = h` scores 0.5). When a sum exceeds `resetFactor·h` the change is accepted: the reference jumps to
/// the recent (fast EW) level and the sums restart, so a lasting shift alarms once, not forever.
/// Cost O(1). After a gap longer than `gapFactor` × the learned spacing the sums restart and the
/// reference jumps to the first value after the gap (a level change across a gap is the seasonal
/// detectors' job).
///
/// Parameters:
/// - `k` (default 0.5): allowance in σ (half the smallest shift worth detecting).
/// - `h` (default 5): decision interval in σ.
/// - `referenceAlpha` (default 0.01): adaptation of the reference mean/deviation.
/// - `clip` (default 3): per-point clip in σ.
/// - `resetFactor` (default 2): accept the change when the sum exceeds `resetFactor·h`.
/// - `minPoints` (default 20): points needed before scoring.
public struct CUSUMDetector: StreamingDetector {
    public let name: String
    public let k: Double
    public let h: Double
    public let referenceAlpha: Double
    public let clip: Double
    public let resetFactor: Double
    public let minPoints: Int
    private var reference = 0.0
    private var dev = 0.0
    private var fast = 0.0
    private var fastDev = 0.0
    private var up = 0.0
    private var down = 0.0
    private var count = 0
    private var floor = ScaleFloor()
    private var spacing = SpacingEstimator()
    /// Gap (in learned spacings) after which the sums restart (default 3).
    public let gapFactor: Double = 3

    public init(
        k: Double = 0.5, h: Double = 5, referenceAlpha: Double = 0.01, clip: Double = 3,
        resetFactor: Double = 2, minPoints: Int = 20, name: String = "cusum"
    ) {
        self.k = k
        self.h = h
        self.referenceAlpha = referenceAlpha
        self.clip = clip
        self.resetFactor = resetFactor
        self.minPoints = max(2, minPoints)
        self.name = name
    }

    public mutating func update(time: Double, value: Double) -> AnomalyScore {
        guard value.isFinite else { return .quiet(name, reason: "non-finite value ignored", value: value) }
        defer { floor.observe(value) }
        if spacing.observe(time) > gapFactor && count > 1 {
            up = 0; down = 0
            reference = value; fast = value
        }
        count += 1
        if count == 1 {
            reference = value; fast = value
            return .quiet(name, reason: "warming up", value: value)
        }
        let sd = max(1.25 * dev, floor.value)
        let a = max(referenceAlpha, 1 / Double(count))
        var result = AnomalyScore.quiet(name, reason: "warming up", value: value)
        if count > minPoints {
            let z = min(max((value - reference) / sd, -clip), clip)
            up = max(0, up + z - k)
            down = max(0, down - z - k)
            let s = max(up, down)
            let score = AnomalyCalibration.score(z: AnomalyCalibration.zHalf * s / h)
            result = AnomalyScore(
                score: score, detector: name,
                reason: score > 0 ? (up >= down ? "level shift up" : "level shift down") : "normal",
                expected: (reference - 3 * sd)...(reference + 3 * sd), value: value)
            if s > resetFactor * h {
                // Accept the new level.
                reference = fast
                dev = max(dev, fastDev)
                up = 0; down = 0
            }
        }
        let fa = max(0.2, 1 / Double(count))
        fastDev += fa * (abs(value - fast) - fastDev)
        fast += fa * (value - fast)
        let x = count > minPoints ? min(max(value, reference - 4 * sd), reference + 4 * sd) : value
        dev += a * (abs(x - reference) - dev)
        reference += a * (x - reference)
        return result
    }
}
