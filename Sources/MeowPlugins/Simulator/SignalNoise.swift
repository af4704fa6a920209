/// Stateless noise: a value for (seed, key, time) that does not depend on what else was computed or in
/// which order, so every signal is a pure function of time and the simulator stays deterministic.
enum SignalNoise {
    @inline(__always)
    static func hash(_ seed: UInt64, _ key: UInt64, _ t: Int64) -> UInt64 {
        var z = seed &+ key &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(bitPattern: t) &* 0xD1B5_4A32_D192_ED03
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    @inline(__always)
    static func unit(_ seed: UInt64, _ key: UInt64, _ t: Int64) -> Double {
        Double(hash(seed, key, t) >> 11) / Double(1 << 53)
    }

    /// Triangular in (-1, 1), mean 0: the sum of two uniforms, cheaper than a Gaussian and bounded.
    @inline(__always)
    static func symmetric(_ seed: UInt64, _ key: UInt64, _ t: Int64) -> Double {
        let h = hash(seed, key, t)
        let a = Double(h >> 40) / Double(1 << 24)
        let b = Double((h >> 8) & 0xFF_FFFF) / Double(1 << 24)
        return a + b - 1
    }
}
