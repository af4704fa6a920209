import Foundation

/// Context-novelty model, after the idea of the Contextual Anomaly Detector (CAD OSE, Smirnov & Ryzhikov):
/// values are quantised into a few bins, and the model remembers which bin followed each recent
/// pattern ("context") of bins. A point whose (context → bin) transition has never been seen is novel.
///
/// - Quantisation: the bin width is learned from the first `warmup` finite values (`(max − min)/bins`);
///   bins are unbounded integers afterwards, so a value outside the learned range lands in a bin that has
///   never been seen (novel by construction). A flat warm-up uses a tiny width (any change is novel).
/// - Contexts of every length `0..<maxOrder` (the last k bins before the current one) are counted.
/// - The warm-up values are learned as context once the width is known.
/// - ``surprise(_:)`` returns the fraction of context lengths whose transition to the current bin has
///   never been seen (0 = every context predicted this bin before, 1 = completely new), or nil while
///   warming up. The transition is learned afterwards.
/// Cost O(maxOrder) per point (hash-map lookups); memory bounded by `maxEntries` (the memory is cleared
/// when it fills up, which a long, very irregular series may need).
public struct ContextModel: Sendable {
    public let bins: Int
    public let maxOrder: Int
    public let warmup: Int
    public let maxEntries: Int

    private var warm: [Double] = []
    private var origin = 0.0
    private var width = 0.0
    private var ready = false
    private var recent: [Int] = []  // most recent bin first, at most maxOrder - 1 entries
    private var seen: [UInt64: Int32] = [:]
    /// Whether the last value fell in a bin never seen before (a new value level).
    public private(set) var lastBinNovel = false

    public init(bins: Int = 8, maxOrder: Int = 6, warmup: Int = 150, maxEntries: Int = 1 << 18) {
        self.bins = max(2, bins)
        self.maxOrder = max(1, maxOrder)
        self.warmup = max(2, warmup)
        self.maxEntries = max(1024, maxEntries)
    }

    /// The bin of `x` (nil while warming up).
    public func bin(_ x: Double) -> Int? {
        guard ready else { return nil }
        let b = ((x - origin) / width).rounded(.down)
        if !b.isFinite { return b > 0 ? 1 << 40 : -(1 << 40) }
        return Int(max(-1e12, min(1e12, b)))
    }

    @inline(__always)
    static func mix(_ h: UInt64, _ v: UInt64) -> UInt64 {
        var z = (h ^ v) &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Novelty of `x` in its context (see the type's documentation); learns the transition.
    public mutating func surprise(_ x: Double) -> Double? {
        guard x.isFinite else { return nil }
        if !ready {
            warm.append(x)
            if warm.count >= warmup {
                let lo = warm.min()!, hi = warm.max()!
                origin = lo
                let span = hi - lo
                width =
                    span > 0 && span.isFinite
                    ? span / Double(bins)
                    : max(abs(lo) * 1e-9, 1e-12)
                if !width.isFinite || width <= 0 { width = .greatestFiniteMagnitude / 4 }
                ready = true
                let replay = warm
                warm = []
                for v in replay { _ = learn(v) }  // the warm-up values are normal context
            }
            return nil
        }
        return learn(x)
    }

    private mutating func learn(_ x: Double) -> Double {
        let b = bin(x)!
        let cur = UInt64(bitPattern: Int64(b))
        if seen.count > maxEntries { seen.removeAll(keepingCapacity: true) }
        var h: UInt64 = 0x5EED
        var novel = 0
        var orders = 0
        for k in 0..<maxOrder {
            if k > 0 {
                guard k - 1 < recent.count else { break }
                h = Self.mix(h, UInt64(bitPattern: Int64(recent[k - 1])))
            }
            let key = Self.mix(Self.mix(h, UInt64(k) &* 0x1000_0000_01B3), cur)
            orders += 1
            if let c = seen[key] {
                seen[key] = c &+ 1
                if k == 0 { lastBinNovel = false }
            } else {
                novel += 1
                seen[key] = 1
                if k == 0 { lastBinNovel = true }
            }
        }
        recent.insert(b, at: 0)
        if recent.count > maxOrder - 1 { recent.removeLast() }
        return orders > 0 ? Double(novel) / Double(orders) : 0
    }
}

/// Context-novelty detector ("cad"): ``ContextModel`` novelty with CAD's rest period.
///
/// The score is the model's novelty (fraction of context lengths whose transition to the current bin
/// was never seen). Like CAD OSE, after a score ≥ `restLevel` the detector stays quiet (scores at most
/// half) for `restPoints` points, so one incident raises one alarm — except for a value in a bin never
/// seen before (a new value level), which is always reported in full.
///
/// Parameters: `bins` (default 8), `maxOrder` (default 6), `warmup` (default 150 points to learn
/// the bin width), `restLevel` (default 0.75), `restPoints` (default 150).
public struct ContextDetector: StreamingDetector {
    public let name: String
    public let restLevel: Double
    public let restPoints: Int
    private var model: ContextModel
    private var sinceAlert = Int.max

    public init(
        bins: Int = 8, maxOrder: Int = 6, warmup: Int = 150, restLevel: Double = 0.75,
        restPoints: Int = 150, name: String = "cad"
    ) {
        model = ContextModel(bins: bins, maxOrder: maxOrder, warmup: warmup)
        self.restLevel = restLevel
        self.restPoints = max(0, restPoints)
        self.name = name
    }

    public mutating func update(time: Double, value: Double) -> AnomalyScore {
        guard value.isFinite else { return .quiet(name, reason: "non-finite value ignored", value: value) }
        guard var s = model.surprise(value) else { return .quiet(name, reason: "warming up", value: value) }
        if sinceAlert < Int.max { sinceAlert += 1 }
        if sinceAlert <= restPoints && !model.lastBinNovel { s *= 0.5 } else if s >= restLevel { sinceAlert = 0 }
        return AnomalyScore(score: s, detector: name, reason: s > 0 ? "unseen context of value levels" : "normal", value: value)
    }
}
