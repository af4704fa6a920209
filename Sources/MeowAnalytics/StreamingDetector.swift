import Foundation

/// The verdict of a streaming detector for one point.
///
/// `score` is in `0...1`: 0 means "nothing unusual", values close to 1 mean "very unlikely under the
/// behaviour learned so far" (see ``AnomalyCalibration`` for the mapping). The explanation is built
/// lazily from structured fields, so scoring a long series costs no string formatting.
public struct AnomalyScore: Sendable, Equatable {
    /// Calibrated anomaly score in `0...1`.
    public var score: Double
    /// Name of the detector that produced (or, for the ensemble, dominated) this score.
    public var detector: String
    /// Short machine-friendly reason, e.g. `"above expected range"`, `"level shift up"`, `"warming up"`.
    public var reason: String
    /// The range the detector expected the value to fall in, when it has one.
    public var expected: ClosedRange<Double>?
    /// The observed value.
    public var value: Double

    public init(score: Double, detector: String, reason: String, expected: ClosedRange<Double>? = nil, value: Double) {
        self.score = score.isFinite ? min(1, max(0, score)) : (score.isNaN ? 0 : (score > 0 ? 1 : 0))
        self.detector = detector
        self.reason = reason
        self.expected = expected
        self.value = value
    }

    /// A zero score, used while warming up or for ignored points.
    public static func quiet(_ detector: String, reason: String, value: Double, expected: ClosedRange<Double>? = nil)
        -> AnomalyScore
    {
        AnomalyScore(score: 0, detector: detector, reason: reason, expected: expected, value: value)
    }

    /// One-line human explanation: which detector fired, why, and the expected range.
    public var explanation: String {
        var text = "\(detector): \(reason)"
        if let expected {
            text +=
                " (value \(AnomalyScore.format(value)), expected \(AnomalyScore.format(expected.lowerBound))…\(AnomalyScore.format(expected.upperBound)))"
        }
        return text
    }

    static func format(_ x: Double) -> String {
        if !x.isFinite { return "\(x)" }
        return String(format: "%.6g", x)
    }
}

/// A streaming (online) anomaly detector.
///
/// Contract:
/// - `update` is called once per point, in ascending time order; the returned score uses only the
///   points seen so far (no look-ahead).
/// - `time` is in seconds (any epoch); detectors never read the clock.
/// - Cost per point is O(1) or O(window); memory is bounded by the detector's parameters.
/// - Non-finite values (NaN, ±inf) are ignored: they score 0 and do not change the state.
/// - Detectors are value types: copy one to fork its state (e.g. one per entity in a rule engine).
public protocol StreamingDetector: Sendable {
    /// Registry name, e.g. `"robust_z"`.
    var name: String { get }
    /// Feeds one point and returns its anomaly score.
    mutating func update(time: Double, value: Double) -> AnomalyScore
}

extension StreamingDetector {
    /// Scores a whole series in order (convenience for batch use and tests).
    public mutating func scores(times: [Double], values: [Double]) -> [AnomalyScore] {
        precondition(times.count == values.count, "times and values must have the same length")
        var out: [AnomalyScore] = []
        out.reserveCapacity(values.count)
        for i in values.indices { out.append(update(time: times[i], value: values[i])) }
        return out
    }
}

/// A type-erased detector, so heterogeneous detectors can be stored and copied as values.
public struct AnyStreamingDetector: StreamingDetector {
    private var box: any StreamingDetector
    public init(_ detector: any StreamingDetector) { box = detector }
    public var name: String { box.name }
    public mutating func update(time: Double, value: Double) -> AnomalyScore { box.update(time: time, value: value) }
}

/// Maps detector statistics to the common `0...1` score.
///
/// Every detector reduces a point to a standardized deviation `z` (deviation from its expectation
/// divided by the learned robust scale). The score is `z² / (z² + z0²)` above a noise floor `zFloor`
/// (0 below it): with the defaults (`zFloor = 2`, `z0 = 4`) a 3σ deviation scores 0.36, 4σ 0.5,
/// 6σ 0.69, 10σ 0.86, 20σ 0.96. The mapping never saturates, so a single threshold can still rank
/// very large deviations, and it is the same for all detectors so scores are comparable.
public enum AnomalyCalibration {
    /// Deviations below this many robust σ score 0.
    public static let zFloor = 2.0
    /// The deviation (in robust σ) that scores 0.5.
    public static let zHalf = 4.0

    /// Score for a standardized deviation `z` (sign ignored).
    @inlinable
    public static func score(z: Double) -> Double {
        let a = abs(z)
        if a.isNaN { return 0 }
        if a.isInfinite { return 1 }
        if a <= zFloor { return 0 }
        let e = a - zFloor
        let h = zHalf - zFloor
        return e * e / (e * e + h * h)
    }

    /// Inverse of ``score(z:)``: the deviation that produces a given score.
    public static func z(forScore s: Double) -> Double {
        if s <= 0 { return zFloor }
        if s >= 1 { return .infinity }
        let h = zHalf - zFloor
        return zFloor + h * (s / (1 - s)).squareRoot()
    }
}

/// Learns the typical spacing between points online (median of the first deltas, then a slow
/// robust update), and flags gaps.
public struct SpacingEstimator: Sendable, Equatable {
    public private(set) var lastTime: Double?
    public private(set) var spacing: Double?
    private var early: [Double] = []
    /// Number of early deltas whose median fixes the initial spacing.
    public let warmup: Int

    public init(warmup: Int = 16) { self.warmup = max(1, warmup) }

    /// Registers a timestamp; returns the gap in units of the learned spacing (1 = regular, 0 if unknown).
    public mutating func observe(_ t: Double) -> Double {
        defer { lastTime = t }
        guard let last = lastTime else { return 0 }
        let d = t - last
        guard d > 0, d.isFinite else { return 0 }
        if let s = spacing {
            // Slow multiplicative drift towards the observed delta, capped so gaps do not inflate it.
            let ratio = min(max(d / s, 0.5), 2.0)
            spacing = s * pow(ratio, 0.01)
            return d / s
        }
        early.append(d)
        if early.count >= warmup {
            spacing = early.sorted()[early.count / 2]
            early = []
        }
        return 1
    }

    /// Best current estimate (the running median of early deltas if not yet fixed).
    public var current: Double? {
        if let spacing { return spacing }
        if early.isEmpty { return nil }
        return early.sorted()[early.count / 2]
    }
}

/// Exponentially weighted mean and variance (West's incremental form), numerically safe for huge values
/// (values are centred on the first observation).
public struct EWStats: Sendable, Equatable {
    public let alpha: Double
    public private(set) var count = 0
    private var origin = 0.0
    private var m = 0.0
    private var v = 0.0

    public init(alpha: Double) { self.alpha = alpha }

    public var mean: Double { origin + m }
    public var variance: Double { v }
    public var std: Double { v.squareRoot() }

    public mutating func add(_ x: Double) {
        if count == 0 {
            origin = x
            m = 0
            v = 0
            count = 1
            return
        }
        count += 1
        let y = x - origin
        // Use the exact average while fewer than 1/alpha points have been seen.
        let a = max(alpha, 1.0 / Double(count))
        let d = y - m
        let incr = a * d
        m += incr
        v = (1 - a) * (v + d * incr)
        if !v.isFinite { v = .greatestFiniteMagnitude }
    }
}

/// Tracks a floor for the scale of a series, so constant or quantised series do not divide by zero:
/// the smallest non-zero absolute step seen recently, and a tiny fraction of the magnitude.
public struct ScaleFloor: Sendable, Equatable {
    private var last: Double?
    private var minStep = Double.infinity
    private var magnitude = 0.0

    public init() {}

    public mutating func observe(_ x: Double) {
        if let last {
            let d = abs(x - last)
            if d > 0 && d.isFinite { minStep = min(minStep, d) }
        }
        magnitude = max(magnitude * 0.999, abs(x))
        last = x
    }

    /// A positive scale below which a spread is treated as "no variation".
    public var value: Double {
        let rel = max(magnitude * 1e-9, 1e-12)
        if minStep.isFinite { return max(minStep * 0.5, rel) }
        return rel
    }
}
