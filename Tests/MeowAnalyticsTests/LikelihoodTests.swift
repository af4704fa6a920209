import Foundation
import Testing

@testable import MeowAnalytics

@Suite("Anomaly likelihood, context novelty and the default's suppression")
struct LikelihoodTests {
    @Test("likelihood: ordinary raw scores keep a large tail, a sustained rise gets a tiny one")
    func likelihoodTail() {
        var g = Synthetic(seed: 21)
        var l = AnomalyLikelihood(historyWindow: 2000, averagingWindow: 10, learningPeriod: 300)
        var tails: [Double] = []
        for _ in 0..<1500 { if let t = l.tail(max(0, 0.1 + 0.05 * g.gaussian())) { tails.append(t) } }
        #expect(tails.count == 1500 - 300)
        #expect(tails.min()! > 1e-4, "min tail on ordinary scores \(tails.min()!)")
        var rise: [Double] = []
        for _ in 0..<10 { rise.append(l.tail(0.9)!) }
        #expect(rise[2] < 1e-5, "the onset is flagged within three points: \(rise)")
        #expect(rise.min()! < 1e-10)
    }

    @Test("log-scale mapping of tails: 0 for ordinary, 0.5 at 1e-5, monotone, < 1")
    func tailMapping() {
        #expect(EnsembleDetector.score(tail: 0.5) == 0)
        #expect(abs(EnsembleDetector.score(tail: 1e-5) - 0.5) < 1e-12)
        #expect(EnsembleDetector.score(tail: 1e-20) > EnsembleDetector.score(tail: 1e-10))
        #expect(EnsembleDetector.score(tail: 0) < 1)
        #expect(abs(AnomalyLikelihood.logScore(tail: 1e-5) - 0.5) < 1e-12)
        #expect(abs(AnomalyLikelihood.tail(forScore: 0.5) - 1e-5) < 1e-15)
    }

    @Test("context model: a repeating pattern stops being novel, a new level is fully novel")
    func contextNovelty() {
        var m = ContextModel(bins: 8, maxOrder: 4, warmup: 40)
        let pattern: [Double] = [0, 2, 4, 6, 8, 6, 4, 2]
        var last: [Double] = []
        for i in 0..<400 { if let s = m.surprise(pattern[i % 8]) { last.append(s) } }
        #expect(last.suffix(100).allSatisfy { $0 == 0 })
        #expect(m.surprise(30) == 1)
        #expect(m.lastBinNovel)
        // A known level in an unseen order is partly novel (short contexts were seen, long ones not).
        let s = m.surprise(8)!
        #expect(s > 0 && s < 1, "\(s)")
    }

    @Test("range novelty: values beyond the seen range by more than the tolerance")
    func rangeNovelty() {
        var r = RangeNovelty(tolerance: 0.1, warmup: 10)
        for i in 0..<50 { #expect(r.excess(Double(i % 10)) == 0) }
        #expect(r.excess(9.5) == 0)  // within 10% of the range (9)
        #expect(abs(r.excess(19) - 1) < 1e-12)  // one range (9.5) above the maximum (9.5 after learning)
        #expect(RangeNovelty.score(excess: 0) == 0 && RangeNovelty.score(excess: 1) > 0.6)
    }

    @Test("default: one alarm per incident, then suppression; a later incident alarms again")
    func suppression() {
        var g = Synthetic(seed: 22)
        var (t, v) = g.series(n: 4000, amplitude: 10)
        for i in 2000..<2300 { v[i] += 15 }  // a 300-point incident
        for i in 3500..<3550 { v[i] -= 25 }  // a second, later incident
        let s = runNamed("default", t, v).map(\.score)
        let alarms = s.indices.filter { s[$0] >= 0.5 }
        #expect(alarms.contains { (2000..<2010).contains($0) }, "onset alarm: \(alarms)")
        #expect(alarms.filter { (2010..<2300).contains($0) }.count <= 1, "incident re-alarms: \(alarms)")
        #expect(alarms.contains { (3500..<3510).contains($0) }, "second incident: \(alarms)")
        #expect(alarms.filter { (400..<2000).contains($0) }.isEmpty, "false alarms before the incident: \(alarms)")
    }
}
