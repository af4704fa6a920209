import MeowAnalytics
import Testing

@Suite struct SeriesDetectorTests {
    let flat: [Double] = [10, 11, 9, 10, 10.5, 9.5, 10, 11, 9, 10]

    @Test func robustZFlagsASpikeAndGivesTheExpectedRange() {
        let v = SeriesDetector.robustZ(window: 30, threshold: 4, direction: .both).evaluate(flat + [30])
        let last = v.last!
        #expect(last.anomalous)
        #expect(last.score > 10)
        #expect(last.expected!.contains(10))
        #expect(!last.expected!.contains(30))
        #expect(v.dropLast().allSatisfy { !$0.anomalous })
    }

    @Test func directionLimitsWhatFires() {
        let drop = flat + [0]
        #expect(SeriesDetector.robustZ(window: 30, threshold: 4, direction: .up).evaluate(drop).last!.anomalous == false)
        #expect(SeriesDetector.robustZ(window: 30, threshold: 4, direction: .down).evaluate(drop).last!.anomalous)
    }

    @Test func minChangeIgnoresSmallMovesOfAQuietSeries() {
        let quiet: [Double] = [0.040, 0.041, 0.040, 0.041, 0.040, 0.041, 0.040, 0.041, 0.046]
        #expect(SeriesDetector.robustZ(window: 30, threshold: 4, direction: .up).evaluate(quiet).last!.anomalous)
        #expect(!SeriesDetector.robustZ(window: 30, threshold: 4, direction: .up, minChange: 0.5).evaluate(quiet).last!.anomalous)
        #expect(
            SeriesDetector.robustZ(window: 30, threshold: 4, direction: .up, minChange: 0.5).evaluate(quiet.dropLast() + [0.2])
                .last!.anomalous)
    }

    @Test func aShortHistoryJudgesNothing() {
        let v = SeriesDetector.robustZ(window: 30, threshold: 3, direction: .both).evaluate([1, 1, 100])
        #expect(v.allSatisfy { !$0.anomalous })
    }

    @Test func aConstantSeriesStillNoticesAChange() {
        let v = SeriesDetector.robustZ(window: 30, threshold: 4, direction: .both).evaluate(
            Array(repeating: 5, count: 20) + [5, 6])
        #expect(v[20].anomalous == false)
        #expect(v[21].anomalous)
    }

    @Test func onlyPastPointsAreUsed() {
        // appending points never changes the verdicts on earlier ones
        let d = SeriesDetector.robustZ(window: 8, threshold: 3, direction: .both)
        let a = d.evaluate(flat + [30])
        let b = d.evaluate(flat + [30, 10, 10, 50])
        #expect(Array(b.prefix(a.count)) == a)
    }

    @Test func judgingOnlyTheTailGivesTheSameVerdicts() {
        let series = flat + [30, 10, 12, 50, 9]
        for d in [
            SeriesDetector.robustZ(window: 8, threshold: 3, direction: .both), .threshold(above: 20, below: 5),
            .ewma(alpha: 0.3, threshold: 3, direction: .up),
        ] {
            #expect(d.evaluate(series, last: 3) == Array(d.evaluate(series).suffix(3)))
        }
    }

    @Test func thresholdAndEwma() {
        let t = SeriesDetector.threshold(above: 12, below: 5).evaluate([10, 13, 4])
        #expect(t.map(\.anomalous) == [false, true, true])
        let e = SeriesDetector.ewma(alpha: 0.3, threshold: 4, direction: .up).evaluate(flat + [40])
        #expect(e.last!.anomalous)
        #expect(e.dropLast().allSatisfy { !$0.anomalous })
    }

    @Test func theEnsembleScoresEveryPoint() {
        let v = SeriesDetector.ensemble(score: 0.5).evaluate(Array(repeating: 1.0, count: 50) + [100])
        #expect(v.count == 51)
        #expect(v.allSatisfy { (0...1).contains($0.score) })
    }
}
