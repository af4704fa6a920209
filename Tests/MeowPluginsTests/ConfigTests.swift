import Foundation
import MeowModel
import MeowTesting
import Testing

@testable import MeowPlugins

@Suite struct ConfigTests {
    let env = ["ARGOCD_TOKEN": "t0ken"]

    func parse(_ text: String, env: [String: String]? = nil) throws -> MeowConfig {
        try MeowConfig.parse(text, file: "/tmp/meow.yaml", environment: env ?? self.env)
    }

    func errors(_ text: String, env: [String: String]? = nil) -> [ConfigError] {
        do {
            _ = try parse(text, env: env)
            return []
        } catch let e as ConfigErrors {
            return e.errors
        } catch {
            return [ConfigError(file: "?", line: nil, path: "", message: "\(error)")]
        }
    }

    static let valid = """
        environments:
          - name: staging
          - name: prod
            protected: true
        rules:
          dir: rules
        actions:
          mode: approve
        providers:
          - name: argocd-prod
            plugin: argocd
            environment: prod
            url: https://argocd.example.com
            token_env: ARGOCD_TOKEN
            poll_interval: 45s
            timeout: 500ms
            projects: [payments, search]
          - name: sim
            plugin: simulator
            apps: 12
            enabled: false
        """

    @Test func aValidConfigLoadsWithTypedValuesAndDefaults() throws {
        let c = try parse(Self.valid)
        #expect(c.environments.map(\.name) == ["staging", "prod"])
        #expect(c.environments[1].protected && c.environments[1].order == 1)
        #expect(c.rulesDirectory == "/tmp/rules")  // relative to the config file
        #expect(c.actionMode == .approve)
        #expect(c.providers.count == 2)
        let a = c.providers[0]
        #expect(a.pollInterval == 45 && a.timeout == 0.5 && a.breakerFailures == 5 && a.backoffMax == 300)
        #expect(a.settings["url"] == .string("https://argocd.example.com"))
        #expect(a.settings["page_size"] == .int(500))  // plugin default
        #expect(a.settings["projects"] == .array([.string("payments"), .string("search")]))
        #expect(a.settings["poll_interval"] == nil)  // common keys are not plugin settings
        #expect(c.providers[1].enabled == false && c.providers[1].settings["apps"] == .int(12))
        // environment entities in promotion order
        let envs = c.environmentEntities(at: Date(timeIntervalSince1970: 0))
        guard case .environment(let staging) = envs[0] else { Issue.record("not an environment"); return }
        #expect(staging.promotesTo == "prod" && staging.promotionOrder == 0)
    }

    @Test func unknownKeysNameTheLineAndSuggestTheNearestKey() {
        let e = errors(Self.valid.replacingOccurrences(of: "    poll_interval: 45s", with: "    poll_intervall: 45s"))
        #expect(e.count == 1)
        #expect(e[0].line == 15)
        #expect(e[0].path == "providers[0] (argocd-prod).poll_intervall")
        #expect(e[0].message.contains("did you mean \"poll_interval\""))
        #expect(e[0].description.hasPrefix("/tmp/meow.yaml:15: providers[0] (argocd-prod).poll_intervall: unknown key"))
    }

    @Test func wrongTypesAreReportedAllAtOnce() {
        let text = Self.valid
            .replacingOccurrences(of: "timeout: 500ms", with: "timeout: soon")
            .replacingOccurrences(of: "apps: 12", with: "apps: many")
            .replacingOccurrences(of: "mode: approve", with: "mode: yolo")
            .replacingOccurrences(of: "url: https://argocd.example.com", with: "url: argocd.example.com")
        let e = errors(text)
        let byPath = Dictionary(e.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(byPath["providers[0] (argocd-prod).timeout"]?.message.contains("expected a duration") == true)
        #expect(byPath["providers[0] (argocd-prod).timeout"]?.line == 16)
        #expect(byPath["providers[1] (sim).apps"]?.message == "expected an integer, got a string")
        #expect(byPath["actions.mode"]?.message.contains("must be one of dry-run, approve, auto") == true)
        #expect(byPath["providers[0] (argocd-prod).url"]?.message.contains("http:// or https:// URL") == true)
        #expect(e.count == 4)
    }

    @Test func missingSecretsAreRefusedBeforeStart() {
        let e = errors(Self.valid, env: [:])
        #expect(e.count == 1)
        #expect(e[0].path == "providers[0] (argocd-prod).token_env")
        #expect(e[0].message == "environment variable ARGOCD_TOKEN is not set (or is empty)")
        #expect(e[0].line == 14)
        // a token file that does not exist
        let file = errors(Self.valid.replacingOccurrences(of: "token_env: ARGOCD_TOKEN", with: "token_file: secrets/none"))
        #expect(file.first?.message == "cannot read the secret file /tmp/secrets/none")
        // neither, or both
        let neither = errors(Self.valid.replacingOccurrences(of: "    token_env: ARGOCD_TOKEN\n", with: ""))
        #expect(neither.first?.message == "one of token_env, token_file is required")
        #expect(neither.first?.line == 10)
    }

    @Test func unknownPluginsEnvironmentsAndDuplicatesAreErrors() {
        var text = Self.valid.replacingOccurrences(of: "plugin: simulator", with: "plugin: simulatr")
        var e = errors(text)
        #expect(
            e.first?.message
                == "unknown plugin \"simulatr\" (known: airflow, argocd, incident, kubernetes, prometheus, simulator)")
        text = Self.valid.replacingOccurrences(of: "environment: prod", with: "environment: production")
        e = errors(text)
        #expect(e.first?.message == "unknown environment \"production\" (declared: staging, prod)")
        text = Self.valid.replacingOccurrences(of: "name: sim", with: "name: argocd-prod")
        e = errors(text)
        #expect(e.contains { $0.message == "duplicate provider name \"argocd-prod\"" })
        text = Self.valid.replacingOccurrences(of: "name: sim", with: "name: Sim Fleet")
        e = errors(text)
        #expect(e.contains { $0.path == "providers[1] (Sim Fleet).name" && $0.message.contains("must match") })
    }

    @Test func yamlSyntaxErrorsNameTheLine() {
        let e = errors("providers:\n  - name: a\n    plugin: [argocd\n")
        #expect(e.count == 1)
        #expect(e[0].message.hasPrefix("not valid YAML"))
        #expect(e[0].line != nil)
        let dup = errors("rules:\n  dir: a\nrules:\n  dir: b\n")
        #expect(dup.first?.message == "duplicate key \"rules\"" && dup.first?.line == 3)
    }

    @Test func theExampleConfigValidates() throws {
        let path = PackageRoot.url().appendingPathComponent("examples/meow.yaml").path
        let c = try MeowConfig.load(path: path, environment: ["ARGOCD_TOKEN": "x"])
        #expect(c.providers.map(\.name) == ["argocd-staging", "argocd-prod"])
        #expect(c.environmentNames == ["staging", "prod"])
        #expect(FileManager.default.fileExists(atPath: c.rulesDirectory))
    }

    @Test func theConfigurationReferenceExampleValidates() throws {
        let doc = try String(
            contentsOf: PackageRoot.url().appendingPathComponent("docs/configuration.md"), encoding: .utf8)
        let blocks = doc.components(separatedBy: "```yaml\n").dropFirst().map { $0.components(separatedBy: "```")[0] }
        let configs = blocks.filter { $0.hasPrefix("# meow.yaml") }
        #expect(configs.count == 1)
        for text in configs {
            let c = try MeowConfig.parse(text, file: "docs/meow.yaml", checkSecrets: false)
            #expect(c.providers.map(\.name) == ["argocd-prod", "argocd-nonprod", "fleet"])
            #expect(c.environments.map(\.name) == ["dev", "staging", "prod"])
        }
        // and with secrets checked, the missing token is the only problem
        #expect(throws: ConfigErrors.self) { try MeowConfig.parse(configs[0], file: "docs/meow.yaml", environment: [:]) }
    }

    @Test func theOtherExampleConfigsValidate() throws {
        for (file, providers) in [
            ("examples/meow-airflow.yaml", ["airflow-prod"]), ("examples/meow-prometheus.yaml", ["prom"]),
            ("examples/meow-simulator.yaml", ["simulator"]),
        ] {
            let c = try MeowConfig.load(
                path: PackageRoot.url().appendingPathComponent(file).path, environment: ["AIRFLOW_PASSWORD": "x"])
            #expect(c.providers.map(\.name) == providers)
        }
        let prom = try MeowConfig.load(path: PackageRoot.url().appendingPathComponent("examples/meow-prometheus.yaml").path)
        let series = try #require(prom.providers.first?.settings["series"]?.arrayValue)
        #expect(series.first?["range"] == .double(3600) && series.first?["step"] == .double(60))
        #expect(series.last?["step"] == .double(60))  // the default
    }

    @Test func builtInManifestsAreTheFilesInPlugins() throws {
        let dir = PackageRoot.url().appendingPathComponent("plugins")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter {
            FileManager.default.fileExists(atPath: dir.appendingPathComponent("\($0)/plugin.yaml").path)
        }
        #expect(Set(names) == Set(PluginRegistry.embeddedManifests.map(\.name)), "run scripts/gen-manifests.py")
        #expect(PluginRegistry.builtinProblems.isEmpty, "\(PluginRegistry.builtinProblems)")
        #expect(PluginRegistry.builtin.names == names.sorted())
        for (name, text) in PluginRegistry.embeddedManifests {
            let file = try String(contentsOf: dir.appendingPathComponent("\(name)/plugin.yaml"), encoding: .utf8)
            #expect(file == text, "plugins/\(name)/plugin.yaml differs from the embedded copy: run scripts/gen-manifests.py")
            let m = try PluginManifest.parse(file, file: "plugins/\(name)/plugin.yaml")
            #expect(m.name == name)
        }
        let argocd = try #require(PluginRegistry.builtin.plugin("argocd")?.manifest)
        #expect(argocd.observes == [.application, .cluster, .change, .event])
        #expect(argocd.actions.map(\.name) == ["sync", "rollback", "terminate_operation", "refresh"])
        #expect(argocd.action("rollback")?.params.required == ["id"])
    }

    @Test func badManifestsAreRefusedWithTheKeyAndLine() {
        func problem(_ text: String) -> String {
            do {
                _ = try PluginManifest.parse(text, file: "plugin.yaml")
                return "loaded"
            } catch { return "\(error)" }
        }
        let base = "name: x\nversion: 1.0.0\nimplementation: builtin:x\n"
        #expect(problem(base + "observes: [application, widget]\n").contains("plugin.yaml:4: observes[1]: unknown entity kind"))
        #expect(
            problem(base + "config:\n  properties:\n    url: {type: strin}\n").contains(
                "plugin.yaml:6: config.properties.url.type: unknown type \"strin\""))
        #expect(problem("name: x\nversion: 1\nimplementation: python:x\n").contains("must be builtin:<id> or lua:<file>"))
        #expect(
            problem(base + "actions:\n  - name: a\n    subject: application\n  - name: a\n    subject: application\n").contains(
                "duplicate action"))
        #expect(problem(base + "colour: blue\n").contains("plugin.yaml:4: colour: unknown key"))
    }

    @Test func actionParametersAreChecked() throws {
        let m = try #require(PluginRegistry.builtin.plugin("argocd")?.manifest)
        let rollback = try #require(m.action("rollback"))
        let ok = try ActionParams.validate(["id": .int(3)], against: rollback.params, action: "rollback")
        #expect(ok["prune"] == .bool(false))  // default filled in
        #expect(throws: ProviderError.self) { try ActionParams.validate([:], against: rollback.params, action: "rollback") }
        #expect(throws: ProviderError.self) {
            try ActionParams.validate(["id": .string("3")], against: rollback.params, action: "rollback")
        }
        #expect(throws: ProviderError.self) {
            try ActionParams.validate(["id": .int(-1)], against: rollback.params, action: "rollback")
        }
        #expect(throws: ProviderError.self) {
            try ActionParams.validate(["id": .int(1), "force": .bool(true)], against: rollback.params, action: "rollback")
        }
    }
}
