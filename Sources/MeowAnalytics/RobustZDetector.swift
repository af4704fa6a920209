import Foundation

/// Robust z-score over a sliding window: `z = (x − median) / (1.4826 · MAD)`.
///
/// The score at time t compares the new point with the previous `window` points (the point itself is
/// added afterwards, so a spike cannot hide itself). Median and MAD make the detector insensitive to
/// the outliers it is looking for. Cost: O(window) per point (sorted-window insert/remove and a
/// linear MAD search), memory O(window).
///
/// Parameters:
/// - `window` (default 64): number of past points in the reference window.
/// - `minPoints` (default 12): points needed before scoring (scores 0 while warming up).
///
/// Constant series: the scale never drops below ``ScaleFloor`` (half the smallest step seen, or a
/// tiny fraction of the magnitude), so the first change after a flat stretch scores close to 1.
/// Gaps are ignored: the window is counted in points, not time.
public struct RobustZDetector: StreamingDetector {
    public let name: String
    public let window: Int
    public let minPoints: Int
    private var ring: [Double] = []
    private var head = 0
    private var sorted: [Double] = []
    private var floor = ScaleFloor()

    public init(window: Int = 64, minPoints: Int = 12, name: String = "robust_z") {
        self.window = max(3, window)
        self.minPoints = max(3, min(minPoints, self.window))
        self.name = name
        ring.reserveCapacity(self.window)
        sorted.reserveCapacity(self.window)
    }

    /// Median and robust σ (1.4826·MAD, floored) of the current window, or nil while warming up.
    public var baseline: (median: Double, scale: Double)? {
        guard sorted.count >= minPoints else { return nil }
        let med = Self.median(sorted)
        return (med, max(1.4826 * Self.mad(sorted, median: med), floor.value))
    }

    public mutating func update(time: Double, value: Double) -> AnomalyScore {
        guard value.isFinite else { return .quiet(name, reason: "non-finite value ignored", value: value) }
        var result = AnomalyScore.quiet(name, reason: "warming up", value: value)
        if let (med, scale) = baseline {
            let z = (value - med) / scale
            let expected = (med - 3 * scale)...(med + 3 * scale)
            let s = AnomalyCalibration.score(z: z)
            result = AnomalyScore(
                score: s, detector: name,
                reason: s > 0
                    ? (z > 0 ? "above robust range (median ± 3·MAD)" : "below robust range (median ± 3·MAD)") : "normal",
                expected: expected, value: value)
        }
        floor.observe(value)
        insert(value)
        return result
    }

    private mutating func insert(_ x: Double) {
        if ring.count < window {
            ring.append(x)
        } else {
            let old = ring[head]
            ring[head] = x
            head = (head + 1) % window
            let idx = Self.lowerBound(sorted, old)
            sorted.remove(at: idx)
        }
        sorted.insert(x, at: Self.lowerBound(sorted, x))
    }

    static func lowerBound(_ a: [Double], _ x: Double) -> Int {
        var lo = 0, hi = a.count
        while lo < hi { let m = (lo + hi) >> 1; if a[m] < x { lo = m + 1 } else { hi = m } }
        return lo
    }

    static func median(_ a: [Double]) -> Double {
        let n = a.count
        return n % 2 == 1 ? a[n / 2] : 0.5 * (a[n / 2 - 1] + a[n / 2])
    }

    /// Median absolute deviation of a sorted array, in O(n): deviations are merged outwards from the median.
    static func mad(_ a: [Double], median m: Double) -> Double {
        let n = a.count
        if n == 0 { return 0 }
        var r = lowerBound(a, m)
        var l = r - 1
        var devs: (Double, Double) = (0, 0)
        let need = n / 2  // 0-based index of the upper median of the deviations
        for k in 0...need {
            let dl = l >= 0 ? m - a[l] : .infinity
            let dr = r < n ? a[r] - m : .infinity
            let d: Double
            if dl <= dr { d = dl; l -= 1 } else { d = dr; r += 1 }
            if k == need - 1 { devs.0 = d }
            if k == need { devs.1 = d }
        }
        return n % 2 == 1 ? devs.1 : 0.5 * (devs.0 + devs.1)
    }
}
