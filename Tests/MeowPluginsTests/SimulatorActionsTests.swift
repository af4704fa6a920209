import Foundation
import MeowModel
import Testing

@testable import MeowPlugins

/// The simulator runs the real plugins' actions on its entities, and the next snapshots show the effect.
@Suite struct SimulatorActionsTests {
    func fleet(_ kinds: [FaultKind], faults: Int = 1) -> FleetSimulator {
        var o = SimulationOptions()
        o.fleet.apps = 6
        o.fleet.seed = 3
        o.history = 12 * 3600
        o.step = 300
        o.faults = faults
        o.faultKinds = kinds
        o.faultWindow = 300  // the faults start at the first step after the history
        return FleetSimulator(options: o)
    }

    @Test func scalingOutSetsTheReplicasAndLowersTheCpuPerReplica() throws {
        let sim = fleet([], faults: 0)
        let workloads = sim.snapshot().entities.compactMap { e -> Workload? in
            if case .workload(let w) = e, (w.replicas?.desired ?? 0) >= 1 { return w } else { return nil }
        }
        let w = try #require(workloads.first)
        let before = try #require(w.replicas?.desired)
        sim.advance(by: 3600)
        let cpuBefore = try #require(cpu(sim, w.id))
        let message = try sim.apply("kubernetes.scale", subject: w.id, params: ["replicas": .int(Int64(before * 4))])
        #expect(message == "scaled \(w.id) from \(before) to \(before * 4) replicas")
        sim.advance(by: 3600)
        let after = try #require(workload(sim, w.id))
        #expect(after.replicas?.desired == before * 4)
        let cpuAfter = try #require(cpu(sim, w.id))
        #expect(cpuAfter < cpuBefore / 2, "cpu \(cpuBefore) → \(cpuAfter)")
    }

    @Test func rollingBackABadDeploymentMakesTheApplicationHealthy() throws {
        let sim = fleet([.badConfigChange])
        let fault = try #require(sim.faults.first)
        let appID = try #require(fault.subjects.first { $0.hasPrefix("application/") })
        for _ in 0..<12 where app(sim, appID)?.health != "Degraded" { sim.advance(by: 600) }
        let degraded = try #require(app(sim, appID))
        try #require(degraded.health == "Degraded", "the fault should be on: \(fault)")
        try sim.apply("argocd.rollback", subject: appID, params: [:])
        let healed = try #require(app(sim, appID))
        #expect(healed.health == "Healthy")
        #expect(healed.history?.last?.outcome == "rolled_back")
        #expect(throws: ProviderError.self) { try sim.apply("argocd.rollback", subject: appID, params: [:]) }
    }

    @Test func clearingAFailedRunMakesItSucceedOnTheSecondTry() throws {
        let sim = fleet([.upstreamDataDelay])
        func failedRuns() -> [DAGRun] {
            sim.snapshot().entities.compactMap { e -> DAGRun? in
                if case .dagRun(let r) = e, r.state == "failed" { return r } else { return nil }
            }
        }
        for _ in 0..<48 where failedRuns().isEmpty { sim.advance(by: 1800) }
        let failed = try #require(failedRuns().last)
        #expect(throws: ProviderError.self) {
            try sim.apply("airflow.clear_failed", subject: failed.dag ?? "", params: [:])
        }
        try sim.apply("airflow.clear_failed", subject: failed.id, params: [:])
        sim.advance(by: (failed.durationSeconds ?? 300) + 600)
        let runs = sim.snapshot().entities.compactMap { e -> DAGRun? in
            if case .dagRun(let r) = e, r.id == failed.id { return r } else { return nil }
        }
        let run = try #require(runs.first)
        #expect(run.state == "success")
        #expect(throws: ProviderError.self) { try sim.apply("airflow.clear_failed", subject: failed.id, params: [:]) }
    }

    @Test func pauseAndTriggerShowInTheSnapshot() throws {
        let sim = fleet([], faults: 0)
        let dags = sim.snapshot().entities.compactMap { e -> DAG? in
            if case .dag(let d) = e, d.paused != true { return d } else { return nil }
        }
        let dag = try #require(dags.first)
        try sim.apply("airflow.pause", subject: dag.id, params: [:])
        try sim.apply("airflow.trigger", subject: dag.id, params: [:])
        let entities = sim.snapshot().entities
        #expect(entities.contains { if case .dag(let d) = $0 { d.id == dag.id && d.paused == true } else { false } })
        #expect(entities.contains { if case .dagRun(let r) = $0 { r.dag == dag.id && r.runType == "manual" } else { false } })
        #expect(throws: ProviderError.self) { try sim.apply("kubernetes.explode", subject: dag.id, params: [:]) }
    }

    /// The journal keeps executed actions across a restart and answers `reconcile`.
    @Test func theJournalReplaysAfterARestartAndAnswersReconcile() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("meow-sim-journal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let journal = dir.appendingPathComponent("journal.jsonl").path
        let manifest = try #require(PluginRegistry.builtin.plugin("simulator")?.manifest)
        func provider() throws -> SimulatorProvider {
            try SimulatorProvider(
                manifest: manifest,
                context: ProviderContext(
                    name: "sim", settings: ["apps": 3, "seed": 7, "journal": .string(journal), "step": 60], timeout: 5))
        }
        let first = try provider()
        let ids = try await first.observe().entities.compactMap { e -> String? in
            if case .workload(let w) = e { return w.id } else { return nil }
        }
        let workloadID = try #require(ids.first)
        let request = ActionRequest(action: "kubernetes.scale", subject: workloadID, params: ["replicas": 9], key: "k-1")
        #expect(await first.reconcile(request) == .notDone("the journal has no entry for this action"))
        let outcome = try await first.perform(request)
        #expect(outcome.ok)
        await #expect(throws: ProviderError.self) {
            try await first.perform(ActionRequest(action: "kubernetes.scale", subject: workloadID, params: ["replicas": -1]))
        }

        let second = try provider()  // meow restarted
        let replicas = try await second.observe().entities.compactMap { e -> Int? in
            if case .workload(let w) = e, w.id == workloadID { return w.replicas?.desired } else { return nil }
        }.first
        #expect(replicas == 9)
        guard case .done(let why) = await second.reconcile(request) else {
            Issue.record("reconcile should find k-1 in the journal")
            return
        }
        #expect(why.contains("scaled \(workloadID)"))
        #expect(try await second.readJournal().count == 1)
    }

    func workload(_ sim: FleetSimulator, _ id: String) -> Workload? {
        for case .workload(let w) in sim.snapshot().entities where w.id == id { return w }
        return nil
    }

    func app(_ sim: FleetSimulator, _ id: String) -> Application? {
        for case .application(let a) in sim.snapshot().entities where a.id == id { return a }
        return nil
    }

    func cpu(_ sim: FleetSimulator, _ id: String) -> Double? {
        for case .series(let s) in sim.snapshot().entities where s.metric == "cpu" && s.subject == id {
            return (s.values ?? []).suffix(3).reduce(0, +) / 3
        }
        return nil
    }
}
