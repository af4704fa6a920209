import Foundation
import MeowModel
import MeowPlugins
import Testing

@Suite struct FleetSimulatorTests {
    static func options(
        seed: UInt64 = 1, apps: Int = 30, dags: Int = 30, history: TimeInterval = 86400, faults: Int = 0,
        kinds: [FaultKind] = [], window: Int = 60
    ) -> SimulationOptions {
        var o = SimulationOptions()
        o.fleet.apps = apps
        o.fleet.dags = dags
        o.fleet.seed = seed
        o.history = history
        o.faults = faults
        o.faultKinds = kinds
        o.seriesWindow = window
        return o
    }

    static func series(_ s: Snapshot) -> [String: Series] {
        var out: [String: Series] = [:]
        for case .series(let x) in s.entities { out[x.id] = x }
        return out
    }

    /// (time, value) pairs of a series, regular or irregular.
    static func points(_ s: Series) -> [(Double, Double)] {
        let values = s.values ?? []
        if let times = s.times { return zip(times.map(\.timeIntervalSince1970), values).map { ($0, $1) } }
        let start = s.start?.timeIntervalSince1970 ?? 0
        return values.enumerated().map { (start + Double($0) * (s.stepSeconds ?? 0), $1) }
    }

    @Test func sameSeedGivesIdenticalBytesWithHistoryAndFaults() throws {
        let o = Self.options(seed: 7, history: 6 * 3600, faults: 4)
        let a = FleetSimulator(options: o), b = FleetSimulator(options: o)
        #expect(try a.snapshot().jsonData() == b.snapshot().jsonData())
        a.advance(by: 3600)
        b.advance(by: 3600)
        #expect(try a.snapshot().jsonData() == b.snapshot().jsonData())
        #expect(try InjectedFault.jsonData(a.faults) == InjectedFault.jsonData(b.faults))
        #expect(a.faults.count == 4)
    }

    @Test func differentSeedGivesADifferentFleet() throws {
        let a = FleetSimulator(options: Self.options(seed: 1, history: 3600, faults: 2))
        let b = FleetSimulator(options: Self.options(seed: 2, history: 3600, faults: 2))
        #expect(try a.snapshot().jsonData() != b.snapshot().jsonData())
        #expect(a.faults != b.faults)
    }

    @Test func staticPartIsTheGeneratedFleet() throws {
        let o = Self.options(history: 0)
        let sim = FleetSimulator(options: o).snapshot()
        let generated = FleetGenerator(options: o.fleet).generate()
        let staticIDs = Set(generated.entities.map(\.id))
        #expect(Array(sim.entities.prefix(generated.entities.count).map(\.id)) == generated.entities.map(\.id))
        #expect(sim.entities.allSatisfy { staticIDs.contains($0.id) || $0.kind == .series })
        for case .dag(let d) in sim.entities { #expect(generated.entities.contains { $0.id == d.id }) }
    }

    @Test func advanceMovesTimeInStepsAndBumpsTheRevision() {
        let sim = FleetSimulator(options: Self.options(history: 3600))
        let at = sim.now
        #expect(sim.snapshot().revision == 1)
        sim.advance(by: 200)  // less than a step: carried over
        #expect(sim.now == at)
        sim.advance(by: 400)  // 600 s in all: two steps
        #expect(sim.now == at.addingTimeInterval(600))
        #expect(sim.snapshot().revision == 3)
        #expect(sim.snapshot().observedAt == sim.now)
        #expect(sim.entityCount == sim.snapshot().entities.count)
    }

    @Test func regularSeriesHoldTheWindowAtStepSpacing() throws {
        let sim = FleetSimulator(options: Self.options(history: 86400, window: 24))
        sim.advance(by: 1800)
        let all = Self.series(sim.snapshot())
        let regular = all.values.filter { $0.times == nil }
        #expect(regular.count == 30 * 5 * 3 + 3 * 4)
        for s in regular {
            #expect(s.values?.count == 24)
            #expect(s.stepSeconds == 300)
            #expect(s.start == sim.now.addingTimeInterval(-23 * 300))
            #expect(s.id == "series/\(s.metric ?? "")/\(s.subject ?? "")")
        }
        let metrics = Set(regular.map { $0.metric ?? "" })
        #expect(metrics == ["cpu", "memory", "restarts", "s3_latency", "db_latency", "error_rate"])
        // A history shorter than the window gives what there is: one value per step, `at` included.
        let short = Self.series(FleetSimulator(options: Self.options(history: 3600, window: 60)).snapshot())
        #expect(short.values.filter { $0.times == nil }.allSatisfy { $0.values?.count == 13 })
    }

    @Test func workloadUsageIsTheLatestSeriesValue() throws {
        let snap = FleetSimulator(options: Self.options(history: 7200)).snapshot()
        let all = Self.series(snap)
        for case .workload(let w) in snap.entities {
            #expect(w.usage?.cpu == all["series/cpu/\(w.id)"]?.values?.last)
            #expect(w.usage?.memory == all["series/memory/\(w.id)"]?.values?.last)
        }
    }

    @Test func dagRunsFollowTheirSchedules() throws {
        let sim = FleetSimulator(options: Self.options(history: 2 * 86400, window: 200))
        let snap = sim.snapshot()
        let interval: [String: Double] = ["@hourly": 3600, "@daily": 86400, "0 */6 * * *": 21600, "*/15 * * * *": 900]
        var checked = 0
        for case .dag(let d) in snap.entities {
            let step = try #require(interval[d.schedule ?? ""])
            let runs = snap.entities.compactMap { e -> DAGRun? in
                if case .dagRun(let r) = e, r.dag == d.id { return r }; return nil
            }
            if d.paused == true {
                #expect(runs.isEmpty)
                continue
            }
            #expect(!runs.isEmpty)
            for r in runs {
                let logical = try #require(r.logicalDate).timeIntervalSince1970
                #expect(logical.truncatingRemainder(dividingBy: step) == 0)
                #expect(try #require(r.start) >= Date(timeIntervalSince1970: logical + step))
                #expect(r.state == "success" || r.state == "failed" || r.state == "running")
            }
            let times = try #require(Self.series(snap)["series/dag_duration/\(d.id)"]?.times).map(\.timeIntervalSince1970)
            #expect(zip(times, times.dropFirst()).allSatisfy { $1 - $0 == step })
            // Every scheduled time of the two days (up to the window), give or take the run still going on.
            #expect(abs(times.count - min(200, Int(2 * 86400 / step))) <= 1)
            checked += 1
        }
        #expect(checked > 10)
        #expect(
            snap.entities.contains {
                if case .taskInstance = $0 { return true }; return false
            })
    }

    @Test func truthRoundTripsAndNeverAppearsInTheSnapshot() throws {
        let sim = FleetSimulator(options: Self.options(history: 86400, faults: 9, kinds: FaultKind.allCases))
        sim.advance(by: 86400)
        #expect(Set(sim.faults.map(\.kind)) == Set(FaultKind.allCases))
        let data = try InjectedFault.jsonData(sim.faults)
        #expect(try InjectedFault.load(from: data) == sim.faults)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"start\" : \"2026-01-0"))
        #expect(sim.faults.map(\.id) == (1...9).map { "fault-\($0)" })
        let snapshot = String(decoding: try sim.snapshot().jsonData(), as: UTF8.self)
        for f in sim.faults {
            #expect(!snapshot.contains(f.id + "\""))
            #expect(!snapshot.contains(f.description))
        }
        // Snapshots read back with the strict decoder.
        _ = try Snapshot.load(from: try sim.snapshot().jsonData(), file: "sim.json")
    }

    /// Each fault, injected alone, changes its subjects' series inside [start, end) and nothing else: a run
    /// without the fault gives the same values before the start, after the end (counters excepted) and for
    /// every other series.
    @Test(arguments: FaultKind.allCases, [1, 2, 3, 8] as [UInt64])
    func faultChangesItsSubjectsInsideItsWindowOnly(kind: FaultKind, seed: UInt64) throws {
        var o = Self.options(seed: seed, history: 86400, faults: 1, kinds: [kind], window: 700)
        o.faultWindow = 6 * 3600
        var clean = o
        clean.faults = 0
        let faulty = FleetSimulator(options: o), baseline = FleetSimulator(options: clean)
        let fault = try #require(faulty.faults.first)
        #expect(fault.kind == kind)
        #expect(!fault.subjects.isEmpty)
        #expect(fault.start >= o.fleet.at && fault.start < o.fleet.at.addingTimeInterval(6 * 3600))
        let start = fault.start.timeIntervalSince1970, end = fault.end.timeIntervalSince1970

        if kind == .badConfigChange || kind == .imagePullError {
            faulty.advance(by: start - faulty.now.timeIntervalSince1970 + 300)
            let app = try #require(faulty.snapshot().entities.first { $0.id == fault.subjects[0] })
            guard case .application(let a) = app else { Issue.record("subject 0 is not an application"); return }
            #expect(a.health == "Degraded")
            #expect(a.history?.last?.outcome == "failed")
            if kind == .badConfigChange { #expect(a.operation?.phase == "Failed") }
            let w = try #require(faulty.snapshot().entities.first { $0.id == fault.subjects[1] })
            guard case .workload(let wl) = w else { Issue.record("subject 1 is not a workload"); return }
            #expect((wl.replicas?.ready ?? 0) < (wl.replicas?.desired ?? 0))
            #expect(
                faulty.snapshot().entities.contains {
                    if case .change(let c) = $0 { return c.revision == a.syncedRevision }; return false
                })
        }

        let target = end + 3600
        faulty.advance(by: target - faulty.now.timeIntervalSince1970)
        baseline.advance(by: target - baseline.now.timeIntervalSince1970)
        #expect(faulty.now == baseline.now)
        let a = Self.series(faulty.snapshot()), b = Self.series(baseline.snapshot())
        #expect(a.keys.sorted() == b.keys.sorted())
        var changedSubjects = Set<String>()
        for (id, s) in a {
            let p = Self.points(s), q = Self.points(try #require(b[id]))
            #expect(p.count == q.count && p.first?.0 == q.first?.0 && p.last?.0 == q.last?.0, "\(id) has the same times")
            let subject = s.subject ?? ""
            var inside: [(Double, Double)] = []
            for (x, y) in zip(p, q) {
                if x.0 >= start && x.0 < end {
                    inside.append((x.1, y.1))
                } else if x.0 < start || s.metric != "restarts" {
                    #expect(x.1 == y.1, "\(id) at \(Date(timeIntervalSince1970: x.0)) is outside \(fault.id) yet changed")
                }
            }
            let faultyMean = inside.map(\.0).reduce(0, +) / Double(max(1, inside.count))
            let cleanMean = inside.map(\.1).reduce(0, +) / Double(max(1, inside.count))
            let measurable = s.metric == "restarts" ? faultyMean >= cleanMean + 1 : abs(faultyMean / cleanMean - 1) >= 0.25
            if !inside.isEmpty, measurable { changedSubjects.insert(subject) }
            if inside.contains(where: { $0.0 != $0.1 }) {
                #expect(fault.subjects.contains(subject), "\(id) changed but \(subject) is not a subject of \(fault.id)")
            }
        }
        let withSeries = fault.subjects.filter { !$0.hasPrefix("application/") }
        #expect(Set(withSeries) == changedSubjects, "subjects whose series changed measurably")
        if kind == .badConfigChange || kind == .imagePullError {
            guard case .application(let app) = try #require(faulty.snapshot().entities.first { $0.id == fault.subjects[0] })
            else { return }
            #expect(app.health == "Healthy")
            let outcomes = (app.history ?? []).map { $0.outcome ?? "" }
            let failed = try #require(outcomes.lastIndex(of: "failed"))
            #expect(outcomes.dropFirst(failed + 1).first == "rolled_back")
        }
    }
}
