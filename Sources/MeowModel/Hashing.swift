/// FNV-1a, 64 bits: a short, stable name for a longer text (idempotency keys, dedup keys, ETags). Not
/// for security.
public enum FNV1a {
    public static func hash(_ text: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            h ^= UInt64(byte)
            h = h &* 0x0000_0100_0000_01b3
        }
        return h
    }

    /// The hash as 16 hexadecimal digits.
    public static func hex(_ text: String) -> String {
        let hex = String(hash(text), radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

extension String {
    /// At most `n` characters, ending with an ellipsis when cut (the field limits of the incident targets).
    public func capped(_ n: Int) -> String { count <= n ? self : String(prefix(n - 1)) + "…" }
}
