import Foundation

/// Calibrates a raw anomaly score against the series' own recent history.
///
/// Keeps the last `window` raw scores (sorted) and returns how rare the new raw score is among them:
/// `rarity = 1 − (#{past ≥ raw} + ½)/(n + 1)`. A score the series produces every day gets a low rarity
/// even if it looks extreme in σ terms (heavy tails, noisy metrics), while the largest deviation in
/// `window` points scores close to 1. The raw score is added after it is ranked (no self-comparison).
/// Raw scores of 0 stay 0. Cost O(window) per point (sorted insert/remove), memory O(window).
public struct RarityCalibrator: Sendable {
    public let window: Int
    private var ring: [Double] = []
    private var head = 0
    private var sorted: [Double] = []

    public init(window: Int = 2000) { self.window = max(1, window) }

    /// Number of raw scores remembered.
    public var count: Int { sorted.count }

    /// Rarity of `raw` among the remembered scores (in `0..<1`), then remembers `raw`.
    public mutating func calibrate(_ raw: Double) -> Double {
        let n = sorted.count
        var rarity = 0.0
        if raw > 0 {
            let ge = n - RobustZDetector.lowerBound(sorted, raw)
            rarity = 1 - (Double(ge) + 0.5) / Double(n + 1)
        }
        if ring.count < window {
            ring.append(raw)
        } else {
            let old = ring[head]
            ring[head] = raw
            head = (head + 1) % window
            sorted.remove(at: RobustZDetector.lowerBound(sorted, old))
        }
        sorted.insert(raw, at: RobustZDetector.lowerBound(sorted, raw))
        return rarity
    }
}
