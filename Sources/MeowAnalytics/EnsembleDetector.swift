import Foundation

/// The default detector: several diverse raw detectors, each turned into an anomaly likelihood against
/// its own history, combined by taking the most surprised one, with alert suppression.
///
/// Per point:
/// 1. Channels produce raw scores: robust z, EWMA, seasonal baseline, CUSUM, Holt–Winters (prediction
///    residuals, see their types) and a context-novelty model (``ContextModel``, after CAD OSE).
/// 2. Each raw score stream goes through its own ``AnomalyLikelihood`` (HTM-style: short-term average
///    vs. a normal fit of the long-term history → tail probability). This calibrates every channel to
///    "how unusual is this for this series", whatever the channel's scale or noise level.
/// 3. Combination: the smallest tail probability among the enabled channels, reported on a log scale:
///    `e/(e + 4)` with `e = max(0, −log10(tail) − 1)` (0 for tail ≥ 0.1, 0.5 at tail 1e-5).
///    Until the likelihoods have `learningPeriod` points of history, the plain calibrated score of the
///    prediction channels is used instead (short series still get useful scores).
/// 4. Suppression: after a score ≥ `alertLevel`, the following `hold` points report `holdFactor` × their
///    score, where `hold = clamp(holdFraction × points seen, minHold, maxHold)`: one incident, one alarm
///    (the hold scales with the history, like an incident window, without knowing the series' length).
/// The explanation names the channel that dominated and, when it has one, its expected range.
public struct EnsembleDetector: StreamingDetector {
    /// Tunable parameters of the default detector.
    public struct Config: Sendable, Equatable {
        /// Channels in order: robust_z, ewma, seasonal, cusum, holt_winters, context.
        public var channels: [Bool] = [false, false, true, false, false, true]
        public var historyWindow = 8640
        public var averagingWindow = 10
        public var learningPeriod = 300
        public var minMean = 0.03
        public var minStd = 0.0173
        public var alertLevel = 0.5
        public var holdFraction = 0.02
        public var minHold = 100
        public var maxHold = 2000
        public var holdFactor = 0.5
        public var contextBins = 8
        public var contextOrder = 6
        public var contextWarmup = 150
        /// After a gap longer than `gapFactor` × the learned spacing, the point-count based channels
        /// (robust z, EWMA, CUSUM) are ignored for `gapCooldown` points: a jump across a gap is expected.
        public var gapFactor = 3.0
        public var gapCooldown = 5
        /// ``RangeNovelty`` tolerance (0 disables the rule) and the score of a value just outside it.
        public var spatialTolerance = 0.1
        public var spatialScore = 0.6
        public init() {}
    }

    public static let channelNames = ["robust_z", "ewma", "seasonal", "cusum", "holt_winters", "context"]

    public let name: String
    public let config: Config
    private var spacing = SpacingEstimator()
    private var sinceGap = Int.max
    private var robust = RobustZDetector()
    private var ewma = EWMADetector()
    private var seasonal = SeasonalBaselineDetector()
    private var cusum = CUSUMDetector()
    private var hw = HoltWintersDetector()
    private var context: ContextModel
    private var likelihoods: [AnomalyLikelihood]
    private var count = 0
    private var sinceAlert = Int.max
    private var holdLength = 0
    private var range = RangeNovelty()

    public init(config: Config = Config(), name: String = "default") {
        var c = config
        if c.channels.count != 6 || !c.channels.contains(true) { c.channels = Config().channels }
        self.config = c
        self.name = name
        range = RangeNovelty(tolerance: c.spatialTolerance)
        context = ContextModel(bins: c.contextBins, maxOrder: c.contextOrder, warmup: c.contextWarmup)
        likelihoods = Array(
            repeating: AnomalyLikelihood(
                historyWindow: c.historyWindow, averagingWindow: c.averagingWindow,
                learningPeriod: c.learningPeriod, minMean: c.minMean, minStd: c.minStd),
            count: 6)
    }

    /// Log-scale score of a tail probability: `e/(e + 4)`, `e = max(0, −log10(tail) − 1)`.
    @inlinable
    public static func score(tail: Double) -> Double {
        guard tail < 0.1 else { return 0 }
        let e = -log10(max(tail, Double.leastNormalMagnitude)) - 1
        return e / (e + 4)
    }

    public mutating func update(time: Double, value: Double) -> AnomalyScore {
        guard value.isFinite else { return .quiet(name, reason: "non-finite value ignored", value: value) }
        count += 1
        let parts = [
            robust.update(time: time, value: value), ewma.update(time: time, value: value),
            seasonal.update(time: time, value: value), cusum.update(time: time, value: value),
            hw.update(time: time, value: value),
        ]
        let novelty = context.surprise(value)
        let gap = spacing.observe(time)
        if gap > config.gapFactor { sinceGap = 0 } else if sinceGap < Int.max { sinceGap += 1 }
        let afterGap = sinceGap < config.gapCooldown

        var score = 0.0
        var best = -1
        var learning = false
        for i in 0..<6 {
            var raw = i < 5 ? parts[i].score : (novelty ?? 0)
            if afterGap && (i == 0 || i == 1 || i == 3) { raw = 0 }
            let tail = likelihoods[i].tail(raw)
            guard config.channels[i] else { continue }
            if let tail {
                let s = Self.score(tail: tail)
                if s > score { score = s; best = i }
            } else if i < 5 {
                learning = true
            }
        }
        if learning {
            // Likelihoods not ready yet: fall back on the calibrated prediction residuals.
            for i in [0, 1, 4] where !(afterGap && i != 4) && parts[i].score > score {
                score = parts[i].score
                best = i
            }
        }
        let excess = range.excess(value)
        var spatial = false
        if config.spatialTolerance > 0 && excess > 0 {
            let s = RangeNovelty.score(excess: excess, base: config.spatialScore)
            if s > score { score = s; spatial = true; if best < 0 { best = 0 } }
        }
        if sinceAlert < Int.max { sinceAlert += 1 }
        if sinceAlert <= holdLength {
            score *= config.holdFactor
        } else if score >= config.alertLevel {
            sinceAlert = 0
            holdLength = min(config.maxHold, max(config.minHold, Int(config.holdFraction * Double(count))))
        }
        var out: AnomalyScore
        if best < 0 {
            out = parts[0]
            out.reason = "normal"
            out.detector = "\(name)"
        } else if best == 5 {
            out = parts[0]
            out.reason = "unseen context of value levels"
            out.detector = "\(name)/context"
        } else {
            out = parts[best]
            out.detector = "\(name)/\(parts[best].detector)"
        }
        out.score = score
        if spatial { out.reason = "outside the range of all values seen" }
        if score == 0 { out.reason = "normal" }
        return out
    }
}
