import Foundation
import MeowTesting
import Testing

/// Runs the built `meow` binary (built with the tests by `swift build --build-tests`).
struct CLI {
    static let binary: URL = {
        let sibling = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("meow")
        if FileManager.default.isExecutableFile(atPath: sibling.path) { return sibling }
        return PackageRoot.url().appendingPathComponent(".build/debug/meow")
    }()

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
        func json() throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any])
        }
    }

    static func run(
        _ args: [String], in dir: URL = PackageRoot.url(), env extra: [String: String] = [:], removing: [String] = []
    ) throws -> Output {
        let p = Process()
        p.executableURL = binary
        p.arguments = args
        p.currentDirectoryURL = dir
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        for (k, v) in extra { env[k] = v }
        for k in removing { env[k] = nil }
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // read before waiting: a full pipe would block the child
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Output(
            status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    /// `run` for async tests: the blocking wait happens on a thread of its own, never on one of the
    /// (few) threads of Swift's cooperative pool, which the runtime under test needs.
    static func runAsync(
        _ args: [String], in dir: URL = PackageRoot.url(), env extra: [String: String] = [:], removing: [String] = []
    ) async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result { try run(args, in: dir, env: extra, removing: removing) })
            }.start()
        }
    }
}

@Suite(.serialized) struct CLITests {
    let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("meow-cli-\(UUID().uuidString)")

    init() throws { try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true) }

    @Test func checkListsTheStandardRules() throws {
        let r = try CLI.run(["check", "--rules", "rules", "--output", "json"])
        #expect(r.status == 0)
        let rules = try #require(try r.json()["rules"] as? [[String: Any]])
        #expect(rules.count >= 8)
        #expect(rules.contains { $0["id"] as? String == "prod-auto-sync" && $0["file"] as? String == "rules/prod-auto-sync.lua" })
    }

    @Test func checkReportsBrokenFilesAsFileLineAndExits2() throws {
        let dir = try TempRules([
            "ok.lua": "policy { id = 'ok', severity = 'low', match = { kind = 'dag' }, check = function() end }",
            "bad.lua": "\n\npolicy { id = 'bad' severity = 'low' }",
        ])
        let r = try CLI.run(["check", "--rules", dir.url.path])
        #expect(r.status == 2)
        #expect(r.stdout.contains("\(dir.url.path)/bad.lua:3:"))
        #expect(r.stdout.contains("ok"))
    }

    @Test func simulateWritesTheDecisionContractAndExits1OnViolations() throws {
        let fleet = tmp.appendingPathComponent("fleet.json").path
        #expect(try CLI.run(["fleet", "--apps", "60", "--seed", "3", "--file", fleet]).status == 0)
        let r = try CLI.run(["simulate", "--rules", "rules", "--state", fleet, "--output", "json"])
        #expect(r.status == 1)
        let json = try r.json()
        let decisions = try #require(json["decisions"] as? [[String: Any]])
        #expect(!decisions.isEmpty)
        for d in decisions {
            #expect(Set(d.keys) == ["type", "rule", "subject", "severity", "message", "evidence", "file", "line"])
            #expect(["violation", "rule_error"].contains(d["type"] as? String ?? ""))
        }
        #expect(decisions.allSatisfy { $0["type"] as? String == "violation" })
        let stats = try #require(json["stats"] as? [String: Any])
        #expect(stats["entities"] as? Int == 60 * 6 + 12 + 9)
        // text mode summarises the same decisions
        let text = try CLI.run(["simulate", "--rules", "rules", "--state", fleet])
        #expect(text.status == 1)
        #expect(text.stdout.contains("\(decisions.count) violations"))
    }

    @Test func simulateOnACleanSnapshotExits0() throws {
        let file = tmp.appendingPathComponent("empty.json")
        try #"{"schema_version": 1, "entities": []}"#.write(to: file, atomically: true, encoding: .utf8)
        let r = try CLI.run(["simulate", "--rules", "rules", "--state", file.path])
        #expect(r.status == 0)
        #expect(r.stdout.contains("No violations."))
    }

    @Test func badInputExits2WithAClearMessage() throws {
        let missing = try CLI.run(["simulate", "--rules", "rules", "--state", "/nonexistent/snap.json"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("/nonexistent/snap.json"))
        let file = tmp.appendingPathComponent("bad.json")
        try #"{"schema_version": 1, "entities": [{"kind": "application", "id": "a", "sync_policy": {"automated": 1}}]}"#
            .write(to: file, atomically: true, encoding: .utf8)
        let bad = try CLI.run(["simulate", "--rules", "rules", "--state", file.path])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("entities[0].sync_policy.automated"))
        #expect(try CLI.run(["simulate", "--rules", "/nonexistent", "--state", file.path]).status == 2)
        #expect(try CLI.run(["simulate", "--bogus"]).status == 2)
        #expect(try CLI.run(["fleet", "--apps", "-3"]).status == 2)
        let unknownRule = try CLI.run(["simulate", "--rules", "rules", "--state", file.path, "--rule", "nope"])
        #expect(unknownRule.status == 2)
    }

    @Test func testRunsRuleTestsAndExits1OnFailure() throws {
        let ok = try CLI.run(["test", "--rules", "rules"])
        #expect(ok.status == 0)
        #expect(ok.stdout.contains(" passed, 0 failed"))
        let dir = try TempRules([
            "r.lua": "policy { id = 'r', severity = 'low', match = { kind = 'dag' }, check = function(d) return deny('x') end }",
            "r_test.lua": "test \"expects nothing\" { entities = { dag { name = 'etl' } }, expect = {} }",
        ])
        let fail = try CLI.run(["test", "--rules", dir.url.path, "--output", "json"])
        #expect(fail.status == 1)
        let summary = try #require(try fail.json()["summary"] as? [String: Int])
        #expect(summary["failed"] == 1)
    }

    @Test func theDocsExamplesRunAsDocumented() throws {
        // docs/rules.md shows these files; they must load, pass their tests and fire on the example snapshot.
        #expect(try CLI.run(["check", "--rules", "docs/examples/rules"]).status == 0)
        let tests = try CLI.run(["test", "--rules", "docs/examples/rules"])
        #expect(tests.status == 0)
        #expect(tests.stdout.contains(" 0 failed"))
        let sim = try CLI.run([
            "simulate", "--rules", "docs/examples/rules", "--state", "docs/examples/snapshot.json", "--output", "json",
        ])
        #expect(sim.status == 1)
        let decisions = try #require(try sim.json()["decisions"] as? [[String: Any]])
        #expect(decisions.count >= 3)
        #expect(decisions.allSatisfy { $0["type"] as? String != "rule_error" })
        #expect(decisions.contains { $0["type"] as? String == "violation" })
    }

    @Test func demoReportsFaultsAndFindings() throws {
        let r = try CLI.run(["demo", "--apps", "8", "--faults", "3", "--duration", "3h", "--output", "json"])
        #expect(r.status == 0)
        let json = try r.json()
        #expect((json["environments"] as? [[String: Any]])?.count == 3)
        let faults = try #require(json["faults"] as? [[String: Any]])
        #expect(faults.count == 3)
        #expect(faults.allSatisfy { $0["detected"] is Bool && $0["fault"] is [String: Any] })
        #expect(json["false_alarms"] is Int)
        #expect(json["steps"] as? Int == 18)
        #expect(try CLI.run(["demo", "--duration", "soon"]).status == 2)
    }

    /// The demo ends with the action pipeline: proposed → approved → executed → effect observed.
    @Test func demoRunsActionsThroughThePipelineToTheirObservedEffect() throws {
        let r = try CLI.run(["demo", "--apps", "20", "--duration", "6h", "--act", "3", "--output", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let actions = try #require(try r.json()["actions"] as? [String: Any])
        #expect((actions["proposed"] as? Int ?? 0) >= 3)
        #expect(actions["approved"] as? Int == 3)
        #expect(actions["executed"] as? Int == 3)
        #expect(actions["effect_observed"] as? Int == 3)
        let stories = try #require(actions["stories"] as? [[String: Any]])
        for story in stories {
            let steps = (story["ledger"] as? [[String: Any]] ?? []).compactMap { $0["step"] as? String }
            #expect(steps == ["proposed", "awaiting_approval", "approval", "approved", "executing", "succeeded", "observed"])
            let ledger = story["ledger"] as? [[String: Any]] ?? []
            #expect(ledger.first { $0["step"] as? String == "approval" }?["actor"] as? String == "demo-oncall")
            #expect((ledger.last?["message"] as? String)?.contains("no longer proposes it") == true)
            #expect((story["action"] as? [String: Any])?["state"] as? String == "succeeded")
        }
        let text = try CLI.run(["demo", "--apps", "20", "--duration", "6h"])
        #expect(text.stdout.contains("approved by demo-oncall"))
        #expect(text.stdout.contains("observed"))
    }

    @Test func simulateFleetStreamsJSONLinesWithTimes() throws {
        let truth = tmp.appendingPathComponent("truth.json")
        let r = try CLI.run([
            "simulate", "--rules", "rules", "--fleet", "--apps", "6", "--faults", "2", "--duration", "2h",
            "--step", "20m", "--output", "json", "--truth", truth.path,
        ])
        #expect(r.status == 1)
        let lines = r.stdout.split(separator: "\n")
        #expect(!lines.isEmpty)
        for line in lines {
            let o = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(["firing", "resolved"].contains(o["event"] as? String ?? ""))
            #expect((o["time"] as? String)?.hasPrefix("2026-01-01T") == true)
        }
        let faults = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: truth)) as? [[String: Any]])
        #expect(faults.count == 2)
        #expect(try CLI.run(["simulate", "--rules", "rules"]).status == 2)  // neither --state nor --fleet
    }

    @Test func fleetIsByteIdenticalForASeed() throws {
        let a = try CLI.run(["fleet", "--apps", "40", "--seed", "9"])
        let b = try CLI.run(["fleet", "--apps", "40", "--seed", "9"])
        #expect(a.status == 0)
        #expect(a.stdout == b.stdout)
        #expect(a.stdout.count > 10_000)
    }

    @Test func simulatedFleetWithFaultsIsByteIdenticalAndWritesTheTruth() throws {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("meow-fleet-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        let args = [
            "fleet", "--apps", "30", "--seed", "4", "--history", "1d", "--step", "10m", "--series-window", "48", "--faults", "3",
        ]
        let a = try CLI.run(args + ["--truth", tmp.appendingPathComponent("a.json").path])
        let b = try CLI.run(args + ["--truth", tmp.appendingPathComponent("b.json").path])
        #expect(a.status == 0)
        #expect(a.stdout == b.stdout)
        let truthA = try Data(contentsOf: tmp.appendingPathComponent("a.json"))
        #expect(truthA == (try Data(contentsOf: tmp.appendingPathComponent("b.json"))))
        let faults = try #require(try JSONSerialization.jsonObject(with: truthA) as? [[String: Any]])
        #expect(faults.count == 3)
        #expect(faults.allSatisfy { !($0["subjects"] as? [String] ?? []).isEmpty && $0["kind"] is String })
        let entities = try #require(try a.json()["entities"] as? [[String: Any]])
        let series = entities.filter { $0["kind"] as? String == "series" }
        #expect(!series.isEmpty)
        #expect(series.filter { $0["step_seconds"] != nil }.allSatisfy { ($0["values"] as? [Double])?.count == 48 })
        // Faults need a history to show in; the static fleet (no --history) stays as it was.
        #expect(try CLI.run(["fleet", "--faults", "2"]).status == 2)
        #expect(try CLI.run(["fleet", "--history", "soon"]).status == 2)
    }

    @Test func helpShowsAnExampleRuleAndTest() throws {
        let check = try CLI.run(["check", "--help"])
        #expect(check.stdout.contains("policy {"))
        let test = try CLI.run(["test", "--help"])
        #expect(test.stdout.contains("test \"manual sync in prod is a violation\""))
        #expect(test.status == 0)
    }
}
