import Foundation

/// Encodes any `Encodable` into a `Value` tree without going through JSON text.
///
/// Dates become Unix seconds by default: that is how rules see time (numbers they can subtract).
///
/// ```swift
/// let doc = try ValueEncoder().encode(application)   // .object(["name": "payments", ...])
/// ```
public struct ValueEncoder: Sendable {
    public enum DateStrategy: Sendable { case secondsSince1970, iso8601 }
    public var dateStrategy: DateStrategy

    public init(dateStrategy: DateStrategy = .secondsSince1970) { self.dateStrategy = dateStrategy }

    public func encode<T: Encodable>(_ value: T) throws -> Value {
        let box = ValueBox()
        try encodeValue(value, into: box, codingPath: [])
        return box.value
    }

    fileprivate func encodeValue<T: Encodable>(_ value: T, into box: ValueBox, codingPath: [CodingKey]) throws {
        if let date = value as? Date {
            switch dateStrategy {
            case .secondsSince1970:
                let s = date.timeIntervalSince1970
                box.set(s.rounded() == s && abs(s) < 9e15 ? .int(Int64(s)) : .double(s))
            case .iso8601:
                box.set(.string(Timestamp.format(date)))
            }
            return
        }
        if let v = value as? Value {
            box.set(v)
            return
        }
        let encoder = _ValueEncoder(options: self, box: box, codingPath: codingPath)
        try value.encode(to: encoder)
    }
}

/// Mutable storage a container writes into; children are boxes too so nested containers can keep writing.
final class ValueBox {
    enum Storage {
        case empty
        case scalar(Value)
        case object([String: ValueBox], [String])
        case array([ValueBox])
    }
    var storage: Storage = .empty

    func set(_ v: Value) { storage = .scalar(v) }

    var value: Value {
        switch storage {
        case .empty: return .object([:])
        case .scalar(let v): return v
        case .object(let children, _): return .object(children.mapValues(\.value))
        case .array(let items): return .array(items.map(\.value))
        }
    }

    func child(forKey key: String) -> ValueBox {
        var (children, order): ([String: ValueBox], [String])
        if case .object(let c, let o) = storage { (children, order) = (c, o) } else { (children, order) = ([:], []) }
        if let existing = children[key] { return existing }
        let box = ValueBox()
        children[key] = box
        order.append(key)
        storage = .object(children, order)
        return box
    }

    func makeObject() {
        if case .object = storage { return }
        storage = .object([:], [])
    }

    func appendChild() -> ValueBox {
        var items: [ValueBox]
        if case .array(let a) = storage { items = a } else { items = [] }
        let box = ValueBox()
        items.append(box)
        storage = .array(items)
        return box
    }

    func makeArray() {
        if case .array = storage { return }
        storage = .array([])
    }

    var count: Int {
        if case .array(let a) = storage { return a.count }
        return 0
    }
}

private struct _ValueEncoder: Encoder {
    let options: ValueEncoder
    let box: ValueBox
    var codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        box.makeObject()
        return KeyedEncodingContainer(KeyedContainer<Key>(options: options, box: box, codingPath: codingPath))
    }

    func unkeyedContainer() -> UnkeyedEncodingContainer {
        box.makeArray()
        return UnkeyedContainer(options: options, box: box, codingPath: codingPath)
    }

    func singleValueContainer() -> SingleValueEncodingContainer {
        SingleContainer(options: options, box: box, codingPath: codingPath)
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let options: ValueEncoder
    let box: ValueBox
    var codingPath: [CodingKey]

    mutating func encodeNil(forKey key: Key) throws { box.child(forKey: key.stringValue).set(.null) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { box.child(forKey: key.stringValue).set(.bool(value)) }
    mutating func encode(_ value: String, forKey key: Key) throws { box.child(forKey: key.stringValue).set(.string(value)) }
    mutating func encode(_ value: Double, forKey key: Key) throws { box.child(forKey: key.stringValue).set(.double(value)) }
    mutating func encode(_ value: Float, forKey key: Key) throws {
        box.child(forKey: key.stringValue).set(.double(Double(value)))
    }
    mutating func encode(_ value: Int, forKey key: Key) throws { box.child(forKey: key.stringValue).set(.int(Int64(value))) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { box.child(forKey: key.stringValue).set(.int(value)) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { box.child(forKey: key.stringValue).set(.int(Int64(value))) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try options.encodeValue(value, into: box.child(forKey: key.stringValue), codingPath: codingPath + [key])
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey>
    {
        let child = box.child(forKey: key.stringValue)
        child.makeObject()
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(options: options, box: child, codingPath: codingPath + [key]))
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer {
        let child = box.child(forKey: key.stringValue)
        child.makeArray()
        return UnkeyedContainer(options: options, box: child, codingPath: codingPath + [key])
    }
    mutating func superEncoder() -> Encoder { _ValueEncoder(options: options, box: box, codingPath: codingPath) }
    mutating func superEncoder(forKey key: Key) -> Encoder {
        _ValueEncoder(options: options, box: box.child(forKey: key.stringValue), codingPath: codingPath + [key])
    }
}

private struct IndexKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(_ i: Int) { stringValue = String(i); intValue = i }
    init?(stringValue: String) { self.stringValue = stringValue; intValue = Int(stringValue) }
    init?(intValue: Int) { self.init(intValue) }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let options: ValueEncoder
    let box: ValueBox
    var codingPath: [CodingKey]
    var count: Int { box.count }

    mutating func encodeNil() throws { box.appendChild().set(.null) }
    mutating func encode(_ value: Bool) throws { box.appendChild().set(.bool(value)) }
    mutating func encode(_ value: String) throws { box.appendChild().set(.string(value)) }
    mutating func encode(_ value: Double) throws { box.appendChild().set(.double(value)) }
    mutating func encode(_ value: Int) throws { box.appendChild().set(.int(Int64(value))) }
    mutating func encode(_ value: Int64) throws { box.appendChild().set(.int(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        try options.encodeValue(value, into: box.appendChild(), codingPath: codingPath + [IndexKey(count)])
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let child = box.appendChild()
        child.makeObject()
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(options: options, box: child, codingPath: codingPath))
    }
    mutating func nestedUnkeyedContainer() -> UnkeyedEncodingContainer {
        let child = box.appendChild()
        child.makeArray()
        return UnkeyedContainer(options: options, box: child, codingPath: codingPath)
    }
    mutating func superEncoder() -> Encoder { _ValueEncoder(options: options, box: box.appendChild(), codingPath: codingPath) }
}

private struct SingleContainer: SingleValueEncodingContainer {
    let options: ValueEncoder
    let box: ValueBox
    var codingPath: [CodingKey]

    mutating func encodeNil() throws { box.set(.null) }
    mutating func encode(_ value: Bool) throws { box.set(.bool(value)) }
    mutating func encode(_ value: String) throws { box.set(.string(value)) }
    mutating func encode(_ value: Double) throws { box.set(.double(value)) }
    mutating func encode(_ value: Float) throws { box.set(.double(Double(value))) }
    mutating func encode(_ value: Int) throws { box.set(.int(Int64(value))) }
    mutating func encode(_ value: Int64) throws { box.set(.int(value)) }
    mutating func encode(_ value: Int8) throws { box.set(.int(Int64(value))) }
    mutating func encode(_ value: Int16) throws { box.set(.int(Int64(value))) }
    mutating func encode(_ value: Int32) throws { box.set(.int(Int64(value))) }
    mutating func encode(_ value: UInt8) throws { box.set(.int(Int64(value))) }
    mutating func encode(_ value: UInt16) throws { box.set(.int(Int64(value))) }
    mutating func encode(_ value: UInt32) throws { box.set(.int(Int64(value))) }
    // Past Int64.max a value becomes a double: rules see numbers, not 64-bit unsigned integers.
    mutating func encode(_ value: UInt) throws { box.set(value <= UInt(Int64.max) ? .int(Int64(value)) : .double(Double(value))) }
    mutating func encode(_ value: UInt64) throws {
        box.set(value <= UInt64(Int64.max) ? .int(Int64(value)) : .double(Double(value)))
    }
    mutating func encode<T: Encodable>(_ value: T) throws { try options.encodeValue(value, into: box, codingPath: codingPath) }
}
