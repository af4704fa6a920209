import Foundation
import MeowDoubles
import MeowTesting
import Testing

/// `meow run`, `meow config validate` and `meow plugins` as a user runs them: the built binary, a
/// meow.yaml on disk, Argo CD doubles on 127.0.0.1.
@Suite(.serialized) struct RunCommandTests {
    let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("meow-run-\(UUID().uuidString)")

    init() throws { try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true) }

    /// A meow.yaml with one Argo CD instance per (name, port), rules from the repository.
    func writeConfig(_ instances: [(String, String, Int)], extra: String = "") throws -> String {
        var text = """
            environments:
              - name: staging
              - name: prod
            rules:
              dir: \(PackageRoot.url().appendingPathComponent("rules").path)
            providers:

            """
        for (name, env, port) in instances {
            text += """
                  - name: \(name)
                    plugin: argocd
                    environment: \(env)
                    url: http://127.0.0.1:\(port)
                    token_env: ARGOCD_TOKEN
                    timeout: 2s
                    poll_interval: 200ms
                \(extra)
                """
        }
        let path = tmp.appendingPathComponent("meow.yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func run(_ args: [String], token: String? = "test-token") async throws -> CLI.Output {
        try await CLI.runAsync(
            args, env: token.map { ["ARGOCD_TOKEN": $0] } ?? [:], removing: token == nil ? ["ARGOCD_TOKEN"] : [])
    }

    @Test func runOnceShowsTheEnrichedStateAndDecisionsOfTwoInstances() async throws {
        let staging = ArgoCDDouble(fixture: .sample(environment: "staging", apps: 6))
        let prod = ArgoCDDouble(fixture: .sample(environment: "prod", apps: 8))
        let ps = try await staging.start()
        let pp = try await prod.start()
        defer {
            Task {
                await staging.stop()
                await prod.stop()
            }
        }
        let config = try writeConfig([("argocd-staging", "staging", ps), ("argocd-prod", "prod", pp)])

        let json = try await run(["run", "--config", config, "--once", "--output", "json"])
        #expect(json.status == 1, "violations found: exit 1\n\(json.stderr)")
        let o = try json.json()
        let providers = try #require(o["providers"] as? [[String: Any]])
        #expect(providers.map { $0["state"] as? String } == ["ok", "ok"])
        #expect(providers.map { $0["entities"] as? Int } == [6 + 2 + 12 + 7, 8 + 2 + 16 + 9])
        let snapshot = try #require(o["snapshot"] as? [String: Any])
        let entities = try #require(snapshot["entities"] as? [[String: Any]])
        let apps = entities.filter { $0["kind"] as? String == "application" }
        #expect(apps.count == 14)
        let payments = try #require(apps.first { $0["id"] as? String == "application/argocd-prod/payments-api-prod" })
        #expect(payments["environment"] as? String == "prod" && payments["health"] as? String == "Healthy")
        #expect(payments["provider"] as? String == "argocd-prod" && payments["owner"] as? String == "payments")
        #expect(entities.filter { $0["kind"] as? String == "environment" }.count == 2)
        let decisions = try #require(o["decisions"] as? [[String: Any]])
        let pairs = Set(decisions.map { "\($0["rule"] as? String ?? "") \($0["subject"] as? String ?? "")" })
        #expect(pairs.contains("app-degraded application/argocd-prod/identity-auth-prod"))
        #expect(pairs.contains("app-degraded application/argocd-staging/identity-auth-staging"))
        #expect(pairs.contains("prod-auto-sync application/argocd-prod/search-indexer-prod"))
        #expect(!pairs.contains("prod-auto-sync application/argocd-staging/search-indexer-staging"))  // staging may sync by hand
        #expect(pairs.contains("owner-label application/argocd-prod/ledger-sync-prod"))

        let text = try await run(["run", "--config", config, "--once"])
        #expect(text.status == 1)
        #expect(text.stdout.contains("argocd-prod     argocd     ok"))
        #expect(text.stdout.contains("prod     application/argocd-prod/identity-auth-prod"))
        #expect(text.stdout.contains("app-degraded"))
    }

    /// The README's example exactly as a user runs it: examples/meow.yaml names ports 18081 and 18082.
    @Test func theExampleConfigRunsAgainstTheDoubles() async throws {
        let staging = ArgoCDDouble(fixture: .sample(environment: "staging"))
        let prod = ArgoCDDouble(fixture: .sample(environment: "prod"))
        _ = try await staging.start(port: 18081)
        _ = try await prod.start(port: 18082)
        defer {
            Task {
                await staging.stop()
                await prod.stop()
            }
        }
        let r = try await run(["run", "--config", "examples/meow.yaml", "--once"])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stdout.contains("argocd-staging  argocd     ok"))
        #expect(r.stdout.contains("argocd-prod     argocd     ok"))
        #expect(r.stdout.contains("Applications (16)"))
        #expect(r.stdout.contains("prod-auto-sync"))
        let connect = try await run(["config", "validate", "--config", "examples/meow.yaml", "--connect"])
        #expect(connect.status == 0, "\(connect.stderr)")
        #expect(
            connect.stdout.contains("connect argocd-prod: ok: Argo CD v2.13.1+double, logged in as meow, 8 applications visible"))
        let wrong = try await run(["config", "validate", "--config", "examples/meow.yaml", "--connect"], token: "nope")
        #expect(wrong.status == 3)
        #expect(
            wrong.stdout.contains("connect argocd-staging: failed: Argo CD v2.13.1+double answers, but the token is not accepted")
        )
    }

    @Test func aDeadInstanceIsReportedAndTheOtherStillObserved() async throws {
        let prod = ArgoCDDouble(fixture: .sample(environment: "prod", apps: 4))
        let pp = try await prod.start()
        defer { Task { await prod.stop() } }
        // a port nobody listens on: take one from a stopped double
        let dead = ArgoCDDouble(fixture: .sample(environment: "staging", apps: 1))
        let pd = try await dead.start()
        await dead.stop()
        let config = try writeConfig([("argocd-staging", "staging", pd), ("argocd-prod", "prod", pp)])
        let r = try await run(["run", "--config", config, "--once", "--output", "json"])
        #expect(r.status == 3, "a provider could not be observed: exit 3")
        let providers = try #require(try r.json()["providers"] as? [[String: Any]])
        #expect(providers[0]["state"] as? String == "failing")
        // refused (or, on a machine too loaded to see the refusal in time, cut at the timeout)
        #expect(["unavailable", "timeout"].contains(providers[0]["error_kind"] as? String ?? ""))
        #expect(providers[1]["state"] as? String == "ok" && providers[1]["entities"] as? Int == 4 + 2 + 8 + 5)
    }

    @Test func aBadTokenIsExplained() async throws {
        let prod = ArgoCDDouble(fixture: .sample(environment: "prod", apps: 2))
        let pp = try await prod.start()
        defer { Task { await prod.stop() } }
        let config = try writeConfig([("argocd-prod", "prod", pp)])
        let r = try await run(["run", "--config", config, "--once"], token: "wrong")
        #expect(r.status == 3)
        #expect(r.stdout.contains("error: GET /api/v1/applications: 401 Unauthorized from http://127.0.0.1:\(pp)"))
        #expect(r.stdout.contains("(check token_env/token_file)"))
    }

    @Test func aMissingSecretOrBadConfigIsRefusedBeforeStart() async throws {
        let config = try writeConfig([("argocd-prod", "prod", 9)], extra: "    poll_intervall: 5s\n")
        let r = try await run(["run", "--config", config, "--once"], token: nil)
        #expect(r.status == 2)
        #expect(
            r.stderr.contains("meow.yaml:11: providers[0] (argocd-prod).token_env: environment variable ARGOCD_TOKEN is not set"))
        #expect(
            r.stderr.contains(
                "meow.yaml:14: providers[0] (argocd-prod).poll_intervall: unknown key (did you mean \"poll_interval\"?)"))
        let v = try await run(["config", "validate", "--config", config, "--output", "json"], token: nil)
        #expect(v.status == 2)
        let errors = try #require(try v.json()["errors"] as? [[String: Any]])
        #expect(errors.map { $0["line"] as? Int } == [11, 14])
        let ok = try await run([
            "config", "validate", "--config", PackageRoot.url().appendingPathComponent("examples/meow.yaml").path,
        ])
        #expect(ok.status == 0 && ok.stdout.contains("valid"))
        let missing = try await run(["run", "--config", tmp.appendingPathComponent("nope.yaml").path, "--once"])
        #expect(missing.status == 2 && missing.stderr.contains("nope.yaml: cannot read the file"))
    }

    @Test func theSimulatorRunsAsAProvider() async throws {
        let r = try await run(["run", "--config", "examples/meow-simulator.yaml", "--once", "--output", "json"])
        #expect(r.status == 1, "\(r.stderr)")
        let o = try r.json()
        let providers = try #require(o["providers"] as? [[String: Any]])
        #expect(providers.first?["name"] as? String == "simulator" && providers.first?["state"] as? String == "ok")
        let entities = try #require((o["snapshot"] as? [String: Any])?["entities"] as? [[String: Any]])
        #expect(entities.filter { $0["kind"] as? String == "application" }.count == 60)
        #expect(entities.allSatisfy { $0["provider"] as? String == "simulator" || $0["kind"] as? String == "environment" })
        #expect(!(try #require(o["decisions"] as? [[String: Any]])).isEmpty)
    }

    /// examples/meow-airflow.yaml against the real Airflow 3 that `make test` starts (MEOW_AIRFLOW_URL).
    @Test(
        .enabled(
            if: ProcessInfo.processInfo.environment["MEOW_AIRFLOW_URL"] != nil
                || ProcessInfo.processInfo.environment["MEOW_REQUIRE_AIRFLOW"] == "1"))
    func theAirflowExampleRunsAgainstARealAirflow() async throws {
        let url = try #require(
            ProcessInfo.processInfo.environment["MEOW_AIRFLOW_URL"], "make test starts Airflow and sets MEOW_AIRFLOW_URL")
        #expect(url == "http://127.0.0.1:18280", "examples/meow-airflow.yaml names port 18280")
        let r = try await CLI.runAsync(
            ["run", "--config", "examples/meow-airflow.yaml", "--once", "--output", "json"], env: ["AIRFLOW_PASSWORD": "admin"])
        #expect(r.status == 1, "the broken DAG file is a violation: exit 1\n\(r.stderr)")
        let o = try r.json()
        let providers = try #require(o["providers"] as? [[String: Any]])
        #expect(providers.first?["state"] as? String == "ok")
        let entities = try #require((o["snapshot"] as? [String: Any])?["entities"] as? [[String: Any]])
        let dags = Set(entities.filter { $0["kind"] as? String == "dag" }.compactMap { $0["dag_id"] as? String })
        #expect(dags.isSuperset(of: ["meow_ok", "meow_fail", "meow_sleep"]))
        let decisions = try #require(o["decisions"] as? [[String: Any]])
        #expect(
            decisions.contains {
                $0["rule"] as? String == "dag-import-errors" && ($0["message"] as? String ?? "").contains("meow_broken.py")
            })
        let report = try await CLI.runAsync(
            ["run", "--config", "examples/meow-airflow.yaml", "--once"], env: ["AIRFLOW_PASSWORD": "admin"])
        #expect(report.stdout.contains("DAGs ("))
        #expect(report.stdout.contains("prod     dag/airflow-prod/meow_ok"))
        #expect(report.stdout.contains("dag-import-errors"))
        let text = try await CLI.runAsync(
            ["config", "validate", "--config", "examples/meow-airflow.yaml", "--connect"], env: ["AIRFLOW_PASSWORD": "admin"])
        #expect(text.status == 0, "\(text.stdout)\(text.stderr)")
        #expect(
            text.stdout.contains(
                "connect airflow-prod: ok: Airflow 3 (API v2): metadatabase healthy, scheduler healthy, dag_processor healthy"))
    }

    @Test func pluginsListAndDescribe() async throws {
        let list = try await run(["plugins", "list", "--output", "json"])
        #expect(list.status == 0)
        let plugins = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        #expect(
            plugins.map { $0["name"] as? String } == ["airflow", "argocd", "incident", "kubernetes", "prometheus", "simulator"])
        let d = try await run(["plugins", "describe", "argocd"])
        #expect(d.status == 0 && d.stdout.contains("token_env (string, one of token_env/token_file required"))
        #expect(d.stdout.contains("rollback on application"))
        let unknown = try await run(["plugins", "describe", "jenkins"])
        #expect(
            unknown.status == 2
                && unknown.stderr.contains(
                    "unknown plugin \"jenkins\" (known: airflow, argocd, incident, kubernetes, prometheus, simulator)")
        )
    }

    @Test func runPrintsChangesAsTheyHappenAndStopsOnSIGTERM() async throws {
        let prod = ArgoCDDouble(fixture: .sample(environment: "prod", apps: 4))
        let pp = try await prod.start()
        defer { Task { await prod.stop() } }
        let config = try writeConfig([("argocd-prod", "prod", pp)])
        let process = try CLI.start(["run", "--config", config, "--output", "json"], env: ["ARGOCD_TOKEN": "test-token"])
        // the first poll: app-degraded fires for identity-auth-prod
        let first = try await process.waitForLine(timeout: 60) { $0.contains("\"rule\":\"app-degraded\"") }
        #expect(first.contains("\"change\":\"new\"") && first.contains("identity-auth-prod"))
        // the app recovers in Argo CD: the next poll resolves the decision
        var app = try #require(await prod.application("identity-auth-prod"))
        if case .object(var a) = app, case .object(var status)? = a["status"] {
            status["health"] = .object(["status": .string("Healthy")])
            a["status"] = .object(status)
            app = .object(a)
        }
        await prod.upsert(application: app)
        let resolved = try await process.waitForLine(timeout: 60) {
            $0.contains("\"rule\":\"app-degraded\"") && $0.contains("\"change\":\"resolved\"")
        }
        #expect(resolved.contains("identity-auth-prod"))
        // Argo CD goes away: the provider reports failure, and the entities turn stale
        await prod.inject(.init(.status(503)))
        let failing = try await process.waitForLine(timeout: 60) {
            $0.contains("\"event\":\"provider\"") && $0.contains("\"failing\"")
        }
        #expect(failing.contains("\"error_kind\":\"unavailable\""))
        process.terminate()
        let status = try await process.wait(timeout: 60)
        #expect(status == 0)
        #expect(process.stderr().contains("meow run: stopped"))
    }
}
