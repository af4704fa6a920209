import Foundation
import MeowModel
import Yams

/// A YAML document as a tree that remembers the line of every node, so that configuration errors can
/// name the file and line (`meow.yaml:14: providers[1].url: ...`).
public struct ConfigNode: Sendable {
    public enum Scalar: Sendable, Equatable {
        case string(String)
        case int(Int)
        case double(Double)
        case bool(Bool)
        case null
    }

    public struct Entry: Sendable {
        public var key: String
        public var value: ConfigNode
    }

    public enum Content: Sendable {
        case scalar(Scalar, text: String)
        case mapping([Entry])
        case sequence([ConfigNode])
    }

    public var content: Content
    /// 1-based line in the file.
    public var line: Int

    public var typeName: String {
        switch content {
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .scalar(.null, _): "null"
        case .scalar(.bool, _): "a boolean"
        case .scalar(.int, _): "an integer"
        case .scalar(.double, _): "a number"
        case .scalar(.string, _): "a string"
        }
    }

    public subscript(key: String) -> ConfigNode? {
        guard case .mapping(let entries) = content else { return nil }
        return entries.first { $0.key == key }?.value
    }

    public var string: String? {
        if case .scalar(.string(let s), _) = content { return s }
        return nil
    }

    /// Parses YAML text; `file` names it in errors.
    public static func parse(_ text: String, file: String) throws -> ConfigNode {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch YamlError.duplicatedKeysInMapping(let duplicates, let context) {
            // Yams names the mapping; point at the second occurrence of the first duplicate key instead.
            let key = duplicates.sorted().first ?? "?"
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            let hits = lines.indices.filter {
                let l = lines[$0].drop { $0 == " " || $0 == "-" }
                return l.hasPrefix("\(key):") || l.hasPrefix("\"\(key)\":")
            }
            throw ConfigError(
                file: file, line: hits.count > 1 ? hits[1] + 1 : context.mark.line, path: "",
                message: "duplicate key \"\(key)\"")
        } catch let error as YamlError {
            throw ConfigError(file: file, line: Self.line(of: error), path: "", message: Self.describe(error))
        }
        guard let root else { return ConfigNode(content: .mapping([]), line: 1) }
        return try convert(root, file: file, path: "")
    }

    public static func load(path: String, display: String? = nil) throws -> ConfigNode {
        let name = display ?? path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(file: name, line: nil, path: "", message: "cannot read the file (does it exist?)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(file: name, line: nil, path: "", message: "not UTF-8 text")
        }
        return try parse(text, file: name)
    }

    private static func convert(_ node: Node, file: String, path: String) throws -> ConfigNode {
        let line = node.mark?.line ?? 0
        switch node {
        case .scalar(let s):
            if s.style != .plain { return ConfigNode(content: .scalar(.string(s.string), text: s.string), line: line) }
            let tag = node.tag.rawValue
            let value: Scalar
            if tag == "tag:yaml.org,2002:null" {
                value = .null
            } else if tag == "tag:yaml.org,2002:bool", let b = node.bool {
                value = .bool(b)
            } else if tag == "tag:yaml.org,2002:int", let i = node.int {
                value = .int(i)
            } else if tag == "tag:yaml.org,2002:float", let d = node.float {
                value = .double(d)
            } else {
                value = .string(s.string)
            }
            return ConfigNode(content: .scalar(value, text: s.string), line: line)
        case .mapping(let m):
            var entries: [Entry] = []
            for (k, v) in m {
                guard let key = k.string, case .scalar = k else {
                    throw ConfigError(file: file, line: k.mark?.line, path: path, message: "mapping keys must be plain strings")
                }
                if entries.contains(where: { $0.key == key }) {
                    throw ConfigError(
                        file: file, line: k.mark?.line, path: join(path, key), message: "duplicate key \"\(key)\"")
                }
                entries.append(Entry(key: key, value: try convert(v, file: file, path: join(path, key))))
            }
            return ConfigNode(content: .mapping(entries), line: line)
        case .sequence(let seq):
            var items: [ConfigNode] = []
            for (i, item) in seq.enumerated() { items.append(try convert(item, file: file, path: "\(path)[\(i)]")) }
            return ConfigNode(content: .sequence(items), line: line)
        case .alias:
            throw ConfigError(file: file, line: line, path: path, message: "YAML aliases (*name) are not supported here")
        }
    }

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    private static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        default:
            return nil
        }
    }

    private static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, _, _), .parser(let context, let problem, _, _),
            .composer(let context, let problem, _, _):
            let ctx = context.map { "\($0.text) " } ?? ""
            return "not valid YAML: \(ctx)\(problem)".replacingOccurrences(of: "  ", with: " ")
        default:
            return "not valid YAML: \(error)"
        }
    }
}

/// A configuration or manifest problem, with the file, the line and the key path.
public struct ConfigError: Error, CustomStringConvertible, Sendable, Equatable, Codable {
    public var file: String
    public var line: Int?
    /// Dotted path of the key: `providers[1].url`.
    public var path: String
    public var message: String

    public init(file: String, line: Int?, path: String, message: String) {
        self.file = file
        self.line = line
        self.path = path
        self.message = message
    }

    public var description: String {
        let location = line.map { "\(file):\($0)" } ?? file
        return path.isEmpty ? "\(location): \(message)" : "\(location): \(path): \(message)"
    }
}

/// Several configuration problems, reported together.
public struct ConfigErrors: Error, CustomStringConvertible, Sendable {
    public var errors: [ConfigError]
    public init(_ errors: [ConfigError]) { self.errors = errors }
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

extension ConfigNode {
    /// The node as a plain value (YAML objects for Kubernetes resources: quoted scalars stay strings).
    public var plainValue: Value {
        switch content {
        case .scalar(.string(let s), _): .string(s)
        case .scalar(.int(let i), _): .int(Int64(i))
        case .scalar(.double(let d), _): .double(d)
        case .scalar(.bool(let b), _): .bool(b)
        case .scalar(.null, _): .null
        case .mapping(let entries):
            .object(Dictionary(entries.map { ($0.key, $0.value.plainValue) }, uniquingKeysWith: { a, _ in a }))
        case .sequence(let items): .array(items.map(\.plainValue))
        }
    }
}
