import Foundation
import MeowTesting
import Testing

/// The action pipeline through the `meow` binary: crashes (SIGKILL at each step via the test hook),
/// approvals across processes, and the `meow actions` commands. Uses examples/actions (the docs' example).
@Suite(.serialized) struct ActionsCommandTests {
    static let workload = "workload/dev-1/payments/payments-scheduler-0000"

    /// A copy of examples/actions in a temporary directory, its mode set.
    func example(mode: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("meow-actions-cli-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: PackageRoot.url().appendingPathComponent("examples/actions"), to: dir)
        let config = dir.appendingPathComponent("meow.yaml")
        let text = try String(contentsOf: config, encoding: .utf8)
            .replacingOccurrences(of: "  mode: approve ", with: "  mode: \(mode) ")
        try text.write(to: config, atomically: true, encoding: .utf8)
        return dir
    }

    func journal(_ dir: URL) throws -> [[String: Any]] {
        let url = dir.appendingPathComponent(".meow/simulator-journal.jsonl")
        guard FileManager.default.fileExists(atPath: url.path) else { return [] }
        return try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    func meow(_ args: [String], _ dir: URL, env: [String: String] = [:]) async throws -> CLI.Output {
        try await CLI.runAsync(args + ["--config", dir.appendingPathComponent("meow.yaml").path], in: dir, env: env)
    }

    func actions(_ dir: URL) async throws -> [[String: Any]] {
        let out = try await meow(["actions", "list", "--output", "json"], dir)
        #expect(out.status == 0, "\(out.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [[String: Any]])
    }

    func ledgerSteps(_ dir: URL, _ id: Int) async throws -> [String] {
        let out = try await meow(["actions", "show", String(id), "--output", "json"], dir)
        let o = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any])
        return (o["ledger"] as? [[String: Any]] ?? []).compactMap { $0["step"] as? String }
    }

    /// Killed with SIGKILL right after each step, then restarted: the action runs exactly once.
    @Test(arguments: ["proposed", "approved", "executing", "performed", "finished"])
    func aSIGKILLAtAnyStepNeitherLosesNorRepeatsTheAction(_ step: String) async throws {
        let dir = try example(mode: "auto")
        let crashed = try await meow(["run", "--once"], dir, env: ["MEOW_TEST_CRASH_AT": step])
        #expect(crashed.status == 9, "expected SIGKILL at \(step): \(crashed.status) \(crashed.stderr)")
        let executedBeforeRestart = try journal(dir).count
        #expect(executedBeforeRestart == (["performed", "finished"].contains(step) ? 1 : 0))

        let restarted = try await meow(["run", "--once"], dir)
        #expect(restarted.status == 0, "\(restarted.stdout)\n\(restarted.stderr)")
        let executed = try journal(dir)
        #expect(executed.count == 1, "executions: \(executed)")
        #expect(executed.first?["subject"] as? String == Self.workload)
        #expect((executed.first?["params"] as? [String: Any])?["replicas"] as? Int == 5)

        let list = try await actions(dir)
        #expect(list.count == 1)
        #expect(list.first?["state"] as? String == "succeeded")
        let steps = try await ledgerSteps(dir, 1)
        #expect(steps.first == "proposed")
        #expect(steps.filter { $0 == "executing" }.count == (step == "executing" ? 2 : 1))
        #expect(steps.contains("reconciled") == ["executing", "performed"].contains(step), "\(steps)")
        #expect(steps.last == "succeeded" || steps.last == "observed", "\(steps)")

        // A third pass sees the effect: the rule no longer proposes it, and nothing runs again.
        let third = try await meow(["run", "--once"], dir)
        #expect(third.status == 0)
        #expect(try journal(dir).count == 1)
        #expect(try await ledgerSteps(dir, 1).last == "observed")
    }

    /// Proposed in one process, approved from another (four-eyes), executed by the next pass; a crash
    /// between "executing" and the call is reconciled, not repeated.
    @Test func approvalFromAnotherProcessThenACrashStillExecutesOnce() async throws {
        let dir = try example(mode: "approve")
        let first = try await meow(["run", "--once"], dir)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("awaiting_approval"))
        #expect(try journal(dir).isEmpty)

        let selfApproval = try await meow(
            ["actions", "approve", "1", "--as", "scale-payments-scheduler", "--reason", "me"], dir)
        #expect(selfApproval.status == 1)
        #expect(selfApproval.stderr.contains("four-eyes"))
        let approved = try await meow(["actions", "approve", "1", "--as", "bob", "--reason", "capacity checked"], dir)
        #expect(approved.status == 0, "\(approved.stderr)")
        #expect(approved.stdout.contains("action 1: approved"))
        let twice = try await meow(["actions", "approve", "1", "--as", "bob", "--reason", "again"], dir)
        #expect(twice.status == 1)
        #expect(twice.stderr.contains("not awaiting approval"))

        let crashed = try await meow(["run", "--once"], dir, env: ["MEOW_TEST_CRASH_AT": "executing"])
        #expect(crashed.status == 9)
        let restarted = try await meow(["run", "--once"], dir)
        #expect(restarted.status == 0)
        #expect(try journal(dir).count == 1)

        let show = try await meow(["actions", "show", "1"], dir)
        #expect(show.stdout.contains("approve by bob: capacity checked"))
        for step in ["proposed", "awaiting_approval", "approval", "approved", "executing", "reconciled", "succeeded"] {
            #expect(show.stdout.contains(step), "missing \(step) in\n\(show.stdout)")
        }
        let audit = try await meow(["actions", "audit", "--since", "1h"], dir)
        #expect(audit.stdout.contains("#1  approval"))
        #expect(audit.stdout.contains("bob"))
    }

    /// The docs' live flow: a running `meow run` executes an approval given from another terminal.
    @Test func aRunningMeowExecutesAnApprovalGivenElsewhere() async throws {
        let dir = try example(mode: "approve")
        let config = dir.appendingPathComponent("meow.yaml").path
        let running = try CLI.start(["run", "--config", config, "--output", "json"])
        defer { running.terminate() }
        let waiting = try await running.waitForLine(timeout: 60) {
            $0.contains("\"event\":\"action\"") && $0.contains("\"state\":\"awaiting_approval\"")
        }
        #expect(waiting.contains("\"subject\":\"\(Self.workload)\""))
        let approved = try await meow(["actions", "approve", "1", "--as", "bob", "--reason", "go"], dir)
        #expect(approved.status == 0, "\(approved.stderr)")
        _ = try await running.waitForLine(timeout: 60) { $0.contains("\"state\":\"succeeded\"") }
        _ = try await running.waitForLine(timeout: 60) { $0.contains("no longer proposes it") }
        // One runner per store: a second one is refused while the first is alive...
        let second = try await meow(["run", "--once"], dir)
        #expect(second.status == 2)
        #expect(second.stderr.contains("one runner per store"), "\(second.stderr)")
        running.terminate()
        #expect(try await running.wait(timeout: 30) == 0)
        #expect(try journal(dir).count == 1)
        // ...and runs once it stopped (it released the lease).
        #expect(try await meow(["run", "--once"], dir).status == 0)
    }

    @Test func manualRequestsNeedSomeoneElseAndPauseStopsEverything() async throws {
        let dir = try example(mode: "auto")
        let request = try await meow(
            [
                "actions", "request", "kubernetes.scale", "--subject", "workload/dev-1/payments/payments-scheduler-0000-web",
                "--param", "replicas=2", "--as", "alice", "--reason", "load test",
            ], dir)
        #expect(request.status == 0, "\(request.stderr)")
        // Paused: the scheduler's proposal is refused, the request waits for approval.
        let pause = try await meow(["actions", "pause", "--as", "carol", "--reason", "incident 7", "--output", "json"], dir)
        #expect(pause.status == 0)
        #expect(pause.stdout.contains("\"paused\" : true"))
        let run = try await meow(["run", "--once"], dir)
        #expect(run.status == 0)
        var list = try await actions(dir)
        #expect(Set(list.compactMap { $0["state"] as? String }) == ["refused", "awaiting_approval"], "\(list)")
        #expect(list.contains { ($0["state_reason"] as? String)?.contains("paused by carol") == true })

        let own = try await meow(["actions", "approve", "1", "--as", "alice", "--reason", "mine"], dir)
        #expect(own.status == 1)
        #expect(own.stderr.contains("requested by alice: four-eyes"))
        #expect(try await meow(["actions", "approve", "1", "--as", "bob", "--reason", "ok"], dir).status == 0)
        _ = try await meow(["run", "--once"], dir)
        #expect(try journal(dir).isEmpty, "paused: the approved request waits")

        #expect(try await meow(["actions", "resume", "--as", "carol", "--reason", "over"], dir).status == 0)
        _ = try await meow(["run", "--once"], dir)
        let executed = try journal(dir)
        #expect(executed.count == 1)
        #expect(executed.first?["subject"] as? String == "workload/dev-1/payments/payments-scheduler-0000-web")
        list = try await actions(dir)
        #expect(list.first { ($0["id"] as? Int) == 1 }?["state"] as? String == "succeeded")
    }

    @Test func badInputIsExplained() async throws {
        let dir = try example(mode: "auto")
        let noStore = try await meow(["actions", "list"], dir)
        #expect(noStore.status == 2)
        #expect(noStore.stderr.contains("does not exist yet (meow run creates it)"))
        _ = try await meow(["run", "--once"], dir)
        let missing = try await meow(["actions", "approve", "99", "--as", "bob", "--reason", "x"], dir)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no action 99"))
        let noReason = try await meow(["actions", "approve", "1", "--as", "bob"], dir)
        #expect(noReason.status == 2)
        #expect(noReason.stderr.contains("--reason"))
        let badState = try await meow(["actions", "list", "--state", "done"], dir)
        #expect(badState.status == 2)
        #expect(badState.stderr.contains("awaiting_approval"))
    }
}
