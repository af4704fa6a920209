import Foundation

/// Runs registered detectors over a loaded NAB corpus and scores them with ``NABScorer``.
public enum NABBenchmark {
    /// Result of one detector over the corpus.
    public struct DetectorResult: Sendable {
        public var detector: String
        /// One entry per profile, in the order given.
        public var profiles: [NABScorer.ProfileResult]
        /// Wall time spent running the detector (not scoring), in seconds.
        public var seconds: Double
    }

    /// Scores detector `name` on `files` for each profile. Returns nil for an unknown detector name.
    public static func run(
        detector name: String, files: [NABDataFile],
        profiles: [NABProfile] = NABProfile.all
    ) -> DetectorResult? {
        guard DetectorRegistry.make(name) != nil else { return nil }
        let start = DispatchTime.now().uptimeNanoseconds
        var scored: [NABScorer.ScoredFile] = []
        for f in files {
            guard var d = DetectorRegistry.make(name) else { return nil }
            var s = [Double]()
            s.reserveCapacity(f.series.count)
            for i in 0..<f.series.count { s.append(d.update(time: f.series.times[i], value: f.series.values[i]).score) }
            scored.append(NABScorer.ScoredFile(name: f.name, scores: s, windows: f.windows))
        }
        let secs = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return DetectorResult(detector: name, profiles: profiles.map { NABScorer.score(scored, profile: $0) }, seconds: secs)
    }
}
