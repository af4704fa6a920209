import Foundation
import Testing

@testable import MeowAnalytics

@Suite("NAB scorer on hand-computed cases")
struct NABScorerTests {
    /// 100 rows (probation = 15 rows), one window on rows 40...49.
    static let window = [40...49]

    static func scores(_ hits: [Int], n: Int = 100) -> [Double] {
        var s = [Double](repeating: 0, count: n)
        for h in hits { s[h] = 1 }
        return s
    }

    static func result(_ hits: [Int], profile: NABProfile = .standard) -> NABScorer.ProfileResult {
        NABScorer.score([.init(name: "f", scores: scores(hits), windows: window)], profile: profile)
    }

    @Test("scaled sigmoid and probation follow NAB")
    func basics() {
        #expect(abs(NABScorer.scaledSigmoid(-1) - 0.98661) < 1e-5)
        #expect(abs(NABScorer.scaledSigmoid(-0.5) - 0.84828) < 1e-5)
        #expect(NABScorer.scaledSigmoid(0) == 0)
        #expect(NABScorer.scaledSigmoid(3) == -1)
        #expect(NABScorer.probationaryLength(100) == 15)
        #expect(NABScorer.probationaryLength(4032) == 604)
        #expect(NABScorer.probationaryLength(22695) == 750)
    }

    @Test("a perfect detector scores 100, the null detector 0")
    func perfectAndNull() {
        let perfect = Self.result([40])
        #expect(abs(perfect.normalizedScore - 100) < 1e-9)
        #expect(perfect.rawScore == 1 && perfect.perfectScore == 1 && perfect.nullScore == -1)
        let null = NABScorer.score(
            [.init(name: "f", scores: [Double](repeating: 0, count: 100), windows: Self.window)], profile: .standard)
        #expect(null.normalizedScore == 0)
        #expect(null.threshold == .infinity)
        #expect(null.falseNegatives == 1 && null.truePositives == 0)
    }

    @Test("false positives before any window cost the full fpWeight; probation is ignored")
    func falsePositives() {
        let r = Self.result([10, 20, 30, 40])  // row 10 is probationary
        #expect(r.falsePositives == 2 && r.truePositives == 1)
        #expect(abs(r.rawScore - (1 - 2 * 0.11)) < 1e-12)
        #expect(abs(r.normalizedScore - 100 * (0.78 + 1) / 2) < 1e-9)
        let lowFP = Self.result([20, 30, 40], profile: .rewardLowFP)
        #expect(abs(lowFP.rawScore - (1 - 2 * 0.22)) < 1e-12)
    }

    @Test("only the earliest detection in a window counts, scaled by position")
    func earliestDetection() {
        let late = Self.result([49])  // last row: p = -1/10
        let expected = NABScorer.scaledSigmoid(-0.1) / NABScorer.scaledSigmoid(-1)
        #expect(abs(late.rawScore - expected) < 1e-12)
        let both = Self.result([45, 49])
        #expect(abs(both.rawScore - NABScorer.scaledSigmoid(-0.5) / NABScorer.scaledSigmoid(-1)) < 1e-12)
    }

    @Test("a false positive just after a window is penalised by the sigmoid of its distance")
    func fpAfterWindow() {
        let r = Self.result([40, 50])  // p = (50 − 49)/(10 − 1)
        #expect(abs(r.rawScore - (1 + 0.11 * NABScorer.scaledSigmoid(1.0 / 9))) < 1e-12)
        let far = Self.result([40, 90])  // p ≥ 3 → full penalty
        #expect(abs(far.rawScore - (1 - 0.11)) < 1e-12)
    }

    @Test("a missed window costs fnWeight (2 in reward_low_FN_rate)")
    func missedWindow() {
        let r = NABScorer.score(
            [
                .init(name: "a", scores: Self.scores([40]), windows: Self.window),
                .init(name: "b", scores: Self.scores([]), windows: Self.window),
            ], profile: .rewardLowFN)
        #expect(r.nullScore == -4 && r.perfectScore == 2)
        #expect(abs(r.rawScore - (1 - 2)) < 1e-12)
        #expect(abs(r.normalizedScore - 50) < 1e-9)
    }

    @Test("one threshold is optimised over the whole corpus")
    func corpusThreshold() {
        // File a: the window hit scores 0.9, FPs score 0.8. File b: its hit scores 0.7.
        var a = [Double](repeating: 0, count: 100); a[42] = 0.9; a[20] = 0.8; a[25] = 0.8
        var b = [Double](repeating: 0, count: 100); b[41] = 0.7
        let r = NABScorer.score(
            [
                .init(name: "a", scores: a, windows: Self.window),
                .init(name: "b", scores: b, windows: Self.window),
            ], profile: .standard)
        // Threshold 0.7 catches both windows for 2 FPs (-0.22): better than 0.9 (one window missed).
        #expect(r.threshold == 0.7)
        #expect(r.truePositives == 2 && r.falsePositives == 2)
    }

    @Test("windows map to rows by timestamp")
    func rowRange() {
        let t: [Double] = [0, 10, 20, 30, 40]
        #expect(NABCorpus.rowRange(times: t, start: 10, end: 30) == 1...3)
        #expect(NABCorpus.rowRange(times: t, start: 11, end: 35) == 2...3)
        #expect(NABCorpus.rowRange(times: t, start: 41, end: 50) == nil)
    }
}
