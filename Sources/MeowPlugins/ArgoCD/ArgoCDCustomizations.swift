import Foundation
import MeowModel

/// Argo CD resource customizations: health checks and resource actions written in Lua, found the way
/// Argo CD finds them (docs/argocd-lua.md).
///
/// Two sources, as in Argo CD:
/// - **overrides** from an `argocd-cm` ConfigMap: the `resource.customizations` block (keys `group/Kind`,
///   values with `health.lua` and `actions`), and the split keys
///   `resource.customizations.health.<group_kind>` and `resource.customizations.actions.<group_kind>`
///   (`apps_Deployment`, `cert-manager.io_Certificate`, `all` for every kind);
/// - **a directory** in Argo CD's `resource_customizations` layout: `<group>/<Kind>/health.lua`,
///   `<group>/<Kind>/actions/discovery.lua`, `<group>/<Kind>/actions/<name>/action.lua` (`<Kind>` alone
///   for the core group; a `_` in a directory name is a wildcard).
///
/// Health lookup: an exact override, then a wildcard override (`*` matches across `/`), then the exact
/// directory, then a wildcard directory (`_` matches within one path part). Actions: exact keys only.
public struct ArgoCDCustomizations: Sendable {
    public struct Override: Sendable, Equatable {
        public var health: String?
        public var discovery: String?
        /// Action name → action.lua.
        public var actions: [String: String] = [:]
        public var mergeBuiltinActions = false
    }

    /// Override key (`apps/Deployment`, `*.crossplane.io/*`) → scripts, in file order.
    public var overrides: [(key: String, value: Override)] = []
    /// The directory in Argo CD's layout, when one is given.
    public var directory: URL? {
        didSet { wildcards = Self.wildcardDirectories(in: directory) }
    }
    /// Its `group/Kind` directories with `_` in their names (wildcards), sorted: listed once, not per lookup.
    private(set) var wildcards: [String] = []

    public init(overrides: [(key: String, value: Override)] = [], directory: URL? = nil) {
        self.overrides = overrides
        self.directory = directory
        wildcards = Self.wildcardDirectories(in: directory)
    }

    /// Argo CD's key of a resource: `Kind` for the core group, else `group/Kind`.
    public static func key(apiVersion: String, kind: String) -> String {
        let parts = apiVersion.split(separator: "/")
        return parts.count == 2 ? "\(parts[0])/\(kind)" : kind
    }

    public static func key(of object: Value) -> String? {
        guard let kind = object["kind"]?.stringValue else { return nil }
        return key(apiVersion: object["apiVersion"]?.stringValue ?? "", kind: kind)
    }

    /// Loads a directory in Argo CD's layout, or an argocd-cm ConfigMap YAML file.
    public static func load(path: String) throws -> ArgoCDCustomizations {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw ConfigError(file: path, line: nil, path: "", message: "no such file or directory")
        }
        if isDir.boolValue { return ArgoCDCustomizations(directory: URL(fileURLWithPath: path)) }
        return try configMap(ConfigNode.load(path: path), file: path)
    }

    /// Reads the customization keys of an argocd-cm ConfigMap (its `data`), or of a bare map of them.
    public static func configMap(_ root: ConfigNode, file: String) throws -> ArgoCDCustomizations {
        let data = root["data"] ?? root
        guard case .mapping(let entries) = data.content else {
            throw ConfigError(file: file, line: data.line, path: "data", message: "expected a mapping of argocd-cm keys")
        }
        var out = ArgoCDCustomizations()
        func upsert(_ key: String, _ change: (inout Override) -> Void) {
            if let i = out.overrides.firstIndex(where: { $0.key == key }) {
                change(&out.overrides[i].value)
            } else {
                var o = Override()
                change(&o)
                out.overrides.append((key, o))
            }
        }
        for entry in entries {
            let k = entry.key
            if k == "resource.customizations" {
                guard let text = entry.value.string else {
                    throw ConfigError(file: file, line: entry.value.line, path: k, message: "expected a YAML text block")
                }
                let block = try ConfigNode.parse(text, file: "\(file): \(k)")
                guard case .mapping(let kinds) = block.content else { continue }
                for kindEntry in kinds {
                    let value = kindEntry.value
                    let actions = try value["actions"]?.string.map {
                        try parseActions($0, file: file, path: "\(k).\(kindEntry.key)")
                    }
                    upsert(kindEntry.key) { o in
                        if let h = value["health.lua"]?.string { o.health = h }
                        if let a = actions { Self.merge(a, into: &o) }
                    }
                }
            } else if k.hasPrefix("resource.customizations.") {
                let parts = k.split(separator: ".", maxSplits: 3).map(String.init)
                guard parts.count == 4 else { continue }
                let type = parts[2]
                let key = try overrideKey(parts[3], file: file, line: entry.value.line)
                switch type {
                case "health":
                    let text = entry.value.string ?? ""
                    upsert(key) { $0.health = text }
                case "actions":
                    let a = try parseActions(entry.value.string ?? "", file: file, path: k)
                    upsert(key) { Self.merge(a, into: &$0) }
                case "useOpenLibs", "ignoreDifferences", "ignoreResourceUpdates", "knownTypeFields":
                    continue
                default:
                    throw ConfigError(
                        file: file, line: entry.value.line, path: k, message: "resource customization type \(type) not supported")
                }
            }
        }
        return out
    }

    /// `apps_Deployment` → `apps/Deployment`; `Service` → `Service`; `all` → `*/*`.
    static func overrideKey(_ groupKind: String, file: String, line: Int) throws -> String {
        if groupKind == "all" { return "*/*" }
        let parts = groupKind.split(separator: "_", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 2 { return "\(parts[0])/\(parts[1])" }
        if parts.count == 1, !parts[0].isEmpty { return parts[0] }
        throw ConfigError(
            file: file, line: line, path: groupKind,
            message:
                "group kind should be in format `resource.customizations.<type>.<group_kind>` or resource.customizations.<type>.<kind>`, got group kind: '\(groupKind)'"
        )
    }

    static func parseActions(_ text: String, file: String, path: String) throws -> Override {
        let node = try ConfigNode.parse(text, file: "\(file): \(path)")
        var o = Override()
        o.discovery = node["discovery.lua"]?.string
        o.mergeBuiltinActions =
            node["mergeBuiltinActions"].flatMap { if case .scalar(.bool(let b), _) = $0.content { b } else { nil } } ?? false
        if let defs = node["definitions"], case .sequence(let items) = defs.content {
            for item in items {
                if let name = item["name"]?.string, let script = item["action.lua"]?.string { o.actions[name] = script }
            }
        }
        return o
    }

    static func merge(_ a: Override, into o: inout Override) {
        if let d = a.discovery { o.discovery = d }
        o.mergeBuiltinActions = a.mergeBuiltinActions
        for (k, v) in a.actions { o.actions[k] = v }
    }

    // MARK: Lookup

    /// The health script for a resource key, and where it came from.
    public func healthScript(for key: String) -> (script: String, source: String)? {
        if let o = overrides.first(where: { $0.key == key })?.value, let h = o.health, !h.isEmpty {
            return (h, "argocd-cm \(key)")
        }
        for (k, o) in overrides where k.contains("*") && Self.glob(k, key, crossSlash: true) {
            if let h = o.health, !h.isEmpty { return (h, "argocd-cm \(k)") }
        }
        guard let directory else { return nil }
        if let s = read(directory.appendingPathComponent(key).appendingPathComponent("health.lua")) {
            return (s, "\(key)/health.lua")
        }
        for pattern in wildcards
        where Self.glob(pattern.replacingOccurrences(of: "_", with: "*"), key, crossSlash: false) {
            if let s = read(directory.appendingPathComponent(pattern).appendingPathComponent("health.lua")) {
                return (s, "\(pattern)/health.lua")
            }
        }
        return nil
    }

    /// The discovery scripts for a resource key: the override's, then the directory's when the override
    /// merges built-in actions or there is no override.
    public func discoveryScripts(for key: String) -> [(script: String, source: String)] {
        var out: [(String, String)] = []
        let o = overrides.first(where: { $0.key == key })?.value
        if let d = o?.discovery, !d.isEmpty {
            out.append((d, "argocd-cm \(key)"))
            if o?.mergeBuiltinActions != true { return out }
        }
        if let directory, let s = read(directory.appendingPathComponent("\(key)/actions/discovery.lua")) {
            out.append((s, "\(key)/actions/discovery.lua"))
        }
        return out
    }

    /// The script of one action for a resource key.
    public func actionScript(for key: String, action: String) -> (script: String, source: String)? {
        if let s = overrides.first(where: { $0.key == key })?.value.actions[action] { return (s, "argocd-cm \(key)") }
        if let directory, let s = read(directory.appendingPathComponent("\(key)/actions/\(action)/action.lua")) {
            return (s, "\(key)/actions/\(action)/action.lua")
        }
        return nil
    }

    func read(_ url: URL) -> String? {
        FileManager.default.contents(atPath: url.path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// `group/Kind` directories whose names hold `_` (wildcards), sorted.
    static func wildcardDirectories(in directory: URL?) -> [String] {
        guard let directory else { return [] }
        var out: [String] = []
        let fm = FileManager.default
        for group in (try? fm.contentsOfDirectory(atPath: directory.path)) ?? [] {
            let g = directory.appendingPathComponent(group)
            for kind in (try? fm.contentsOfDirectory(atPath: g.path)) ?? [] {
                let path = "\(group)/\(kind)"
                if path.contains("_"),
                    fm.fileExists(atPath: g.appendingPathComponent(kind).appendingPathComponent("health.lua").path)
                {
                    out.append(path)
                }
            }
        }
        return out.sorted()
    }

    /// `*` matches any run of characters (across `/` when `crossSlash`); `?` one character.
    static func glob(_ pattern: String, _ text: String, crossSlash: Bool) -> Bool {
        let p = Array(pattern), t = Array(text)
        func match(_ i: Int, _ j: Int) -> Bool {
            if i == p.count { return j == t.count }
            if p[i] == "*" {
                var k = j
                while true {
                    if match(i + 1, k) { return true }
                    if k == t.count || (!crossSlash && t[k] == "/") { return false }
                    k += 1
                }
            }
            guard j < t.count else { return false }
            if p[i] == "?" || p[i] == t[j] { return match(i + 1, j + 1) }
            return false
        }
        return match(0, 0)
    }
}
