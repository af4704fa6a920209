import Foundation

/// The detectors anomaly rules name (`detect.robust_z { ... }` etc.): each judges every point of a series
/// window against the points before it, never after (no look-ahead).
///
/// ```swift
/// let d = SeriesDetector.robustZ(window: 30, threshold: 3.5, direction: .up)
/// let verdicts = d.evaluate([1, 1.1, 0.9, 1, 5])   // last point: anomalous, expected ≈ 0.8…1.2
/// ```
public enum SeriesDetector: Sendable, Hashable {
    public enum Direction: String, Sendable, Hashable, CaseIterable { case up, down, both }

    /// Fires when a value is above `above` or below `below`.
    case threshold(above: Double?, below: Double?)
    /// Robust z-score against the median and MAD of the previous `window` points; with `minChange` > 0
    /// the point must also differ from the median by at least that fraction of it (so a quiet series'
    /// small moves, such as a daily ramp, do not fire on a tiny MAD).
    case robustZ(window: Int, threshold: Double, direction: Direction, minChange: Double = 0)
    /// z-score against an exponentially weighted mean and variance (`alpha` = weight of the newest point).
    case ewma(alpha: Double, threshold: Double, direction: Direction)
    /// meow's default streaming ensemble (docs/detectors.md): fires when its calibrated score ≥ `score`.
    case ensemble(score: Double)

    /// The verdict on one point.
    public struct Verdict: Sendable, Hashable {
        public var anomalous: Bool
        public var value: Double
        /// What the detector expected, when it can say.
        public var expected: ClosedRange<Double>?
        /// The detector's measure: z for robust_z and ewma, the score for ensemble, the value for threshold.
        public var score: Double
    }

    /// Minimum history before robust_z and ewma judge a point.
    public static let minimumHistory = 5

    /// Verdicts on every point, or only on the last `last` points when given (robust_z and threshold judge
    /// each point on its own, so the tail costs only its own points; ewma and the ensemble still read the
    /// whole series to build their state).
    public func evaluate(_ values: [Double], times: [Double]? = nil, last: Int? = nil) -> [Verdict] {
        let all = evaluateAll(values, times: times, from: last.map { max(0, values.count - $0) } ?? 0)
        guard let last else { return all }
        return Array(all.suffix(last))
    }

    private func evaluateAll(_ values: [Double], times: [Double]?, from first: Int) -> [Verdict] {
        switch self {
        case .threshold(let above, let below):
            return values[first...].map { v in
                let hi = above.map { v > $0 } ?? false
                let lo = below.map { v < $0 } ?? false
                return Verdict(anomalous: hi || lo, value: v, expected: (below ?? -.infinity)...(above ?? .infinity), score: v)
            }
        case .robustZ(let window, let threshold, let direction, let minChange):
            var out: [Verdict] = []
            out.reserveCapacity(values.count - first)
            for i in first..<values.count {
                let lo = max(0, i - window)
                guard i - lo >= Self.minimumHistory else {
                    out.append(Verdict(anomalous: false, value: values[i], expected: nil, score: 0))
                    continue
                }
                let history = Array(values[lo..<i])
                let median = Self.median(history)
                var sigma = 1.4826 * Self.median(history.map { abs($0 - median) })
                if sigma == 0 {
                    // A flat history: use the mean absolute deviation, then a tiny fraction of the level, so a
                    // constant series doesn't make every change infinitely surprising nor blind the detector.
                    let mad = history.reduce(0) { $0 + abs($1 - median) } / Double(history.count)
                    sigma = mad > 0 ? 1.2533 * mad : max(abs(median) * 0.01, 1e-9)
                }
                let z = (values[i] - median) / sigma
                let bigEnough = abs(values[i] - median) >= minChange * abs(median)
                out.append(
                    Verdict(
                        anomalous: bigEnough && Self.exceeds(z, threshold, direction), value: values[i],
                        expected: (median - threshold * sigma)...(median + threshold * sigma), score: z))
            }
            return out
        case .ewma(let alpha, let threshold, let direction):
            var out: [Verdict] = []
            var mean = 0.0, variance = 0.0
            for (i, v) in values.enumerated() {
                if i == 0 {
                    mean = v
                    out.append(Verdict(anomalous: false, value: v, expected: nil, score: 0))
                    continue
                }
                let sd = max(variance.squareRoot(), abs(mean) * 0.01, 1e-9)
                let z = (v - mean) / sd
                let judged = i >= Self.minimumHistory
                out.append(
                    Verdict(
                        anomalous: judged && Self.exceeds(z, threshold, direction), value: v,
                        expected: judged ? (mean - threshold * sd)...(mean + threshold * sd) : nil, score: judged ? z : 0))
                let diff = v - mean
                mean += alpha * diff
                variance = (1 - alpha) * (variance + alpha * diff * diff)
            }
            return out
        case .ensemble(let cutoff):
            guard var detector = DetectorRegistry.make("default") else { return [] }
            return values.enumerated().map { i, v in
                let t = times?[i] ?? Double(i) * 60
                let s = detector.update(time: t, value: v)
                return Verdict(anomalous: s.score >= cutoff, value: v, expected: s.expected, score: s.score)
            }
        }
    }

    static func exceeds(_ z: Double, _ threshold: Double, _ direction: Direction) -> Bool {
        switch direction {
        case .up: z >= threshold
        case .down: z <= -threshold
        case .both: abs(z) >= threshold
        }
    }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        let n = s.count
        guard n > 0 else { return 0 }
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
    }

    /// A short name for messages: "robust_z", "ewma", ...
    public var name: String {
        switch self {
        case .threshold: "threshold"
        case .robustZ: "robust_z"
        case .ewma: "ewma"
        case .ensemble: "default"
        }
    }
}
