import Foundation

/// Forecast-residual detector using additive Holt–Winters (level, damped trend, daily season).
///
/// Each point is first forecast from the state built on earlier points; `z = (x − forecast)/σ` where σ
/// is 1.25 × the EW mean absolute one-step residual. The state is then updated with the value
/// winsorised to `forecast ± clip·σ`, so anomalies do not corrupt the forecast.
/// The season length is learned from the data's spacing: one day (`86400 s / spacing` points) when that is
/// between 4 and `maxSeason` points, otherwise no season. Season slots are indexed by time of day, so
/// gaps keep the phase; over a gap the trend is extrapolated for the missing steps.
/// Cost O(1) per point; memory O(season).
///
/// Parameters:
/// - `alpha` (default 0.2): level smoothing; `beta` (default 0.01): trend smoothing;
///   `gamma` (default 0.1): seasonal smoothing; `phi` (default 0.98): trend damping.
/// - `residualAlpha` (default 0.02): smoothing of the residual scale.
/// - `clip` (default 4): winsorisation limit in σ.
/// - `maxSeason` (default 2016): largest season in points.
/// - `minPoints` (default 20): points needed before scoring.
public struct HoltWintersDetector: StreamingDetector {
    public let name: String
    public let alpha: Double
    public let beta: Double
    public let gamma: Double
    public let phi: Double
    public let residualAlpha: Double
    public let clip: Double
    public let maxSeason: Int
    public let minPoints: Int

    private var spacing = SpacingEstimator()
    private var level = 0.0
    private var trend = 0.0
    private var season: [Double] = []
    private var seasonSeen: [Bool] = []
    private var seasonDecided = false
    private var resid = 0.0
    private var residCount = 0
    private var count = 0
    private var floor = ScaleFloor()

    public init(
        alpha: Double = 0.2, beta: Double = 0.01, gamma: Double = 0.1, phi: Double = 0.98,
        residualAlpha: Double = 0.02, clip: Double = 4, maxSeason: Int = 2016, minPoints: Int = 20,
        name: String = "holt_winters"
    ) {
        self.alpha = alpha; self.beta = beta; self.gamma = gamma; self.phi = phi
        self.residualAlpha = residualAlpha; self.clip = clip; self.maxSeason = maxSeason
        self.minPoints = max(3, minPoints); self.name = name
    }

    private func slot(_ t: Double) -> Int? {
        guard !season.isEmpty else { return nil }
        let day = 86_400.0
        var p = t.truncatingRemainder(dividingBy: day)
        if p < 0 { p += day }
        return min(season.count - 1, Int(p / day * Double(season.count)))
    }

    public mutating func update(time: Double, value: Double) -> AnomalyScore {
        guard value.isFinite else { return .quiet(name, reason: "non-finite value ignored", value: value) }
        let gap = spacing.observe(time)
        if !seasonDecided, let s = spacing.spacing {
            seasonDecided = true
            let m = Int((86_400.0 / s).rounded())
            if m >= 4 && m <= maxSeason {
                season = Array(repeating: 0, count: m)
                seasonSeen = Array(repeating: false, count: m)
            }
        }
        count += 1
        if count == 1 {
            floor.observe(value)
            level = value
            return .quiet(name, reason: "warming up", value: value)
        }
        let steps = max(1, gap.rounded())
        // Damped-trend forecast for `steps` ahead.
        var trendSum = 0.0, ph = phi
        for _ in 0..<Int(min(steps, 1000)) { trendSum += ph * trend; ph *= phi }
        let sl = slot(time)
        let seasonal = sl.map { seasonSeen[$0] ? season[$0] : 0 } ?? 0
        let forecast = level + trendSum + seasonal
        let sd = max(1.25 * resid, floor.value)
        var result = AnomalyScore.quiet(name, reason: "warming up", value: value)
        let residual = value - forecast
        if count > minPoints {
            let z = residual / sd
            let s = AnomalyCalibration.score(z: z)
            result = AnomalyScore(
                score: s, detector: name,
                reason: s > 0 ? (z > 0 ? "above Holt-Winters forecast" : "below Holt-Winters forecast") : "normal",
                expected: (forecast - 3 * sd)...(forecast + 3 * sd), value: value)
        }
        // Robust update.
        floor.observe(value)
        let x = count > minPoints ? min(max(value, forecast - clip * sd), forecast + clip * sd) : value
        residCount += 1
        let ra = max(residualAlpha, 1 / Double(residCount))
        resid += ra * (min(abs(residual), clip * sd + floor.value) - resid)
        let prevLevel = level
        let newLevel = alpha * (x - seasonal) + (1 - alpha) * (level + trendSum)
        trend = beta * (newLevel - prevLevel) / steps + (1 - beta) * phi * trend
        level = newLevel
        if let sl {
            if seasonSeen[sl] {
                season[sl] = gamma * (x - level) + (1 - gamma) * season[sl]
            } else {
                season[sl] = x - level
                seasonSeen[sl] = true
            }
        }
        return result
    }
}
