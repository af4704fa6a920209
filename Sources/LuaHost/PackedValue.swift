import MeowModel

/// The byte format values cross the Swift/Lua boundary in (tags described in LuaShim.h).
enum PackedValue {
    static func encode(_ v: Value) -> [UInt8] {
        var out: [UInt8] = []
        write(v, into: &out)
        return out
    }

    private static func u32(_ n: Int, _ out: inout [UInt8]) {
        let v = UInt32(truncatingIfNeeded: n)
        for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) }
    }

    private static func u64(_ v: UInt64, _ out: inout [UInt8]) {
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
    }

    private static func bytes(_ s: String, _ out: inout [UInt8]) {
        let b = Array(s.utf8)
        u32(b.count, &out)
        out.append(contentsOf: b)
    }

    private static func write(_ v: Value, into out: inout [UInt8]) {
        switch v {
        case .null: out.append(UInt8(ascii: "n"))
        case .bool(let b): out.append(UInt8(ascii: b ? "t" : "f"))
        case .int(let i): out.append(UInt8(ascii: "i")); u64(UInt64(bitPattern: i), &out)
        case .double(let d): out.append(UInt8(ascii: "d")); u64(d.bitPattern, &out)
        case .string(let s): out.append(UInt8(ascii: "s")); bytes(s, &out)
        case .array(let a):
            if a.isEmpty { out.append(UInt8(ascii: "e")); return }
            out.append(UInt8(ascii: "a"))
            u32(a.count, &out)
            for item in a { write(item, into: &out) }
        case .object(let o):
            if o.isEmpty { out.append(UInt8(ascii: "e")); return }
            out.append(UInt8(ascii: "o"))
            u32(o.count, &out)
            for k in o.keys.sorted() {
                bytes(k, &out)
                write(o[k]!, into: &out)
            }
        }
    }

    /// Decodes a packed value; entity proxies (`r`) are resolved through `documents`.
    static func decode(_ buf: UnsafeBufferPointer<UInt8>, documents: DocumentSet?) -> Value? {
        var reader = Reader(buf: buf, documents: documents)
        guard let v = reader.value(depth: 0), reader.pos == buf.count else { return nil }
        return v
    }

    private struct Reader {
        let buf: UnsafeBufferPointer<UInt8>
        let documents: DocumentSet?
        var pos = 0

        mutating func u32() -> Int? {
            guard pos + 4 <= buf.count else { return nil }
            var v: UInt32 = 0
            for i in 0..<4 { v |= UInt32(buf[pos + i]) << (8 * UInt32(i)) }
            pos += 4
            return Int(v)
        }

        mutating func u64() -> UInt64? {
            guard pos + 8 <= buf.count else { return nil }
            var v: UInt64 = 0
            for i in 0..<8 { v |= UInt64(buf[pos + i]) << (8 * UInt64(i)) }
            pos += 8
            return v
        }

        mutating func string() -> String? {
            guard let n = u32(), pos + n <= buf.count else { return nil }
            let s = String(decoding: UnsafeBufferPointer(rebasing: buf[pos..<(pos + n)]), as: UTF8.self)
            pos += n
            return s
        }

        mutating func value(depth: Int) -> Value? {
            guard pos < buf.count, depth < 64 else { return nil }
            let tag = buf[pos]
            pos += 1
            switch tag {
            case UInt8(ascii: "n"): return .null
            case UInt8(ascii: "t"): return .bool(true)
            case UInt8(ascii: "f"): return .bool(false)
            case UInt8(ascii: "i"): return u64().map { .int(Int64(bitPattern: $0)) }
            case UInt8(ascii: "d"): return u64().map { .double(Double(bitPattern: $0)) }
            case UInt8(ascii: "s"): return string().map { .string($0) }
            case UInt8(ascii: "e"): return .object([:])
            case UInt8(ascii: "a"):
                guard let n = u32() else { return nil }
                var items: [Value] = []
                items.reserveCapacity(min(n, 1 << 16))
                for _ in 0..<n {
                    guard let v = value(depth: depth + 1) else { return nil }
                    items.append(v)
                }
                return .array(items)
            case UInt8(ascii: "o"):
                guard let n = u32() else { return nil }
                var o: [String: Value] = [:]
                for _ in 0..<n {
                    guard let k = string(), let v = value(depth: depth + 1) else { return nil }
                    o[k] = v
                }
                return .object(o)
            case UInt8(ascii: "r"):
                guard let n = u32() else { return nil }
                return documents?.resolve(UInt32(n)) ?? .null
            case UInt8(ascii: "x"):
                return string().map { .string("<\($0)>") }
            default:
                return nil
            }
        }
    }
}
