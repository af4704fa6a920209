import Foundation
import MeowModel

/// A plugin's manifest, `plugins/<name>/plugin.yaml` (DESIGN §7; reference in docs/plugin-authoring.md).
public struct PluginManifest: Sendable {
    public struct Action: Sendable {
        public var name: String
        public var description: String
        /// Entity kind the action applies to (`application`); nil for `subject: any` (an incident is
        /// opened about whatever the decision was about).
        public var subject: EntityKind?
        /// Parameter schema (an object schema; empty when the action takes none).
        public var params: ConfigSchema
        /// It tells people (a page, a message) and changes nothing meow observes: the guardrails that
        /// protect the observed systems (stale, cooldown, blast radius, the rule rates, pause) do not apply;
        /// the mode, the dedup, the incidents' rate limit, the breaker and the ledger do (docs/incidents.md).
        public var notification: Bool = false

        /// `any` for an action on any entity.
        public var subjectName: String { subject?.rawValue ?? "any" }
    }

    public enum Implementation: Sendable, Equatable {
        case builtin(String)
        case lua(String)

        public var text: String {
            switch self {
            case .builtin(let id): "builtin:\(id)"
            case .lua(let file): "lua:\(file)"
            }
        }
    }

    public var name: String
    public var version: String
    public var description: String
    public var implementation: Implementation
    /// Entity kinds the plugin produces.
    public var observes: [EntityKind]
    public var actions: [Action]
    /// Schema of an instance's settings in meow.yaml (besides the common keys every instance has).
    public var config: ConfigSchema
    /// Where it was read from (a file, or `builtin:<name>`).
    public var source: String

    public func action(_ name: String) -> Action? { actions.first { $0.name == name } }

    private static let keys: Set<String> = ["name", "version", "description", "implementation", "observes", "actions", "config"]

    /// Reads and checks a manifest.
    public static func parse(_ text: String, file: String) throws -> PluginManifest {
        let root = try ConfigNode.parse(text, file: file)
        guard case .mapping(let entries) = root.content else {
            throw ConfigError(file: file, line: root.line, path: "", message: "a manifest must be a mapping")
        }
        for e in entries where !keys.contains(e.key) {
            throw ConfigError(
                file: file, line: e.value.line, path: e.key,
                message: "unknown key (known: \(keys.sorted().joined(separator: ", ")))")
        }
        func required(_ key: String) throws -> String {
            guard let s = root[key]?.string, !s.isEmpty else {
                throw ConfigError(
                    file: file, line: root[key]?.line ?? root.line, path: key, message: "required string is missing")
            }
            return s
        }
        let name = try required("name")
        guard name.range(of: "^[a-z][a-z0-9_-]*$", options: .regularExpression) != nil else {
            throw ConfigError(file: file, line: root["name"]?.line, path: "name", message: "must match [a-z][a-z0-9_-]*")
        }
        let impl = try required("implementation")
        let implementation: Implementation
        if impl.hasPrefix("builtin:") {
            implementation = .builtin(String(impl.dropFirst(8)))
        } else if impl.hasPrefix("lua:") {
            implementation = .lua(String(impl.dropFirst(4)).trimmingCharacters(in: .whitespaces))
        } else {
            throw ConfigError(
                file: file, line: root["implementation"]?.line, path: "implementation",
                message: "must be builtin:<id> or lua:<file>")
        }
        var observes: [EntityKind] = []
        if let o = root["observes"] {
            guard case .sequence(let items) = o.content else {
                throw ConfigError(file: file, line: o.line, path: "observes", message: "must be a list of entity kinds")
            }
            for (i, item) in items.enumerated() {
                guard let s = item.string, let kind = EntityKind(rawValue: s) else {
                    throw ConfigError(
                        file: file, line: item.line, path: "observes[\(i)]",
                        message: "unknown entity kind (known: \(EntityKind.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                observes.append(kind)
            }
        }
        var actions: [Action] = []
        if let a = root["actions"] {
            guard case .sequence(let items) = a.content else {
                throw ConfigError(file: file, line: a.line, path: "actions", message: "must be a list")
            }
            for (i, item) in items.enumerated() {
                let path = "actions[\(i)]"
                guard let n = item["name"]?.string else {
                    throw ConfigError(file: file, line: item.line, path: path, message: "an action needs a name")
                }
                if actions.contains(where: { $0.name == n }) {
                    throw ConfigError(file: file, line: item.line, path: path, message: "duplicate action \"\(n)\"")
                }
                guard let s = item["subject"]?.string, s == "any" || EntityKind(rawValue: s) != nil else {
                    throw ConfigError(
                        file: file, line: item.line, path: "\(path).subject",
                        message: "an action needs a subject entity kind (or any)")
                }
                let subject = EntityKind(rawValue: s)
                var notification = false
                if let n = item["notification"] {
                    guard case .scalar(.bool(let b), _) = n.content else {
                        throw ConfigError(
                            file: file, line: n.line, path: "\(path).notification", message: "must be true or false")
                    }
                    notification = b
                }
                let params =
                    try item["params"].map { try ConfigSchema.parse($0, file: file, path: "\(path).params") }
                    ?? ConfigSchema(kind: .object)
                actions.append(
                    Action(
                        name: n, description: item["description"]?.string ?? "", subject: subject, params: params,
                        notification: notification))
            }
        }
        let config =
            try root["config"].map { try ConfigSchema.parse($0, file: file, path: "config") } ?? ConfigSchema(kind: .object)
        guard config.kind == .object else {
            throw ConfigError(
                file: file, line: root["config"]?.line, path: "config", message: "the config schema must be of type object")
        }
        return PluginManifest(
            name: name, version: try required("version"), description: root["description"]?.string ?? "",
            implementation: implementation, observes: observes, actions: actions, config: config, source: file)
    }

    /// The manifest as JSON (`meow plugins describe --output json`).
    public var json: Value {
        .object([
            "name": .string(name), "version": .string(version), "description": .string(description),
            "implementation": .string(implementation.text), "observes": .array(observes.map { .string($0.rawValue) }),
            "actions": .array(
                actions.map {
                    .object([
                        "name": .string($0.name), "description": .string($0.description), "subject": .string($0.subjectName),
                        "params": $0.params.json, "notification": .bool($0.notification),
                    ])
                }),
            "config": config.json,
        ])
    }
}
