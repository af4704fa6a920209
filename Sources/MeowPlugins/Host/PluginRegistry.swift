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
        "simulator": { manifest, context in try SimulatorProvider(manifest: manifest, context: context) },
    ]

    /// The built-in plugins (argocd, simulator, ...).
    public static let builtin: PluginRegistry = {
        var registry = PluginRegistry()
        for (name, text) in BuiltinManifests.all {
            // The manifests are checked by the tests; a broken one is a build defect, not user input.
            let manifest: PluginManifest
            do {
                manifest = try PluginManifest.parse(text, file: "builtin:plugins/\(name)/plugin.yaml")
            } catch {
                preconditionFailure("built-in manifest does not load: \(error)")
            }
            guard case .builtin(let id) = manifest.implementation, let make = implementations[id] else {
                preconditionFailure("built-in plugin \(name) has no implementation \(manifest.implementation.text)")
            }
            registry.register(Plugin(manifest: manifest) { context in try make(manifest, context) })
        }
        return registry
    }()

    /// Embedded manifest texts, for the test that compares them with plugins/*/plugin.yaml.
    public static var embeddedManifests: [(name: String, text: String)] { BuiltinManifests.all }
}
