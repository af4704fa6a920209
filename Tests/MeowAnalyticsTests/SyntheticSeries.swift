import Foundation

@testable import MeowAnalytics

/// Deterministic synthetic series for detector tests.
struct Synthetic {
    private var state: UInt64

    init(seed: UInt64 = 42) { state = seed &* 6364136223846793005 &+ 1442695040888963407 }

    mutating func uniform() -> Double {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Double(state >> 11) / Double(1 << 53)
    }

    /// Standard normal (Box–Muller).
    mutating func gaussian() -> Double {
        let u1 = max(uniform(), 1e-12), u2 = uniform()
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }

    /// `n` points every `step` seconds: level + sigma·noise + optional daily sine of `amplitude`.
    mutating func series(
        n: Int, step: Double = 300, level: Double = 100, sigma: Double = 1,
        amplitude: Double = 0, start: Double = 1_400_000_000
    ) -> (times: [Double], values: [Double]) {
        var t: [Double] = [], v: [Double] = []
        for i in 0..<n {
            let time = start + Double(i) * step
            t.append(time)
            v.append(level + sigma * gaussian() + amplitude * sin(2 * .pi * time / 86_400))
        }
        return (t, v)
    }
}

func run<D: StreamingDetector>(_ detector: D, _ times: [Double], _ values: [Double]) -> [Double] {
    var d = detector
    return d.scores(times: times, values: values).map(\.score)
}

/// All registered detectors, for tests that must hold for every one of them.
let allDetectorNames = DetectorRegistry.names

func runNamed(_ name: String, _ times: [Double], _ values: [Double]) -> [AnomalyScore] {
    var d = DetectorRegistry.make(name)!
    return d.scores(times: times, values: values)
}
