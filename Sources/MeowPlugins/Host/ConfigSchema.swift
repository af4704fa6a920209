import Foundation
import MeowModel

/// The small schema language of plugin manifests (`config:` and each action's `params:`), also used for
/// meow.yaml itself. Keywords: `type` (string, integer, number, boolean, duration, object, map, array,
/// any), `description`, `properties`, `required`, `one_of_required` (a list of key groups: exactly one
/// key of each group must be set), `enum`, `minimum`, `maximum`, `items` (array), `values` (map),
/// `default`, `format` (`url`, `path`: relative to the config file), `secret` (`env`: the value names an
/// environment variable that must be set; `file`: a file that must be readable). Objects refuse unknown
/// keys. Durations are written `500ms`, `30s`, `5m`, `1h` and become seconds.
public final class ConfigSchema: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case string, integer, number, boolean, duration, object, map, array, any
    }

    public enum Secret: String, Sendable {
        case env, file
    }

    public struct Property: Sendable {
        public var name: String
        public var schema: ConfigSchema
    }

    public let kind: Kind
    public let description: String?
    public let properties: [Property]
    public let required: [String]
    public let oneOfRequired: [[String]]
    public let enumValues: [String]
    public let minimum: Double?
    public let maximum: Double?
    public let items: ConfigSchema?
    public let values: ConfigSchema?
    public let defaultValue: Value?
    public let format: String?
    public let secret: Secret?

    public init(
        kind: Kind, description: String? = nil, properties: [Property] = [], required: [String] = [],
        oneOfRequired: [[String]] = [], enumValues: [String] = [], minimum: Double? = nil, maximum: Double? = nil,
        items: ConfigSchema? = nil, values: ConfigSchema? = nil, defaultValue: Value? = nil, format: String? = nil,
        secret: Secret? = nil
    ) {
        self.kind = kind
        self.description = description
        self.properties = properties
        self.required = required
        self.oneOfRequired = oneOfRequired
        self.enumValues = enumValues
        self.minimum = minimum
        self.maximum = maximum
        self.items = items
        self.values = values
        self.defaultValue = defaultValue
        self.format = format
        self.secret = secret
    }

    public func property(_ name: String) -> ConfigSchema? { properties.first { $0.name == name }?.schema }

    /// An object schema with `other`'s properties after this one's (a plugin's config after the common
    /// instance keys).
    public func merged(with other: ConfigSchema) -> ConfigSchema {
        ConfigSchema(
            kind: .object, description: description,
            properties: properties + other.properties.filter { p in !properties.contains { $0.name == p.name } },
            required: required + other.required, oneOfRequired: oneOfRequired + other.oneOfRequired)
    }

    // MARK: Reading a schema

    private static let keywords: Set<String> = [
        "type", "description", "properties", "required", "one_of_required", "enum", "minimum", "maximum", "items",
        "values", "default", "format", "secret", "example",
    ]

    /// Reads a schema written in a manifest.
    public static func parse(_ node: ConfigNode, file: String, path: String) throws -> ConfigSchema {
        guard case .mapping(let entries) = node.content else {
            throw ConfigError(file: file, line: node.line, path: path, message: "a schema must be a mapping")
        }
        for e in entries where !keywords.contains(e.key) {
            throw ConfigError(
                file: file, line: e.value.line, path: ConfigNode.join(path, e.key),
                message: "unknown schema keyword (known: \(keywords.sorted().joined(separator: ", ")))")
        }
        let typeName = node["type"]?.string ?? (node["properties"] != nil ? "object" : "any")
        guard let kind = Kind(rawValue: typeName) else {
            throw ConfigError(
                file: file, line: node["type"]?.line, path: ConfigNode.join(path, "type"),
                message: "unknown type \"\(typeName)\" (known: \(Kind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        var properties: [Property] = []
        if let p = node["properties"] {
            guard case .mapping(let props) = p.content else {
                throw ConfigError(
                    file: file, line: p.line, path: ConfigNode.join(path, "properties"), message: "must be a mapping")
            }
            for e in props {
                properties.append(
                    Property(
                        name: e.key,
                        schema: try parse(e.value, file: file, path: ConfigNode.join(path, "properties.\(e.key)"))))
            }
        }
        func strings(_ key: String) throws -> [String] {
            guard let n = node[key] else { return [] }
            guard case .sequence(let items) = n.content else {
                throw ConfigError(file: file, line: n.line, path: ConfigNode.join(path, key), message: "must be a list")
            }
            return try items.map {
                guard case .scalar(_, let text) = $0.content else {
                    throw ConfigError(
                        file: file, line: $0.line, path: ConfigNode.join(path, key), message: "must be a list of strings")
                }
                return text
            }
        }
        var groups: [[String]] = []
        if let g = node["one_of_required"], case .sequence(let items) = g.content {
            for item in items {
                guard case .sequence(let keys) = item.content else {
                    throw ConfigError(
                        file: file, line: item.line, path: ConfigNode.join(path, "one_of_required"),
                        message: "must be a list of key lists")
                }
                groups.append(keys.compactMap { $0.string })
            }
        }
        let required = try strings("required")
        for r in required + groups.flatMap({ $0 }) where !properties.contains(where: { $0.name == r }) {
            throw ConfigError(
                file: file, line: node["required"]?.line ?? node.line, path: path,
                message: "required key \"\(r)\" is not a property")
        }
        var secret: Secret?
        if let s = node["secret"]?.string {
            guard let v = Secret(rawValue: s) else {
                throw ConfigError(
                    file: file, line: node["secret"]?.line, path: ConfigNode.join(path, "secret"), message: "must be env or file")
            }
            secret = v
        }
        func number(_ key: String) -> Double? {
            switch node[key]?.content {
            case .scalar(.int(let i), _): Double(i)
            case .scalar(.double(let d), _): d
            default: nil
            }
        }
        let defaultValue = node["default"].map { plain($0) }
        return ConfigSchema(
            kind: kind, description: node["description"]?.string, properties: properties, required: required,
            oneOfRequired: groups, enumValues: try strings("enum"), minimum: number("minimum"), maximum: number("maximum"),
            items: try node["items"].map { try parse($0, file: file, path: ConfigNode.join(path, "items")) },
            values: try node["values"].map { try parse($0, file: file, path: ConfigNode.join(path, "values")) },
            defaultValue: defaultValue, format: node["format"]?.string, secret: secret)
    }

    /// A node as a plain value, without a schema.
    public static func plain(_ node: ConfigNode) -> Value {
        switch node.content {
        case .scalar(.null, _): .null
        case .scalar(.bool(let b), _): .bool(b)
        case .scalar(.int(let i), _): .int(Int64(i))
        case .scalar(.double(let d), _): .double(d)
        case .scalar(.string(let s), _): .string(s)
        case .sequence(let items): .array(items.map(plain))
        case .mapping(let entries):
            .object(Dictionary(entries.map { ($0.key, plain($0.value)) }, uniquingKeysWith: { a, _ in a }))
        }
    }

    /// A description of the schema as JSON, for `meow plugins describe --output json`.
    public var json: Value {
        var o: [String: Value] = ["type": .string(kind.rawValue)]
        if let description { o["description"] = .string(description) }
        if !properties.isEmpty {
            o["properties"] = .object(Dictionary(properties.map { ($0.name, $0.schema.json) }, uniquingKeysWith: { a, _ in a }))
        }
        if !required.isEmpty { o["required"] = .array(required.map { .string($0) }) }
        if !oneOfRequired.isEmpty { o["one_of_required"] = .array(oneOfRequired.map { .array($0.map { .string($0) }) }) }
        if !enumValues.isEmpty { o["enum"] = .array(enumValues.map { .string($0) }) }
        if let minimum { o["minimum"] = .double(minimum) }
        if let maximum { o["maximum"] = .double(maximum) }
        if let items { o["items"] = items.json }
        if let values { o["values"] = values.json }
        if let defaultValue { o["default"] = defaultValue }
        if let format { o["format"] = .string(format) }
        if let secret { o["secret"] = .string(secret.rawValue) }
        return .object(o)
    }
}

/// Checks a node against a schema and converts it to a `Value`, collecting every problem.
public struct SchemaValidator {
    public var file: String
    /// Directory that relative paths (`format: path`, `secret: file`) are resolved against.
    public var baseDirectory: URL
    public var environment: [String: String]
    /// Check that secrets exist (env vars set, files readable).
    public var checkSecrets = true
    public private(set) var errors: [ConfigError] = []

    public init(file: String, baseDirectory: URL, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.file = file
        self.baseDirectory = baseDirectory
        self.environment = environment
    }

    mutating func fail(_ node: ConfigNode?, _ path: String, _ message: String) {
        errors.append(ConfigError(file: file, line: node?.line, path: path, message: message))
    }

    /// The value, with defaults filled in; nil when the node is wrong (the problem is in `errors`).
    public mutating func validate(_ node: ConfigNode, against schema: ConfigSchema, path: String) -> Value? {
        switch schema.kind {
        case .any:
            return ConfigSchema.plain(node)
        case .object:
            guard case .mapping(let entries) = node.content else {
                fail(node, path, "expected a mapping, got \(node.typeName)")
                return nil
            }
            var out: [String: Value] = [:]
            var ok = true
            for e in entries {
                let p = ConfigNode.join(path, e.key)
                guard let sub = schema.property(e.key) else {
                    let known = schema.properties.map(\.name)
                    let hint = Self.closest(e.key, in: known).map { " (did you mean \"\($0)\"?)" } ?? ""
                    fail(e.value, p, "unknown key\(hint); known keys: \(known.joined(separator: ", "))")
                    ok = false
                    continue
                }
                if case .scalar(.null, _) = e.value.content { continue }
                if let v = validate(e.value, against: sub, path: p) { out[e.key] = v } else { ok = false }
            }
            for r in schema.required where out[r] == nil && !entries.contains(where: { $0.key == r }) {
                fail(
                    node, ConfigNode.join(path, r),
                    "required key is missing" + (schema.property(r)?.description.map { " (\($0))" } ?? ""))
                ok = false
            }
            for group in schema.oneOfRequired {
                let set = group.filter { key in entries.contains { $0.key == key } }
                if set.count != 1 {
                    fail(
                        node, path,
                        set.isEmpty
                            ? "one of \(group.joined(separator: ", ")) is required"
                            : "only one of \(group.joined(separator: ", ")) may be set (found \(set.joined(separator: ", ")))")
                    ok = false
                }
            }
            for p in schema.properties where out[p.name] == nil {
                if let d = p.schema.defaultValue { out[p.name] = p.schema.kind == .duration ? durationValue(d) ?? d : d }
            }
            return ok ? .object(out) : nil
        case .map:
            guard case .mapping(let entries) = node.content else {
                fail(node, path, "expected a mapping, got \(node.typeName)")
                return nil
            }
            var out: [String: Value] = [:]
            var ok = true
            for e in entries {
                if let s = schema.values {
                    if let v = validate(e.value, against: s, path: ConfigNode.join(path, e.key)) {
                        out[e.key] = v
                    } else {
                        ok = false
                    }
                } else {
                    out[e.key] = ConfigSchema.plain(e.value)
                }
            }
            return ok ? .object(out) : nil
        case .array:
            guard case .sequence(let items) = node.content else {
                fail(node, path, "expected a list, got \(node.typeName)")
                return nil
            }
            var out: [Value] = []
            var ok = true
            for (i, item) in items.enumerated() {
                if let s = schema.items {
                    if let v = validate(item, against: s, path: "\(path)[\(i)]") { out.append(v) } else { ok = false }
                } else {
                    out.append(ConfigSchema.plain(item))
                }
            }
            return ok ? .array(out) : nil
        case .string:
            guard case .scalar(let s, let text) = node.content, s != .null else {
                fail(node, path, "expected a string, got \(node.typeName)")
                return nil
            }
            if case .string = s {
            } else if case .bool = s {
                fail(node, path, "expected a string, got a boolean (quote it: \"\(text)\")")
                return nil
            }
            return checkString(text, node: node, schema: schema, path: path)
        case .integer:
            guard case .scalar(.int(let i), _) = node.content else {
                fail(node, path, "expected an integer, got \(node.typeName)")
                return nil
            }
            return checkRange(Double(i), node: node, schema: schema, path: path) ? .int(Int64(i)) : nil
        case .number:
            let d: Double
            switch node.content {
            case .scalar(.int(let i), _): d = Double(i)
            case .scalar(.double(let x), _): d = x
            default:
                fail(node, path, "expected a number, got \(node.typeName)")
                return nil
            }
            return checkRange(d, node: node, schema: schema, path: path) ? .double(d) : nil
        case .boolean:
            guard case .scalar(.bool(let b), _) = node.content else {
                fail(node, path, "expected true or false, got \(node.typeName)")
                return nil
            }
            return .bool(b)
        case .duration:
            let seconds: Double
            switch node.content {
            case .scalar(.int(let i), _): seconds = Double(i)
            case .scalar(.double(let d), _): seconds = d
            case .scalar(.string(let s), _):
                guard let d = Timestamp.parseDuration(s) else {
                    fail(node, path, "expected a duration such as 500ms, 30s, 5m or 1h, got \"\(s)\"")
                    return nil
                }
                seconds = d
            default:
                fail(node, path, "expected a duration such as 30s, got \(node.typeName)")
                return nil
            }
            return checkRange(seconds, node: node, schema: schema, path: path) ? .double(seconds) : nil
        }
    }

    private func durationValue(_ v: Value) -> Value? {
        if let s = v.stringValue, let d = Timestamp.parseDuration(s) { return .double(d) }
        return nil
    }

    private mutating func checkRange(_ d: Double, node: ConfigNode, schema: ConfigSchema, path: String) -> Bool {
        if let min = schema.minimum, d < min {
            fail(node, path, "must be at least \(Self.number(min))\(schema.kind == .duration ? "s" : "")")
            return false
        }
        if let max = schema.maximum, d > max {
            fail(node, path, "must be at most \(Self.number(max))\(schema.kind == .duration ? "s" : "")")
            return false
        }
        return true
    }

    static func number(_ d: Double) -> String { d.rounded() == d ? String(Int64(d)) : String(d) }

    private mutating func checkString(_ text: String, node: ConfigNode, schema: ConfigSchema, path: String) -> Value? {
        if !schema.enumValues.isEmpty && !schema.enumValues.contains(text) {
            fail(node, path, "must be one of \(schema.enumValues.joined(separator: ", ")), got \"\(text)\"")
            return nil
        }
        var value = text
        switch schema.format {
        case "url":
            guard let u = URL(string: text), let scheme = u.scheme, ["http", "https"].contains(scheme), u.host != nil else {
                fail(node, path, "expected an http:// or https:// URL, got \"\(text)\"")
                return nil
            }
        case "path":
            value = resolve(text)
        default:
            break
        }
        switch schema.secret {
        case .env:
            if checkSecrets && (environment[text] ?? "").isEmpty {
                fail(node, path, "environment variable \(text) is not set (or is empty)")
                return nil
            }
        case .file:
            value = resolve(text)
            if checkSecrets && !FileManager.default.isReadableFile(atPath: value) {
                fail(node, path, "cannot read the secret file \(value)")
                return nil
            }
        case nil:
            break
        }
        return .string(value)
    }

    func resolve(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        if path.hasPrefix("~/"), let home = environment["HOME"] { return home + path.dropFirst(1) }
        return baseDirectory.appendingPathComponent(path).standardizedFileURL.path
    }

    /// The known key nearest to a misspelled one (edit distance at most 2).
    static func closest(_ key: String, in known: [String]) -> String? {
        func distance(_ a: [Character], _ b: [Character]) -> Int {
            var row = Array(0...b.count)
            for (i, ca) in a.enumerated() {
                var prev = row[0]
                row[0] = i + 1
                for (j, cb) in b.enumerated() {
                    let cur = row[j + 1]
                    row[j + 1] = min(row[j + 1] + 1, row[j] + 1, prev + (ca == cb ? 0 : 1))
                    prev = cur
                }
            }
            return row[b.count]
        }
        let k = Array(key)
        return known.map { ($0, distance(k, Array($0))) }.filter { $0.1 <= 2 }.min { $0.1 < $1.1 }?.0
    }
}
