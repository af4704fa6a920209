import ArgumentParser
import Foundation
import LuaHost
import MeowModel
import MeowPlugins

struct LuaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lua",
        abstract: "Run Argo CD resource customization Lua scripts (health checks, resource actions) unchanged.",
        discussion: """
            The scripts run as Argo CD runs them (docs/argocd-lua.md): `obj` is the resource, `actionParams` the
            action's parameters (strings), and the result is what Argo CD would compute. Test a customization
            without a cluster:

              meow lua health --script health.lua --object rollout.yaml --output json
              meow lua discovery --script actions/discovery.lua --object rollout.yaml --output json
              meow lua action --script actions/restart/action.lua --object rollout.yaml --output json
              meow lua health --customizations resource_customizations --object rollout.yaml
              meow lua health --customizations argocd-cm.yaml --object rollout.yaml

            Exit codes: 0 ran, 1 the script failed (`{"error": ...}` on stdout with --output json), 2 usage or
            unreadable input.
            """,
        subcommands: [LuaHealth.self, LuaDiscovery.self, LuaAction.self]
    )
}

enum ObjectFormat: String, ExpressibleByArgument, CaseIterable {
    case json, yaml
}

/// Options every `meow lua` command takes.
struct LuaInput: ParsableArguments {
    @Option(name: .long, help: "The Lua script.") var script: String?
    @Option(
        name: .long,
        help: "Find the script instead: a directory in Argo CD's resource_customizations layout, or an argocd-cm ConfigMap YAML."
    )
    var customizations: String?
    @Option(name: .long, help: "The resource, JSON or YAML (- for standard input).") var object: String
    @Option(name: .long, help: "json or yaml (default: detected from the content).") var objectFormat: ObjectFormat?
    @Option(name: .long, help: "text or json.") var output: OutputFormat = .text

    func readObject() throws -> Value {
        let data: Data
        if object == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let d = FileManager.default.contents(atPath: object) else {
                throw InputError("--object \(object): cannot read the file (does it exist?)")
            }
            data = d
        }
        let text = String(decoding: data, as: UTF8.self)
        let first = text.first { !$0.isWhitespace }
        let format = objectFormat ?? (first == "{" || first == "[" ? .json : .yaml)
        let value: Value
        switch format {
        case .json:
            do {
                value = try JSONDecoder().decode(Value.self, from: data)
            } catch {
                throw InputError("--object \(object): not valid JSON (\(ProviderError.describeDecoding(error)))")
            }
        case .yaml:
            do {
                let doc = text.components(separatedBy: "\n---").first ?? text
                value = try ConfigNode.parse(doc, file: object).plainValue
            } catch {
                throw InputError("--object \(object): not valid YAML (\(error))")
            }
        }
        guard case .object = value else { throw InputError("--object \(object): expected an object (a Kubernetes resource)") }
        return value
    }

    func readScript(_ find: (ArgoCDCustomizations, String) -> (script: String, source: String)?, object: Value)
        throws -> (script: String, source: String)?
    {
        if let script {
            guard let d = FileManager.default.contents(atPath: script) else {
                throw InputError("--script \(script): cannot read the file (does it exist?)")
            }
            return (String(decoding: d, as: UTF8.self), script)
        }
        guard let customizations else { throw InputError("give --script FILE or --customizations DIR|argocd-cm.yaml") }
        let c: ArgoCDCustomizations
        do {
            c = try ArgoCDCustomizations.load(path: customizations)
        } catch {
            throw InputError("--customizations \(customizations): \(error)")
        }
        guard let key = ArgoCDCustomizations.key(of: object) else {
            throw InputError("--object \(self.object): no kind, so no customization can be looked up")
        }
        return find(c, key)
    }

    /// Prints a script failure and exits 1.
    func fail(_ e: ArgoCDScript.ScriptError) throws -> Never {
        if output == .json {
            print(Value.object(["error": .string(e.message)]).jsonString())
        } else {
            Console.error(e.message)
        }
        throw ExitCode(1)
    }
}

struct LuaHealth: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health", abstract: "Run a health.lua on a resource: {status, message}.")
    @OptionGroup var input: LuaInput

    func run() throws {
        let object = try input.readObject()
        guard let (script, source) = try input.readScript({ $0.healthScript(for: $1) }, object: object) else {
            let key = ArgoCDCustomizations.key(of: object) ?? "?"
            throw InputError("no health.lua for \(key) in \(input.customizations ?? "")")
        }
        switch ArgoCDScript.health(script: script, object: object) {
        case .failure(let e): try input.fail(e)
        case .success(let h):
            if input.output == .json {
                print(Value.object(["status": .string(h.status), "message": .string(h.message)]).jsonString())
            } else {
                print("\(h.status.isEmpty ? "(no status)" : h.status)\(h.message.isEmpty ? "" : ": \(h.message)")")
                Console.progress("script: \(source)")
            }
        }
    }
}

struct LuaDiscovery: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "discovery", abstract: "Run an actions/discovery.lua on a resource: the actions it offers.")
    @OptionGroup var input: LuaInput

    func run() throws {
        let object = try input.readObject()
        var scripts: [(script: String, source: String)] = []
        if input.script != nil {
            if let s = try input.readScript({ _, _ in nil }, object: object) { scripts = [s] }
        } else if let c = input.customizations {
            let loaded: ArgoCDCustomizations
            do { loaded = try ArgoCDCustomizations.load(path: c) } catch { throw InputError("--customizations \(c): \(error)") }
            scripts = loaded.discoveryScripts(for: ArgoCDCustomizations.key(of: object) ?? "")
        } else {
            throw InputError("give --script FILE or --customizations DIR|argocd-cm.yaml")
        }
        guard !scripts.isEmpty else { try input.fail(ArgoCDScript.ScriptError("no action discovery script provided")) }
        // As Argo CD: every script runs; the first to offer a name wins.
        var actions: [ArgoCDScript.Action] = []
        for s in scripts {
            switch ArgoCDScript.discovery(script: s.script, object: object) {
            case .failure(let e): try input.fail(e)
            case .success(let found):
                for a in found where !actions.contains(where: { $0.name == a.name }) { actions.append(a) }
            }
        }
        let json: Value = .array(actions.map(Self.json))
        if input.output == .json {
            print(json.jsonString(pretty: true))
        } else {
            for a in actions {
                let params = (a.params ?? []).map { $0.name ?? "?" }.joined(separator: ", ")
                print(
                    "\(a.name)\(a.disabled ? " (disabled)" : "")\(a.displayName.map { " — \($0)" } ?? "")\(params.isEmpty ? "" : "  params: \(params)")"
                )
            }
        }
    }

    static func json(_ a: ArgoCDScript.Action) -> Value {
        var o: [String: Value] = ["name": .string(a.name), "disabled": .bool(a.disabled)]
        if let d = a.displayName { o["displayName"] = .string(d) }
        if let i = a.iconClass { o["iconClass"] = .string(i) }
        if let p = a.params {
            o["params"] = .array(
                p.map { param in
                    var f: [String: Value] = [:]
                    if let v = param.name { f["name"] = .string(v) }
                    if let v = param.value { f["value"] = .string(v) }
                    if let v = param.type { f["type"] = .string(v) }
                    if let v = param.default { f["default"] = .string(v) }
                    return .object(f)
                })
        }
        return .object(o)
    }
}

struct LuaAction: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "action", abstract: "Run an action.lua on a resource: the patches and creations it asks for.")
    @OptionGroup var input: LuaInput
    @Option(name: .long, help: "With --customizations: the action's name.") var action: String?
    @Option(name: .long, help: "An action parameter KEY=VALUE (repeatable; scripts get strings).") var param: [String] = []

    func run() throws {
        let object = try input.readObject()
        var params: [String: String] = [:]
        for p in param {
            guard let eq = p.firstIndex(of: "="), eq != p.startIndex else { throw InputError("--param \(p): expected KEY=VALUE") }
            params[String(p[..<eq])] = String(p[p.index(after: eq)...])
        }
        if input.script == nil, action == nil, input.customizations != nil {
            throw InputError("with --customizations, give --action NAME")
        }
        let name = action ?? ""
        guard let (script, _) = try input.readScript({ $0.actionScript(for: $1, action: name) }, object: object)
        else {
            try input.fail(ArgoCDScript.ScriptError("built-in script does not exist"))
        }
        switch ArgoCDScript.action(script: script, object: object, params: params) {
        case .failure(let e): try input.fail(e)
        case .success(let impacted):
            print(Value.array(impacted.map(\.json)).jsonString(pretty: true))
        }
    }
}
