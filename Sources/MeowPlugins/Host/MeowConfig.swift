import Foundation
import MeowModel

/// `meow.yaml`: environments, provider instances, rules, actions, store (reference: docs/configuration.md).
///
/// Loading validates everything before anything starts: unknown keys, wrong types, unknown plugins,
/// missing secrets. Every problem is reported with the file, line and key path, all at once.
public struct MeowConfig: Sendable {
    public struct Environment: Sendable, Equatable {
        public var name: String
        public var clusters: [String]
        /// Stricter guardrails apply (prod).
        public var protected: Bool
        /// Position in the promotion order: the first environment is 0.
        public var order: Int
    }

    public struct ProviderInstance: Sendable {
        public var name: String
        public var plugin: String
        public var environment: String?
        public var enabled: Bool
        public var pollInterval: TimeInterval
        public var timeout: TimeInterval
        /// Fraction of the interval added or removed at random (0.1 = ±10%).
        public var jitter: Double
        public var backoffMax: TimeInterval
        /// Consecutive failures that open the circuit breaker.
        public var breakerFailures: Int
        /// How long an open breaker waits before one trial poll.
        public var breakerCooldown: TimeInterval
        /// The plugin's own settings (validated against its manifest's config schema).
        public var settings: [String: Value]
        /// Line of the instance in the file.
        public var line: Int
    }

    public enum ActionMode: String, Sendable, CaseIterable, Codable {
        case dryRun = "dry-run"
        case approve
        case auto
    }

    public var file: String
    public var environments: [Environment]
    public var rulesDirectory: String
    public var hotReload: Bool
    public var reloadCheck: TimeInterval
    public var actionMode: ActionMode
    public var actionsPaused: Bool
    /// Guardrails and approvals (`actions:`).
    public var actions: ActionSettings
    public var storePath: String
    /// `store.retention`, in seconds.
    public var retentionHistory: TimeInterval
    public var retentionActions: TimeInterval
    public var providers: [ProviderInstance]
    /// `server:`, for `meow serve`.
    public var server = ServerSettings()
    /// `incidents:`: routing decisions to the incident outputs.
    public var incidents = IncidentSettings()

    public var environmentNames: [String] { environments.map(\.name) }

    static let topSchemaText = """
        type: object
        properties:
          environments:
            type: array
            description: environments in promotion order, first to last (dev, staging, prod)
            items:
              type: object
              required: [name]
              properties:
                name: {type: string, description: environment name}
                clusters: {type: array, items: {type: string}, description: cluster names in this environment}
                protected: {type: boolean, default: false, description: stricter guardrails (prod)}
          rules:
            type: object
            properties:
              dir: {type: string, format: path, description: "directory of rule files (default: rules, next to meow.yaml)"}
              hot_reload: {type: boolean, default: true, description: reload rule files when they change}
              reload_check: {type: duration, minimum: 0.1, default: 2s, description: how often rule files are checked}
          actions:
            type: object
            properties:
              mode: {type: string, enum: [dry-run, approve, auto], default: dry-run, description: global action mode}
              protected_mode: {type: string, enum: [dry-run, approve, auto], default: approve, description: "mode at least this strict in protected environments"}
              paused: {type: boolean, default: false, description: "global pause switch for actions"}
              timeout: {type: duration, minimum: 0.1, default: 2m, description: "limit of one action's execution"}
              dedup_window: {type: duration, minimum: 1, default: 1h, description: "a proposal repeated within this window is the same action (rules with a cooldown use it instead)"}
              cooldown: {type: duration, minimum: 0, default: 30m, description: "default wait after an execution before the same rule acts on the same subject again"}
              stale_after: {type: duration, minimum: 1, default: 10m, description: "a subject observed longer ago than this is stale"}
              rate_limit:
                type: object
                properties:
                  per_rule_per_hour: {type: integer, minimum: 1, default: 10, description: "executions per rule per hour (a rule's limit.per_hour is stricter when lower)"}
                  global_per_hour: {type: integer, minimum: 1, default: 30, description: "executions per hour in all"}
              blast_radius:
                type: object
                properties:
                  max_actions: {type: integer, minimum: 1, default: 3, description: "executions per environment within window"}
                  protected_max_actions: {type: integer, minimum: 1, default: 1, description: "the same for protected environments (prod)"}
                  window: {type: duration, minimum: 1, default: 10m, description: "the blast-radius window"}
              approvals:
                type: object
                properties:
                  expiry: {type: duration, minimum: 1, default: 4h, description: "an action not approved within this time expires"}
                  required: {type: integer, minimum: 1, maximum: 5, default: 1, description: "approvals needed (each from a different person, never the requester)"}
                  protected_required: {type: integer, minimum: 1, maximum: 5, default: 2, description: "approvals needed in protected environments"}
              breaker:
                type: object
                properties:
                  failures: {type: integer, minimum: 1, default: 3, description: "consecutive failed executions on one provider instance that stop its actions"}
                  cooldown: {type: duration, minimum: 1, default: 15m, description: "how long the breaker stays open after the last failure"}
          store:
            type: object
            properties:
              path: {type: string, format: path, description: "SQLite file of the ledger and history (default .meow/meow.db)"}
              retention:
                type: object
                properties:
                  history: {type: duration, minimum: 3600, default: 30d, description: "decisions, events and runs are kept this long"}
                  actions: {type: duration, minimum: 3600, default: 90d, description: "finished actions and their ledger are kept this long"}
          server:
            type: object
            description: "meow serve: the sidecar HTTP API (docs/api.md)"
            properties:
              listen: {type: string, default: "127.0.0.1:7070", description: "HOST:PORT, or unix:/path/to/socket for a sidecar"}
              anonymous: {type: string, enum: [none, viewer, operator, approver, admin], description: "role of requests without a token (default: viewer without tokens, none with tokens)"}
              max_body: {type: integer, minimum: 1024, default: 1048576, description: "largest request body in bytes (413 beyond)"}
              request_timeout: {type: duration, minimum: 0.1, default: 30s, description: "limit of one request (SSE streams excepted)"}
              max_page: {type: integer, minimum: 1, default: 1000, description: "largest page of a list route"}
              tokens:
                type: array
                description: "bearer tokens; the name is the identity the ledger records"
                items:
                  type: object
                  required: [name, role, token_env]
                  properties:
                    name: {type: string, description: "identity: alice, dashboard"}
                    role: {type: string, enum: [viewer, operator, approver, admin], description: "what the token may do"}
                    token_env: {type: string, secret: env, description: "environment variable holding the token"}
          incidents: {type: any, description: "incident routing (docs/incidents.md); checked against its own schema"}
          providers:
            type: array
            description: provider instances
            items: {type: any}
        """

    static let instanceSchemaText = """
        type: object
        required: [name, plugin]
        properties:
          name: {type: string, description: "instance name, unique: argocd-prod"}
          plugin: {type: string, description: plugin name (meow plugins list)}
          environment: {type: string, description: default environment of the instance's entities}
          enabled: {type: boolean, default: true, description: set false to keep an instance in the file without polling it}
          poll_interval: {type: duration, minimum: 0.05, default: 30s, description: time between polls}
          timeout: {type: duration, minimum: 0.05, default: 10s, description: limit of one poll (all its requests)}
          jitter: {type: number, minimum: 0, maximum: 0.5, default: 0.1, description: random spread of the interval (0.1 = ±10%)}
          backoff_max: {type: duration, minimum: 0.05, default: 5m, description: longest wait between retries after failures}
          breaker_failures: {type: integer, minimum: 1, default: 5, description: consecutive failures that open the circuit breaker}
          breaker_cooldown: {type: duration, minimum: 0.05, default: 2m, description: wait of an open breaker before a trial poll}
        """

    static let topSchema: ConfigSchema = {
        // Both texts are constants checked by the tests.
        try! ConfigSchema.parse(try! ConfigNode.parse(topSchemaText, file: "meow.yaml schema"), file: "schema", path: "")
    }()

    public static let instanceSchema: ConfigSchema = {
        try! ConfigSchema.parse(try! ConfigNode.parse(instanceSchemaText, file: "instance schema"), file: "schema", path: "")
    }()

    static let commonKeys = Set(instanceSchema.properties.map(\.name))

    /// Loads and validates a config file. Throws `ConfigErrors` listing every problem.
    public static func load(
        path: String, registry: PluginRegistry = .builtin,
        environment: [String: String] = ProcessInfo.processInfo.environment, checkSecrets: Bool = true
    ) throws -> MeowConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigErrors([ConfigError(file: path, line: nil, path: "", message: "cannot read the file (does it exist?)")])
        }
        return try parse(
            String(decoding: data, as: UTF8.self), file: path, registry: registry, environment: environment,
            checkSecrets: checkSecrets)
    }

    public static func parse(
        _ text: String, file: String, registry: PluginRegistry = .builtin,
        environment: [String: String] = ProcessInfo.processInfo.environment, checkSecrets: Bool = true
    ) throws -> MeowConfig {
        let root: ConfigNode
        do { root = try ConfigNode.parse(text, file: file) } catch let e as ConfigError { throw ConfigErrors([e]) }
        let base = URL(fileURLWithPath: file).deletingLastPathComponent()
        var v = SchemaValidator(file: file, baseDirectory: base, environment: environment)
        v.checkSecrets = checkSecrets
        let top = v.validate(root, against: topSchema, path: "")
        var errors = v.errors

        // environments
        var envs: [Environment] = []
        for (i, e) in (top?["environments"]?.arrayValue ?? []).enumerated() {
            guard let name = e["name"]?.stringValue else { continue }
            let node = root["environments"].flatMap { n -> ConfigNode? in
                if case .sequence(let items) = n.content, i < items.count { return items[i] }
                return nil
            }
            if envs.contains(where: { $0.name == name }) {
                errors.append(
                    ConfigError(
                        file: file, line: node?.line, path: "environments[\(i)].name",
                        message: "duplicate environment \"\(name)\""))
            }
            envs.append(
                Environment(
                    name: name, clusters: e["clusters"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                    protected: e["protected"]?.boolValue ?? false, order: i))
        }

        // providers
        var instances: [ProviderInstance] = []
        var seenNames = Set<String>()
        if let list = root["providers"], case .sequence(let items) = list.content {
            for (i, item) in items.enumerated() {
                let path = "providers[\(i)]"
                guard case .mapping = item.content else {
                    errors.append(
                        ConfigError(file: file, line: item.line, path: path, message: "expected a mapping, got \(item.typeName)"))
                    continue
                }
                guard let pluginName = item["plugin"]?.string else {
                    errors.append(
                        ConfigError(
                            file: file, line: item.line, path: "\(path).plugin",
                            message: "required key is missing (meow plugins list)"))
                    continue
                }
                guard let plugin = registry.plugin(pluginName) else {
                    errors.append(
                        ConfigError(
                            file: file, line: item["plugin"]?.line, path: "\(path).plugin",
                            message: "unknown plugin \"\(pluginName)\" (known: \(registry.names.joined(separator: ", ")))"))
                    continue
                }
                let label = item["name"]?.string.map { "\(path) (\($0))" } ?? path
                var iv = SchemaValidator(file: file, baseDirectory: base, environment: environment)
                iv.checkSecrets = checkSecrets
                let schema = instanceSchema.merged(with: plugin.manifest.config)
                let value = iv.validate(item, against: schema, path: label)
                errors += iv.errors
                let name = item["name"]?.string ?? ""
                if item["name"] != nil, name.range(of: "^[a-z0-9][a-z0-9_-]*$", options: .regularExpression) == nil {
                    errors.append(
                        ConfigError(
                            file: file, line: item["name"]?.line, path: "\(label).name",
                            message: "must match [a-z0-9][a-z0-9_-]* (it is part of entity ids)"))
                }
                if !name.isEmpty, instances.contains(where: { $0.name == name }) || seenNames.contains(name) {
                    errors.append(
                        ConfigError(
                            file: file, line: item["name"]?.line, path: "\(label).name",
                            message: "duplicate provider name \"\(name)\""))
                }
                seenNames.insert(name)
                let env = item["environment"]?.string
                if let env, !envs.isEmpty, !envs.contains(where: { $0.name == env }) {
                    errors.append(
                        ConfigError(
                            file: file, line: item["environment"]?.line, path: "\(label).environment",
                            message: "unknown environment \"\(env)\" (declared: \(envs.map(\.name).joined(separator: ", ")))"))
                }
                guard case .object(let fields)? = value else { continue }
                let d = { (k: String) in fields[k]?.doubleValue ?? 0 }
                let instance = ProviderInstance(
                    name: name, plugin: pluginName, environment: env, enabled: fields["enabled"]?.boolValue ?? true,
                    pollInterval: d("poll_interval"), timeout: d("timeout"), jitter: d("jitter"), backoffMax: d("backoff_max"),
                    breakerFailures: Int(fields["breaker_failures"]?.intValue ?? 5), breakerCooldown: d("breaker_cooldown"),
                    settings: fields.filter { !commonKeys.contains($0.key) }, line: item.line)
                instances.append(instance)
            }
        }
        let (server, serverErrors) = ServerSettings.parse(
            top?["server"], node: root["server"], file: file, environment: environment, checkSecrets: checkSecrets)
        errors += serverErrors
        var incidentValue: Value?
        if let node = root["incidents"] {
            var iv = SchemaValidator(file: file, baseDirectory: base, environment: environment)
            iv.checkSecrets = checkSecrets
            incidentValue = iv.validate(node, against: IncidentSettings.schema, path: "incidents")
            errors += iv.errors
        }
        let (incidents, incidentErrors) = IncidentSettings.parse(
            incidentValue, node: root["incidents"], file: file, instances: instances, environments: envs.map(\.name))
        errors += incidentErrors
        if !errors.isEmpty { throw ConfigErrors(errors) }
        let rules = top?["rules"]
        return MeowConfig(
            file: file, environments: envs,
            rulesDirectory: rules?["dir"]?.stringValue ?? base.appendingPathComponent("rules").standardizedFileURL.path,
            hotReload: rules?["hot_reload"]?.boolValue ?? true, reloadCheck: rules?["reload_check"]?.doubleValue ?? 2,
            actionMode: ActionMode(rawValue: top?["actions"]?["mode"]?.stringValue ?? "dry-run") ?? .dryRun,
            actionsPaused: top?["actions"]?["paused"]?.boolValue ?? false,
            actions: ActionSettings(top?["actions"]),
            storePath: top?["store"]?["path"]?.stringValue
                ?? base.appendingPathComponent(".meow/meow.db").standardizedFileURL.path,
            retentionHistory: top?["store"]?["retention"]?["history"]?.doubleValue ?? 30 * 86400,
            retentionActions: top?["store"]?["retention"]?["actions"]?.doubleValue ?? 90 * 86400,
            providers: instances, server: server, incidents: incidents)
    }

    /// Protected environments (stricter guardrails).
    public var protectedEnvironments: Set<String> { Set(environments.filter(\.protected).map(\.name)) }

    /// The context a plugin factory gets for one instance.
    public func context(for instance: ProviderInstance) -> ProviderContext {
        ProviderContext(
            name: instance.name, environment: instance.environment, settings: instance.settings, timeout: instance.timeout,
            environments: environmentNames, configFile: file)
    }

    /// The `environment` entities the config declares (promotion order, clusters).
    public func environmentEntities(at time: Date) -> [Entity] {
        environments.map { e in
            let next = environments.first { $0.order == e.order + 1 }?.name
            return .environment(
                EnvironmentEntity(
                    id: "environment/\(e.name)", name: e.name, observedAt: time, provider: "config",
                    clusters: e.clusters, promotionOrder: e.order, promotesTo: next))
        }
    }
}

/// The `actions:` section: mode, pause, guardrails and approvals (docs/actions.md).
public struct ActionSettings: Sendable, Equatable {
    public var mode: MeowConfig.ActionMode = .dryRun
    /// Protected environments use at least this mode.
    public var protectedMode: MeowConfig.ActionMode = .approve
    public var paused = false
    public var timeout: TimeInterval = 120
    public var dedupWindow: TimeInterval = 3600
    public var cooldown: TimeInterval = 1800
    public var staleAfter: TimeInterval = 600
    public var perRulePerHour = 10
    public var globalPerHour = 30
    public var maxActions = 3
    public var protectedMaxActions = 1
    public var blastWindow: TimeInterval = 600
    public var approvalExpiry: TimeInterval = 4 * 3600
    public var requiredApprovals = 1
    public var protectedRequiredApprovals = 2
    public var breakerFailures = 3
    public var breakerCooldown: TimeInterval = 900

    public init() {}

    /// From the validated `actions` value (defaults filled in by the schema).
    init(_ v: Value?) {
        guard let v else { return }
        func d(_ a: String, _ b: String? = nil) -> Double? {
            let x: Value? = if let b { v[a]?[b] } else { v[a] }
            return x?.doubleValue
        }
        func i(_ a: String, _ b: String) -> Int? { v[a]?[b]?.intValue.map { Int($0) } }
        mode = v["mode"]?.stringValue.flatMap(MeowConfig.ActionMode.init) ?? mode
        protectedMode = v["protected_mode"]?.stringValue.flatMap(MeowConfig.ActionMode.init) ?? protectedMode
        paused = v["paused"]?.boolValue ?? paused
        timeout = d("timeout") ?? timeout
        dedupWindow = d("dedup_window") ?? dedupWindow
        cooldown = d("cooldown") ?? cooldown
        staleAfter = d("stale_after") ?? staleAfter
        perRulePerHour = i("rate_limit", "per_rule_per_hour") ?? perRulePerHour
        globalPerHour = i("rate_limit", "global_per_hour") ?? globalPerHour
        maxActions = i("blast_radius", "max_actions") ?? maxActions
        protectedMaxActions = i("blast_radius", "protected_max_actions") ?? protectedMaxActions
        blastWindow = d("blast_radius", "window") ?? blastWindow
        approvalExpiry = d("approvals", "expiry") ?? approvalExpiry
        requiredApprovals = i("approvals", "required") ?? requiredApprovals
        protectedRequiredApprovals = i("approvals", "protected_required") ?? protectedRequiredApprovals
        breakerFailures = i("breaker", "failures") ?? breakerFailures
        breakerCooldown = d("breaker", "cooldown") ?? breakerCooldown
    }
}
