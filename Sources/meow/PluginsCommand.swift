import ArgumentParser
import Foundation
import MeowModel
import MeowPlugins

struct PluginsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugins",
        abstract: "The provider plugins this meow has: what they observe, their actions and configuration.",
        subcommands: [PluginsListCommand.self, PluginsDescribeCommand.self]
    )
}

struct PluginsListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the plugins (name, version, entity kinds, actions).")

    @Option(name: .long, help: "text or json.")
    var output: OutputFormat = .text

    func run() throws {
        let registry = PluginRegistry.builtin
        let manifests = registry.names.compactMap { registry.plugin($0)?.manifest }
        switch output {
        case .json:
            print(Value.array(manifests.map(\.json)).jsonString(pretty: true))
        case .text:
            let width = (manifests.map(\.name.count).max() ?? 4) + 2
            print("NAME".padding(toLength: width, withPad: " ", startingAt: 0) + "VERSION  OBSERVES / ACTIONS")
            for m in manifests {
                print(
                    m.name.padding(toLength: width, withPad: " ", startingAt: 0)
                        + m.version.padding(toLength: 9, withPad: " ", startingAt: 0)
                        + m.observes.map(\.rawValue).joined(separator: ", "))
                let actions = m.actions.map(\.name).joined(separator: ", ")
                print(String(repeating: " ", count: width + 9) + Console.dim("actions: " + (actions.isEmpty ? "none" : actions)))
            }
            print(Console.dim("\nmeow plugins describe NAME shows a plugin's configuration keys and action parameters."))
        }
    }
}

struct PluginsDescribeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "describe", abstract: "Show a plugin's manifest: configuration keys, actions and their parameters.")

    @Argument(help: "Plugin name (meow plugins list).")
    var name: String

    @Option(name: .long, help: "text or json.")
    var output: OutputFormat = .text

    func run() throws {
        let registry = PluginRegistry.builtin
        guard let m = registry.plugin(name)?.manifest else {
            throw InputError("unknown plugin \"\(name)\" (known: \(registry.names.joined(separator: ", ")))")
        }
        if output == .json {
            print(m.json.jsonString(pretty: true))
            return
        }
        print("\(Console.bold(m.name)) \(m.version)  (\(m.implementation.text))")
        print(m.description)
        print("\nObserves: \(m.observes.map(\.rawValue).joined(separator: ", "))")
        print("\n" + Console.bold("Configuration") + " (keys of a providers[] entry in meow.yaml, besides the common ones)")
        for line in Self.describe(m.config) { print("  " + line) }
        print("\n" + Console.bold("Common keys") + " (every provider instance)")
        for line in Self.describe(MeowConfig.instanceSchema) { print("  " + line) }
        print("\n" + Console.bold("Actions"))
        if m.actions.isEmpty { print("  none") }
        for a in m.actions {
            print("  \(Console.bold(a.name)) on \(a.subjectName): \(a.description)")
            for line in Self.describe(a.params) { print("      " + line) }
        }
    }

    static func describe(_ schema: ConfigSchema) -> [String] {
        var out: [String] = []
        for p in schema.properties {
            var facts: [String] = [p.schema.kind.rawValue]
            if schema.required.contains(p.name) { facts.append("required") }
            if let group = schema.oneOfRequired.first(where: { $0.contains(p.name) }) {
                facts.append("one of \(group.joined(separator: "/")) required")
            }
            if let d = p.schema.defaultValue { facts.append("default \(d.jsonString())") }
            if !p.schema.enumValues.isEmpty { facts.append(p.schema.enumValues.joined(separator: "|")) }
            if let s = p.schema.secret { facts.append(s == .env ? "names an environment variable" : "names a secret file") }
            out.append("\(p.name) (\(facts.joined(separator: ", ")))" + (p.schema.description.map { ": \($0)" } ?? ""))
        }
        return out
    }
}

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Check a meow.yaml.", subcommands: [ConfigValidateCommand.self])
}

struct ConfigValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Validate meow.yaml against the plugins' schemas; every problem with its file, line and key.",
        discussion: """
            Exit 0 when valid, 2 when not (each problem is printed as FILE:LINE: KEY: MESSAGE).
            --connect also asks every enabled provider instance whether it answers and accepts its credentials
            (exit 3 when one does not).
            """)

    @Flag(name: .long, help: "Also contact every enabled provider instance (reachable? credentials accepted?).")
    var connect = false

    @Option(name: .long, help: "The config file.")
    var config: String = "meow.yaml"

    @Flag(name: .long, help: "Do not check that secrets exist (token environment variables, token files).")
    var noSecrets = false

    @Option(name: .long, help: "text or json.")
    var output: OutputFormat = .text

    func run() async throws {
        do {
            let c = try MeowConfig.load(path: config, checkSecrets: !noSecrets)
            var health: [(String, ProviderHealth)] = []
            if connect { health = try await Self.checkProviders(c) }
            var isDir: ObjCBool = false
            let rulesOK = FileManager.default.fileExists(atPath: c.rulesDirectory, isDirectory: &isDir) && isDir.boolValue
            if output == .json {
                let o: Value = .object([
                    "valid": .bool(rulesOK), "file": .string(config),
                    "environments": .array(c.environments.map { .string($0.name) }),
                    "providers": .array(
                        c.providers.map {
                            .object([
                                "name": .string($0.name), "plugin": .string($0.plugin),
                                "environment": $0.environment.map { .string($0) } ?? .null, "enabled": .bool($0.enabled),
                                "poll_interval_seconds": .double($0.pollInterval),
                            ])
                        }),
                    "rules": .string(c.rulesDirectory), "action_mode": .string(c.actionMode.rawValue),
                    "incidents": .object([
                        "mode": .string(c.incidents.mode.rawValue), "group_by": .string(c.incidents.groupBy.rawValue),
                        "resolve_after_seconds": .double(c.incidents.resolveAfter),
                        "routes": .array(
                            c.incidents.routes.map {
                                .object([
                                    "name": .string($0.name), "outputs": .array($0.outputs.map(Value.string)),
                                    "min_severity": .string($0.minSeverity.rawValue),
                                ])
                            }),
                    ]),
                    "errors": rulesOK ? .array([]) : .array([.string("rules.dir: \(c.rulesDirectory) is not a directory")]),
                    "connections": .array(
                        health.map { .object(["name": .string($0.0), "ok": .bool($0.1.ok), "message": .string($0.1.message)]) }),
                ])
                print(o.jsonString(pretty: true))
            } else {
                guard rulesOK else { throw InputError("\(config): rules.dir: \(c.rulesDirectory) is not a directory") }
                print("\(config): valid")
                print(
                    "  environments: \(c.environments.isEmpty ? "(none declared)" : c.environments.map(\.name).joined(separator: " → "))"
                )
                for p in c.providers {
                    print(
                        "  provider \(p.name): \(p.plugin)\(p.environment.map { ", environment \($0)" } ?? ""), every \(Self.duration(p.pollInterval))\(p.enabled ? "" : " (disabled)")"
                    )
                }
                print("  rules: \(c.rulesDirectory); actions: \(c.actionMode.rawValue)\(c.actionsPaused ? " (paused)" : "")")
                let a = c.actions
                let d = Timestamp.formatDuration
                print(
                    "  guardrails: cooldown \(d(a.cooldown)), \(a.perRulePerHour)/h per rule, \(a.globalPerHour)/h in all, blast radius \(a.maxActions) (protected \(a.protectedMaxActions)) per \(d(a.blastWindow)), approvals \(a.requiredApprovals) (protected \(a.protectedRequiredApprovals)) within \(d(a.approvalExpiry))"
                )
                print("  store: \(c.storePath)")
                let sv = c.server
                print(
                    "  server (meow serve): \(sv.listen), \(sv.tokens.isEmpty ? "no tokens" : sv.tokens.map { "\($0.name) (\($0.role.rawValue))" }.joined(separator: ", ")), anonymous \(sv.anonymous?.rawValue ?? "refused")"
                )
                let inc = c.incidents
                if inc.enabled {
                    print(
                        "  incidents: mode \(inc.mode.rawValue), one per rule and \(inc.groupBy.rawValue), resolved \(inc.resolveAfter > 0 ? "\(d(inc.resolveAfter)) after" : "when") the condition clears, \(inc.perHour)/h per output"
                    )
                    for r in inc.routes {
                        var match: [String] = ["severity ≥ \(r.minSeverity.rawValue)"]
                        if !r.types.isEmpty { match.append("types \(r.types.sorted().joined(separator: ","))") }
                        if !r.environments.isEmpty {
                            match.append("environments \(r.environments.sorted().joined(separator: ","))")
                        }
                        if !r.teams.isEmpty { match.append("teams \(r.teams.sorted().joined(separator: ","))") }
                        if !r.rules.isEmpty { match.append("rules \(r.rules.sorted().joined(separator: ","))") }
                        print(
                            "    route \(r.name): \(match.joined(separator: ", ")) → \(r.outputs.joined(separator: ", "))\(r.continue ? " (continue)" : "")"
                        )
                    }
                } else {
                    print("  incidents: none routed (no incidents.routes)")
                }
                for (name, h) in health {
                    print("  connect \(name): \(h.ok ? Console.green("ok") : Console.red("failed")): \(h.message)")
                }
            }
            if !rulesOK { throw ExitCode(2) }
            if health.contains(where: { !$0.1.ok }) { throw ExitCode(3) }
        } catch let e as ConfigErrors {
            if output == .json {
                let o: Value = .object([
                    "valid": .bool(false), "file": .string(config),
                    "errors": .array(
                        e.errors.map {
                            .object([
                                "file": .string($0.file), "line": $0.line.map { .int(Int64($0)) } ?? .null,
                                "path": .string($0.path),
                                "message": .string($0.message),
                            ])
                        }),
                ])
                print(o.jsonString(pretty: true))
                throw ExitCode(2)
            }
            throw InputError(e.description + "\n\(e.errors.count) problem\(e.errors.count == 1 ? "" : "s") in \(config)")
        }
    }

    /// Builds every enabled instance and runs its health check under its timeout, all at once.
    static func checkProviders(_ c: MeowConfig) async throws -> [(String, ProviderHealth)] {
        var providers: [(MeowConfig.ProviderInstance, any Provider)] = []
        for p in c.providers where p.enabled {
            guard let plugin = PluginRegistry.builtin.plugin(p.plugin) else { continue }
            do {
                providers.append((p, try plugin.make(c.context(for: p))))
            } catch {
                throw InputError("\(c.file):\(p.line): providers (\(p.name)): \(error)")
            }
        }
        let results = await withTaskGroup(of: (Int, ProviderHealth).self) { group in
            for (i, (instance, provider)) in providers.enumerated() {
                group.addTask {
                    let message = "no answer within \(String(format: "%g", instance.timeout))s (timeout)"
                    let health =
                        (try? await Deadline.run(seconds: instance.timeout, message: message) { await provider.checkHealth() })
                        ?? ProviderHealth(ok: false, message: message)
                    return (i, health)
                }
            }
            var out: [(Int, ProviderHealth)] = []
            for await r in group { out.append(r) }
            return out.sorted { $0.0 < $1.0 }
        }
        for (_, p) in providers { await p.shutdown() }
        return results.map { (providers[$0.0].0.name, $0.1) }
    }

    static func duration(_ t: TimeInterval) -> String {
        t >= 60 && t.truncatingRemainder(dividingBy: 60) == 0 ? "\(Int(t / 60))m" : String(format: "%gs", t)
    }
}
