import Foundation
import Testing

@testable import MeowAnalytics

@Suite("Streaming detectors on synthetic series")
struct DetectorTests {
    static let spikeDetectors = [
        "default", "robust_z", "ewma", "seasonal", "holt_winters", "windowed_gaussian", "cad", "likelihood",
    ]

    @Test("a 12σ spike outscores every normal point", arguments: spikeDetectors)
    func spikeIsDetected(name: String) {
        var g = Synthetic(seed: 1)
        var (t, v) = g.series(n: 1500)
        v[1200] += 12
        let s = runNamed(name, t, v).map(\.score)
        let normalMax = s[300..<1200].max()!
        #expect(s[1200] > 0.5, "spike score \(s[1200])")
        if name == "cad" {
            // Context novelty saturates: a never-seen level scores 1 whether it is 4σ or 12σ away.
            #expect(s[1200] == 1 && s[1200] >= normalMax)
        } else {
            #expect(s[1200] > normalMax, "spike \(s[1200]) vs normal max \(normalMax)")
        }
    }

    @Test("a level shift is detected within a few points", arguments: ["default", "cusum", "ewma", "holt_winters", "robust_z"])
    func levelShiftIsDetected(name: String) {
        var g = Synthetic(seed: 2)
        var (t, v) = g.series(n: 1500)
        for i in 1000..<1500 { v[i] += 6 }
        let s = runNamed(name, t, v).map(\.score)
        let normalMax = s[300..<1000].max()!
        let shiftMax = s[1000..<1010].max()!
        #expect(shiftMax > normalMax, "shift \(shiftMax) vs normal \(normalMax)")
        #expect(shiftMax > 0.5)
    }

    @Test("CUSUM catches a small sustained shift that a z-score misses")
    func cusumSmallShift() {
        var g = Synthetic(seed: 3)
        var (t, v) = g.series(n: 1500)
        for i in 1000..<1500 { v[i] += 1.5 }
        let c = run(CUSUMDetector(), t, v)
        let normalMax = c[300..<1000].max()!
        #expect(c[1000..<1060].max()! > max(0.5, normalMax))
        // The alarm fires once, then the detector re-learns the new level.
        #expect(c[1300..<1500].max()! < 0.5)
    }

    @Test("seasonal and Holt-Winters learn a daily cycle and flag an out-of-phase value")
    func seasonality() {
        var g = Synthetic(seed: 4)
        var (t, v) = g.series(n: 288 * 8, amplitude: 20)  // 8 days of 5-minute data
        // A value normal for the series' range but wrong for this time of day.
        let i = 288 * 7 + 72  // 06:00, sine peak: expected ≈ level + 20
        v[i] = 100 - 20
        for name in ["seasonal", "holt_winters"] {
            let s = runNamed(name, t, v).map(\.score)
            let normalMax = s[(288 * 3)..<i].max()!
            #expect(
                normalMax < 0.5,
                "\(name) fires on the regular cycle: \(normalMax) at \(s[(288 * 3)..<i].firstIndex(of: normalMax)!)")
            #expect(s[i] > 0.5 && s[i] > normalMax, "\(name): \(s[i]) vs \(normalMax)")
        }
        // A plain z-score over a short window cannot tell, because the value is inside the daily range.
        let global = run(WindowedGaussianDetector(), t, v)
        #expect(global[i] < 0.5)
    }

    @Test(
        "gaps keep the seasonal phase and add no false alarms",
        arguments: ["seasonal", "holt_winters", "ewma", "cusum", "default"])
    func gapsAreHandled(name: String) {
        var g = Synthetic(seed: 5)
        let (t0, v0) = g.series(n: 288 * 8, amplitude: 20)
        // Remove 6 hours of data on day 5 and the whole of day 6.
        var t: [Double] = [], v: [Double] = []
        var dayAfterGap: [Int] = []
        for i in t0.indices where !(288 * 5 + 10..<288 * 5 + 82).contains(i) && !(288 * 6..<288 * 7).contains(i) {
            if i >= 288 * 7 { dayAfterGap.append(t.count) }
            t.append(t0[i]); v.append(v0[i])
        }
        let gapped = runNamed(name, t, v).map(\.score)
        let full = runNamed(name, t0, v0).map(\.score)
        #expect(gapped.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 })
        // The day after the gap scores no higher than the detector's own background on the full series.
        let afterGap = dayAfterGap.map { gapped[$0] }.max()!
        let background = full[(288 * 2)...].max()!
        #expect(afterGap <= max(background, 0.5) + 0.02, "\(name): after gap \(afterGap), background \(background)")
        if name == "seasonal" || name == "holt_winters" { #expect(afterGap < 0.5, "\(name) lost the phase: \(afterGap)") }
    }

    @Test("a constant series scores 0, and the first change scores high", arguments: allDetectorNames)
    func constantSeries(name: String) {
        let t = (0..<600).map { Double($0) * 60 }
        var v = [Double](repeating: 5, count: 600)
        let flat = runNamed(name, t, v).map(\.score)
        #expect(flat.allSatisfy { $0 == 0 }, "\(name) fires on a flatline")
        for i in 500..<600 { v[i] = 6 }
        let s = runNamed(name, t, v).map(\.score)
        #expect(s[500..<520].max()! > 0.5, "\(name) misses the change off a flatline")
    }

    @Test("huge values: no overflow, spikes still detected", arguments: allDetectorNames)
    func hugeValues(name: String) {
        var g = Synthetic(seed: 6)
        var (t, v) = g.series(n: 1200, level: 1e15, sigma: 1e12)
        v[1100] += 2e13
        let s = runNamed(name, t, v).map(\.score)
        #expect(s.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 })
        if name != "cusum" { #expect(s[1100] > 0.5, "\(name): \(s[1100])") }
        // Values near the top of Double's range must not produce NaN.
        let extreme = runNamed(name, t, v.enumerated().map { $0.offset % 2 == 0 ? 1e300 : -1e300 }).map(\.score)
        #expect(extreme.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 })
    }

    @Test("non-finite values are ignored", arguments: allDetectorNames)
    func nonFinite(name: String) {
        var g = Synthetic(seed: 7)
        var (t, v) = g.series(n: 400)
        v[300] = .nan
        v[301] = .infinity
        let s = runNamed(name, t, v)
        #expect(s[300].score == 0 && s[301].score == 0)
        #expect(s.allSatisfy { $0.score.isFinite })
    }

    @Test("no look-ahead: appending future points never changes past scores", arguments: allDetectorNames)
    func noLookAhead(name: String) {
        var g = Synthetic(seed: 8)
        var (t, v) = g.series(n: 1000, amplitude: 5)
        v[700] += 30
        let full = runNamed(name, t, v).map(\.score)
        let prefix = runNamed(name, Array(t[..<750]), Array(v[..<750])).map(\.score)
        #expect(Array(full[..<750]) == prefix)
    }

    @Test("scores are deterministic")
    func deterministic() {
        var g = Synthetic(seed: 9)
        let (t, v) = g.series(n: 800, amplitude: 3)
        #expect(runNamed("default", t, v).map(\.score) == runNamed("default", t, v).map(\.score))
    }

    @Test("short per-entity series (40 points) work and flag a spike")
    func shortSeries() {
        var g = Synthetic(seed: 10)
        var (t, v) = g.series(n: 40, step: 60)
        v[39] += 15
        for name in ["robust_z", "ewma", "default"] {
            let s = runNamed(name, t, v)
            #expect(s[39].score > 0.5, "\(name): \(s[39].score)")
        }
    }

    @Test("the explanation names the detector and the expected range")
    func explanation() {
        var g = Synthetic(seed: 11)
        var (t, v) = g.series(n: 500)
        v[499] += 20
        let s = runNamed("default", t, v)[499]
        #expect(s.explanation.hasPrefix("default/"))
        #expect(s.explanation.contains("expected"))
        #expect(s.expected != nil && !(s.expected!.contains(v[499])))
    }

    @Test("robust median/MAD helpers")
    func madHelper() {
        let a: [Double] = [1, 2, 3, 4, 100]
        #expect(RobustZDetector.median(a) == 3)
        #expect(RobustZDetector.mad(a, median: 3) == 1)
        #expect(RobustZDetector.mad([1, 2, 3, 4], median: 2.5) == 1)
    }

    @Test("calibration: 0 below the noise floor, 0.5 at 4σ, monotone, 1 only at infinity")
    func calibration() {
        #expect(AnomalyCalibration.score(z: 1.5) == 0)
        #expect(abs(AnomalyCalibration.score(z: 4) - 0.5) < 1e-12)
        #expect(AnomalyCalibration.score(z: -4) == AnomalyCalibration.score(z: 4))
        #expect(AnomalyCalibration.score(z: 10) < AnomalyCalibration.score(z: 20))
        #expect(AnomalyCalibration.score(z: 1e6) < 1)
        #expect(AnomalyCalibration.score(z: .infinity) == 1)
        #expect(abs(AnomalyCalibration.z(forScore: 0.5) - 4) < 1e-12)
    }
}
