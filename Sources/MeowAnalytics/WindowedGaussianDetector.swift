import Foundation

/// Baseline: windowed Gaussian, after NAB's "windowedGaussian" reference detector.
///
/// `z = (x − mean)/std` over the previous `window` points (plain mean and standard deviation, not
/// robust). Kept as a yardstick: the default ensemble must beat it. Cost O(1) per point (running
/// sums, re-centred for numerical safety), memory O(window).
///
/// Parameters: `window` (default 6400, NAB's value), `minPoints` (default 10).
public struct WindowedGaussianDetector: StreamingDetector {
    public let name: String
    public let window: Int
    public let minPoints: Int
    private var ring: [Double] = []
    private var head = 0
    private var origin: Double?
    private var sum = 0.0
    private var sumSq = 0.0
    private var floor = ScaleFloor()

    public init(window: Int = 6400, minPoints: Int = 10, name: String = "windowed_gaussian") {
        self.window = max(2, window)
        self.minPoints = max(2, minPoints)
        self.name = name
    }

    public mutating func update(time: Double, value: Double) -> AnomalyScore {
        guard value.isFinite else { return .quiet(name, reason: "non-finite value ignored", value: value) }
        let o = origin ?? value
        origin = o
        var result = AnomalyScore.quiet(name, reason: "warming up", value: value)
        let n = Double(ring.count)
        if ring.count >= minPoints {
            let m = sum / n
            let v = max(0, sumSq / n - m * m)
            let sd = max(v.squareRoot(), floor.value)
            let mean = o + m
            let z = (value - mean) / sd
            let s = AnomalyCalibration.score(z: z)
            result = AnomalyScore(
                score: s, detector: name,
                reason: s > 0 ? (z > 0 ? "above window mean ± 3σ" : "below window mean ± 3σ") : "normal",
                expected: (mean - 3 * sd)...(mean + 3 * sd), value: value)
        }
        floor.observe(value)
        let y = value - o
        if ring.count < window {
            ring.append(y)
        } else {
            let old = ring[head]
            ring[head] = y
            head = (head + 1) % window
            sum -= old
            sumSq -= old * old
        }
        sum += y
        sumSq += y * y
        return result
    }
}
