import Foundation

/// Seasonal baseline: "is this value normal for this time of day / day of week?"
///
/// Learns online, per phase bin of the day (and of the week), an exponentially weighted mean and mean
/// absolute deviation of the values. The expected value at time t is the (lightly smoothed) profile of
/// the bin containing t; `z = (x − expected)/scale` with the bin's own spread (never less than the
/// model's typical residual). Both a daily and a weekly profile are learned; the weekly one is used once
/// it has seen two weeks and predicts clearly better (EW residual error < 0.9 × daily's).
/// Until a profile has seen each bin twice, the detector falls back to a global EW mean/deviation.
///
/// Bins are indexed by time (not by point count), so gaps and irregular sampling are handled
/// naturally. Cost O(1) per point; memory O(bins) (at most 288 daily and 2016 weekly bins).
///
/// Parameters:
/// - `binAlpha` (default 0.2): per-visit smoothing of a bin (memory ≈ 5 periods).
/// - `maxDailyBins` (default 288), `maxWeeklyBins` (default 2016): resolution caps.
/// - `fallbackAlpha` (default 0.02): smoothing of the global fallback.
public struct SeasonalBaselineDetector: StreamingDetector {
    public let name: String
    public let binAlpha: Double
    public let maxDailyBins: Int
    public let maxWeeklyBins: Int
    public let fallbackAlpha: Double

    struct Profile: Sendable {
        let period: Double
        var mean: [Double]
        var dev: [Double]
        var visits: [Int]
        var lastBin = -1
        var error = 0.0  // EW mean |residual| while ready
        var errorCount = 0
        init(period: Double, bins: Int) {
            self.period = period
            mean = Array(repeating: 0, count: bins)
            dev = Array(repeating: 0, count: bins)
            visits = Array(repeating: 0, count: bins)
        }
        func bin(_ t: Double) -> Int {
            let phase = t.truncatingRemainder(dividingBy: period)
            let p = phase < 0 ? phase + period : phase
            return min(mean.count - 1, Int(p / period * Double(mean.count)))
        }
        func ready(_ b: Int) -> Bool { visits[b] >= 2 }
        /// Smoothed expectation and spread for bin b (neighbours weighted 1:2:1 when ready).
        func expect(_ b: Int) -> (Double, Double) {
            let n = mean.count
            var wsum = 2.0, m = 2 * mean[b], d = 2 * dev[b]
            for nb in [(b + n - 1) % n, (b + 1) % n] where ready(nb) && n >= 8 {
                wsum += 1; m += mean[nb]; d += dev[nb]
            }
            return (m / wsum, d / wsum)
        }
    }

    private var spacing = SpacingEstimator()
    private var daily: Profile?
    private var weekly: Profile?
    private var initialised = false
    private var global = EWStats(alpha: 0.02)
    private var globalDev = 0.0
    private var count = 0
    private var floor = ScaleFloor()

    public init(
        binAlpha: Double = 0.2, maxDailyBins: Int = 288, maxWeeklyBins: Int = 2016,
        fallbackAlpha: Double = 0.02, name: String = "seasonal"
    ) {
        self.binAlpha = binAlpha
        self.maxDailyBins = max(4, maxDailyBins)
        self.maxWeeklyBins = max(8, maxWeeklyBins)
        self.fallbackAlpha = fallbackAlpha
        self.name = name
        global = EWStats(alpha: fallbackAlpha)
    }

    public mutating func update(time: Double, value: Double) -> AnomalyScore {
        guard value.isFinite else { return .quiet(name, reason: "non-finite value ignored", value: value) }
        _ = spacing.observe(time)
        if !initialised, let s = spacing.spacing {
            initialised = true
            let day = 86_400.0, week = 604_800.0
            if s <= day / 4 { daily = Profile(period: day, bins: max(4, min(maxDailyBins, Int((day / s).rounded())))) }
            if s <= week / 14 { weekly = Profile(period: week, bins: max(8, min(maxWeeklyBins, Int((week / s).rounded())))) }
        }
        let fl = floor.value
        var result = AnomalyScore.quiet(name, reason: "warming up", value: value)
        var expected: Double?
        var scale = 0.0
        var which = ""
        // Choose the profile.
        var useWeekly = false
        if let w = weekly, let d = daily, w.ready(w.bin(time)), w.errorCount > 50, d.errorCount > 50,
            w.error < 0.9 * d.error
        {
            useWeekly = true
        }
        if useWeekly, let w = weekly {
            let (m, dv) = w.expect(w.bin(time)); expected = m; scale = 1.25 * max(dv, w.error); which = "weekly"
        } else if let d = daily, d.ready(d.bin(time)) {
            let (m, dv) = d.expect(d.bin(time)); expected = m; scale = 1.25 * max(dv, d.error); which = "daily"
        } else if count >= 10 {
            expected = global.mean; scale = 1.25 * globalDev; which = "global"
        }
        if let e = expected {
            let sd = max(scale, fl)
            let z = (value - e) / sd
            let s = AnomalyCalibration.score(z: z)
            result = AnomalyScore(
                score: s, detector: name,
                reason: s > 0 ? "\(z > 0 ? "above" : "below") \(which) baseline" : "normal",
                expected: (e - 3 * sd)...(e + 3 * sd), value: value)
        }
        // Learn.
        floor.observe(value)
        count += 1
        let gsd = max(1.25 * globalDev, fl)
        let gx = count > 10 ? min(max(value, global.mean - 4 * gsd), global.mean + 4 * gsd) : value
        if count > 1 { globalDev += max(fallbackAlpha, 1 / Double(count)) * (abs(gx - global.mean) - globalDev) }
        global.add(gx)
        if daily != nil { learn(&daily!, time: time, value: value, floor: fl) }
        if weekly != nil { learn(&weekly!, time: time, value: value, floor: fl) }
        return result
    }

    private func learn(_ p: inout Profile, time: Double, value: Double, floor fl: Double) {
        let b = p.bin(time)
        if p.ready(b) {
            let (m, dv) = p.expect(b)
            let r = abs(value - m)
            p.errorCount += 1
            p.error += max(0.01, 1 / Double(p.errorCount)) * (min(r, 4 * max(1.25 * dv, fl) + fl) - p.error)
        }
        // One update per bin visit per period (several points can fall into one bin: average them in).
        let v = p.visits[b]
        if v == 0 {
            p.mean[b] = value
            p.dev[b] = 0
            p.visits[b] = 1
        } else {
            let a = p.lastBin == b ? binAlpha * 0.5 : max(binAlpha, 1 / Double(v + 1))
            let sd = max(1.25 * p.dev[b], fl)
            let x = v >= 2 ? min(max(value, p.mean[b] - 4 * sd), p.mean[b] + 4 * sd) : value
            let d = abs(x - p.mean[b])
            p.dev[b] += (v == 1 ? 0.5 : a) * (d - p.dev[b])
            p.mean[b] += a * (x - p.mean[b])
            if p.lastBin != b { p.visits[b] = v + 1 }
        }
        p.lastBin = b
    }
}
