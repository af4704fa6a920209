import Foundation

/// Decodes a `Decodable` from a `Value` tree (fixtures written in Lua, parts of snapshots).
///
/// Lenient where Lua is ambiguous: an empty table decodes as an empty array or an empty object, an
/// integral float as an integer, and a date from Unix seconds or an RFC 3339 string. Errors name the
/// field path, e.g. `sync_policy.automated: expected a boolean, got a string`.
public struct ValueDecoder: Sendable {
    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from value: Value) throws -> T {
        try _ValueDecoder(value: value, codingPath: []).decodeValue(type)
    }
}

/// A field that could not be decoded, with its dotted path.
public struct ValueDecodingError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var message: String
    public var description: String { path.isEmpty ? message : "\(path): \(message)" }

    public static func from(_ error: Error) -> ValueDecodingError {
        if let e = error as? ValueDecodingError { return e }
        if let e = error as? DecodingError {
            switch e {
            case .keyNotFound(let key, let ctx):
                return ValueDecodingError(path: dotted(ctx.codingPath + [key]), message: "required field is missing")
            case .typeMismatch(_, let ctx), .valueNotFound(_, let ctx), .dataCorrupted(let ctx):
                return ValueDecodingError(path: dotted(ctx.codingPath), message: ctx.debugDescription)
            @unknown default:
                return ValueDecodingError(path: "", message: "\(e)")
            }
        }
        return ValueDecodingError(path: "", message: "\(error)")
    }
}

func dotted(_ path: [CodingKey]) -> String {
    var out = ""
    for key in path {
        if let i = key.intValue {
            out += "[\(i)]"
        } else {
            out += out.isEmpty ? key.stringValue : "." + key.stringValue
        }
    }
    return out
}

private struct _ValueDecoder: Decoder {
    let value: Value
    var codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func mismatch(_ expected: String) -> ValueDecodingError {
        ValueDecodingError(
            path: dotted(codingPath),
            message:
                "expected \(expected), got \(value.typeName == "array" || value.typeName == "object" ? "an \(value.typeName)" : "a \(value.typeName)")"
        )
    }

    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        if type == Date.self {
            switch value {
            case .int(let i): return Date(timeIntervalSince1970: TimeInterval(i)) as! T
            case .double(let d): return Date(timeIntervalSince1970: d) as! T
            case .string(let s):
                guard let d = Timestamp.parse(s) else {
                    throw ValueDecodingError(
                        path: dotted(codingPath), message: "expected an RFC 3339 time (2026-01-01T00:00:00Z), got \"\(s)\"")
                }
                return d as! T
            default: throw mismatch("a time")
            }
        }
        if type == Value.self { return value as! T }
        return try T(from: self)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        switch value {
        case .object(let o): return KeyedDecodingContainer(Keyed<Key>(object: o, codingPath: codingPath))
        case .array(let a) where a.isEmpty: return KeyedDecodingContainer(Keyed<Key>(object: [:], codingPath: codingPath))
        default: throw mismatch("an object")
        }
    }

    func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        switch value {
        case .array(let a): return Unkeyed(items: a, codingPath: codingPath)
        case .object(let o) where o.isEmpty: return Unkeyed(items: [], codingPath: codingPath)
        default: throw mismatch("an array")
        }
    }

    func singleValueContainer() throws -> SingleValueDecodingContainer { Single(decoder: self) }
}

private struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(_ s: String) { stringValue = s }
    init(_ i: Int) { stringValue = String(i); intValue = i }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { self.init(intValue) }
}

private struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let object: [String: Value]
    var codingPath: [CodingKey]
    var allKeys: [Key] { object.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { object[key.stringValue] != nil }

    func child(_ key: Key) throws -> _ValueDecoder {
        guard let v = object[key.stringValue] else {
            throw ValueDecodingError(path: dotted(codingPath + [key]), message: "required field is missing")
        }
        return _ValueDecoder(value: v, codingPath: codingPath + [key])
    }

    func decodeNil(forKey key: Key) throws -> Bool { (object[key.stringValue] ?? .null) == .null }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try child(key).decodeValue(type) }
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let v = object[key.stringValue], v != .null else { return nil }
        return try _ValueDecoder(value: v, codingPath: codingPath + [key]).decodeValue(type)
    }
    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<
        NestedKey
    > {
        try child(key).container(keyedBy: type)
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer { try child(key).unkeyedContainer() }
    func superDecoder() throws -> Decoder { _ValueDecoder(value: .object(object), codingPath: codingPath) }
    func superDecoder(forKey key: Key) throws -> Decoder { try child(key) }
}

private struct Unkeyed: UnkeyedDecodingContainer {
    let items: [Value]
    var codingPath: [CodingKey]
    var currentIndex = 0
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    init(items: [Value], codingPath: [CodingKey]) {
        self.items = items
        self.codingPath = codingPath
    }

    mutating func next() throws -> _ValueDecoder {
        guard !isAtEnd else {
            throw ValueDecodingError(path: dotted(codingPath), message: "unexpected end of array")
        }
        defer { currentIndex += 1 }
        return _ValueDecoder(value: items[currentIndex], codingPath: codingPath + [AnyKey(currentIndex)])
    }

    mutating func decodeNil() throws -> Bool {
        if !isAtEnd, items[currentIndex] == .null {
            currentIndex += 1
            return true
        }
        return false
    }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decodeValue(type) }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey>
    {
        try next().container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer { try next().unkeyedContainer() }
    mutating func superDecoder() throws -> Decoder { try next() }
}

private struct Single: SingleValueDecodingContainer {
    let decoder: _ValueDecoder
    var codingPath: [CodingKey] { decoder.codingPath }
    var value: Value { decoder.value }

    func decodeNil() -> Bool { value == .null }
    func decode(_ type: Bool.Type) throws -> Bool {
        guard case .bool(let b) = value else { throw decoder.mismatch("a boolean") }
        return b
    }
    func decode(_ type: String.Type) throws -> String {
        guard case .string(let s) = value else { throw decoder.mismatch("a string") }
        return s
    }
    func decode(_ type: Double.Type) throws -> Double {
        guard let d = value.doubleValue else { throw decoder.mismatch("a number") }
        return d
    }
    func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }
    func decode(_ type: Int.Type) throws -> Int { Int(try decode(Int64.self)) }
    func decode(_ type: Int64.Type) throws -> Int64 {
        guard let i = value.intValue else { throw decoder.mismatch("an integer") }
        return i
    }
    func decode(_ type: Int32.Type) throws -> Int32 { Int32(clamping: try decode(Int64.self)) }
    func decode(_ type: UInt.Type) throws -> UInt { UInt(clamping: try decode(Int64.self)) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { UInt64(clamping: try decode(Int64.self)) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { UInt32(clamping: try decode(Int64.self)) }
    func decode(_ type: Int8.Type) throws -> Int8 { Int8(clamping: try decode(Int64.self)) }
    func decode(_ type: Int16.Type) throws -> Int16 { Int16(clamping: try decode(Int64.self)) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { UInt8(clamping: try decode(Int64.self)) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { UInt16(clamping: try decode(Int64.self)) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decodeValue(type) }
}

private struct FieldKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension Decoder {
    /// Throws "unknown field 'x'" (with the path) for a key outside `known`.
    public func rejectUnknownFields(_ known: Set<String>) throws {
        guard let c = try? container(keyedBy: FieldKey.self) else { return }
        for key in c.allKeys where !known.contains(key.stringValue) {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: c,
                debugDescription: "unknown field '\(key.stringValue)' (known: \(known.sorted().joined(separator: ", ")))")
        }
    }
}
