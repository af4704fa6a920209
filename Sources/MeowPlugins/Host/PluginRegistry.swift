import Foundation
import MeowModel

/// A plugin meow can instantiate: its manifest and a factory for instances.
public struct Plugin: Sendable {
    public var manifest: PluginManifest
    public var make: @Sendable (ProviderContext) throws -> any Provider

    public init(manifest: PluginManifest, make: @escaping @Sendable (ProviderContext) throws -> any Provider) {
        self.manifest = manifest
        self.make = make
    }
}

/// The plugins this meow knows, by name.
///
/// Built-in plugins carry their manifest (a copy of `plugins/<name>/plugin.yaml`, embedded at build time)
/// and a Swift implementation named by `implementation: builtin:<id>`.
public struct PluginRegistry: Sendable {
    public private(set) var plugins: [String: Plugin] = [:]

    public init() {}

    /// Adds or replaces a plugin (tests register fakes this way).
    public mutating func register(_ plugin: Plugin) { plugins[plugin.manifest.name] = plugin }

    public func plugin(_ name: String) -> Plugin? { plugins[name] }

    public var names: [String] { plugins.keys.sorted() }

    /// Swift implementations of `builtin:<id>`.
    static let implementations: [String: @Sendable (PluginManifest, ProviderContext) throws -> any Provider] = [
        "argocd": { manifest, context in try ArgoCDProvider(manifest: manifest, context: context) },
        "airflow": { manifest, context in try AirflowProvider(manifest: manifest, context: context) },
        "prometheus": { manifest, context in try PrometheusProvider(manifest: manifest, context: context) },
        "kubernetes": { manifest, context in try KubernetesProvider(manifest: manifest, context: context) },
        "simulator": { manifest, context in try SimulatorProvider(manifest: manifest, context: context) },
        "incident": { manifest, context in try IncidentProvider(manifest: manifest, context: context) },
    ]

    /// The built-in plugins (airflow, argocd, prometheus, simulator).
    public static let builtin: PluginRegistry = loadBuiltin().registry

    /// Problems of the embedded manifests: empty in a correct build (a test checks it). A broken manifest
    /// leaves its plugin out rather than stopping meow.
    public static let builtinProblems: [String] = loadBuiltin().problems

    static func loadBuiltin() -> (registry: PluginRegistry, problems: [String]) {
        var registry = PluginRegistry()
        var problems: [String] = []
        for (name, text) in BuiltinManifests.all {
            let manifest: PluginManifest
            do {
                manifest = try PluginManifest.parse(text, file: "builtin:plugins/\(name)/plugin.yaml")
            } catch {
                problems.append("\(error)")
                continue
            }
            guard case .builtin(let id) = manifest.implementation, let make = implementations[id] else {
                problems.append("built-in plugin \(name) has no implementation \(manifest.implementation.text)")
                continue
            }
            registry.register(Plugin(manifest: manifest) { context in try make(manifest, context) })
        }
        return (registry, problems)
    }

    /// Embedded manifest texts, for the test that compares them with plugins/*/plugin.yaml.
    public static var embeddedManifests: [(name: String, text: String)] { BuiltinManifests.all }
}
