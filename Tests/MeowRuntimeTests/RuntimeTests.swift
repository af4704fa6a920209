import Foundation
import MeowModel
import MeowPlugins
import MeowRules
import MeowTesting
import Testing

@testable import MeowRuntime

/// A provider whose behaviour a test scripts: the entities it returns, failures, delays.
actor FakeProvider: Provider {
    nonisolated let name: String
    nonisolated let manifest: PluginManifest
    var apps: [String] = ["a", "b"]
    var failure: ProviderError?
    var delay: Double = 0
    private(set) var observations = 0

    init(name: String, manifest: PluginManifest) {
        self.name = name
        self.manifest = manifest
    }

    func set(apps: [String]) { self.apps = apps }
    func set(failure: ProviderError?) { self.failure = failure }
    func set(delay: Double) { self.delay = delay }

    func observe() async throws -> Observation {
        observations += 1
        if delay > 0 { try await Task.sleep(for: .seconds(delay)) }
        if let failure { throw failure }
        return Observation(
            entities: apps.map {
                .application(
                    Application(id: "application/\(name)/\($0)", name: $0, observedAt: Date(), provider: name, health: "Healthy"))
            })
    }

    func perform(_ request: ActionRequest) async throws -> ActionOutcome { ActionOutcome(ok: true, message: "done") }
}

/// The fakes of one test, by instance name.
final class Fakes: @unchecked Sendable {
    final class Storage: @unchecked Sendable {
        var byName: [String: FakeProvider] = [:]
        let lock = NSLock()
    }
    let storage = Storage()
    let registry: PluginRegistry

    init() throws {
        let manifest = try PluginManifest.parse(
            "name: fake\nversion: 1.0.0\nimplementation: builtin:fake\nobserves: [application]\n", file: "fake.yaml")
        var r = PluginRegistry()
        let storage = self.storage
        r.register(
            Plugin(manifest: manifest) { context in
                let p = FakeProvider(name: context.name, manifest: manifest)
                storage.lock.withLock { storage.byName[context.name] = p }
                return p
            })
        registry = r
    }

    subscript(name: String) -> FakeProvider { storage.lock.withLock { storage.byName[name]! } }
}

@Suite struct PollScheduleTests {
    @Test func backoffDoublesUpToTheCapAndResetsOnSuccess() {
        var s = PollSchedule(interval: 10, jitter: 0, backoffMax: 100, breakerFailures: 99, breakerCooldown: 60)
        #expect(s.baseDelay == 10)
        var delays: [Double] = []
        for _ in 0..<5 {
            s.failed(at: Date())
            delays.append(s.baseDelay)
        }
        #expect(delays == [20, 40, 80, 100, 100])
        s.succeeded()
        #expect(s.baseDelay == 10 && s.consecutiveFailures == 0)
    }

    @Test func jitterSpreadsTheDelayBothWays() {
        let s = PollSchedule(interval: 10, jitter: 0.2, backoffMax: 100, breakerFailures: 3, breakerCooldown: 60)
        #expect(abs(s.delay(random: 0) - 8) < 1e-9)
        #expect(abs(s.delay(random: 0.5) - 10) < 1e-9)
        #expect(abs(s.delay(random: 0.9999) - 12) < 0.01)
    }

    @Test func theBreakerOpensWaitsAndLetsOneTrialThrough() {
        var s = PollSchedule(interval: 1, jitter: 0, backoffMax: 100, breakerFailures: 3, breakerCooldown: 60)
        let t0 = Date(timeIntervalSince1970: 1000)
        s.failed(at: t0)
        s.failed(at: t0)
        var may = s.mayPoll(at: t0)
        #expect(s.breaker == .closed && may)
        s.failed(at: t0)
        #expect(s.breaker == .open(until: t0.addingTimeInterval(60)))
        #expect(s.baseDelay == 60)
        may = s.mayPoll(at: t0.addingTimeInterval(59))
        #expect(!may)
        may = s.mayPoll(at: t0.addingTimeInterval(60))
        #expect(may && s.breaker == .halfOpen)
        s.failed(at: t0.addingTimeInterval(61))  // the trial fails: open again at once
        #expect(s.breaker == .open(until: t0.addingTimeInterval(121)))
        may = s.mayPoll(at: t0.addingTimeInterval(121))
        #expect(may)
        s.succeeded()
        #expect(s.breaker == .closed && s.baseDelay == 1)
    }
}

@Suite struct RuntimeTests {
    static let staleRule = """
        policy {
          id = "app-stale", severity = "medium", match = { kind = "application" },
          check = function(app)
            if app.stale then return deny("data from " .. app.provider .. " is stale") end
          end,
        }
        """

    func config(_ rules: TempRules, _ providers: String, fakes: Fakes) throws -> MeowConfig {
        let text = "rules:\n  dir: \(rules.url.path)\n  reload_check: 0.1s\nproviders:\n" + providers
        return try MeowConfig.parse(text, file: rules.url.appendingPathComponent("meow.yaml").path, registry: fakes.registry)
    }

    @Test func aFailingProviderMarksItsEntitiesStaleAndOthersStayFresh() async throws {
        let fakes = try Fakes()
        let rules = try TempRules(["stale.lua": Self.staleRule])
        let c = try config(
            rules, "  - {name: one, plugin: fake}\n  - {name: two, plugin: fake}\n", fakes: fakes)
        let runtime = try Runtime(config: c, registry: fakes.registry)
        let first = await runtime.runOnce()
        #expect(first.providers.map(\.state) == ["ok", "ok"])
        #expect(first.snapshot.entities.count == 4)
        #expect(first.evaluation.decisions.isEmpty)

        await fakes["one"].set(failure: ProviderError(.unavailable, "GET /api/v1/applications: 503"))
        let second = await runtime.runOnce()
        let one = try #require(second.providers.first { $0.name == "one" })
        #expect(one.state == "failing" && one.errorKind == "unavailable" && one.consecutiveFailures == 1)
        #expect(one.lastError == "GET /api/v1/applications: 503")
        // the last entities stay, marked stale; the other instance's are fresh
        let stale = second.snapshot.entities.filter { $0.isStale }.map(\.id).sorted()
        #expect(stale == ["application/one/a", "application/one/b"])
        #expect(second.snapshot.entities.count == 4)
        // rules see it
        let decisions = second.evaluation.decisions.filter { $0.rule == "app-stale" }
        #expect(decisions.map(\.subject) == ["application/one/a", "application/one/b"])
        #expect(decisions.first?.message == "data from one is stale")

        await fakes["one"].set(failure: nil)
        let third = await runtime.runOnce()
        #expect(third.snapshot.entities.allSatisfy { !$0.isStale })
        #expect(third.evaluation.decisions.isEmpty)
    }

    @Test func decisionsAreReportedWhenTheyAppearAndResolve() async throws {
        let fakes = try Fakes()
        let rules = try TempRules(["stale.lua": Self.staleRule])
        let c = try config(rules, "  - {name: one, plugin: fake}\n", fakes: fakes)
        let events = EventLog()
        let runtime = try Runtime(config: c, registry: fakes.registry, sink: { events.add($0) })
        _ = await runtime.runOnce()
        await fakes["one"].set(failure: ProviderError(.timeout, "slow"))
        _ = await runtime.runOnce()
        await fakes["one"].set(failure: nil)
        _ = await runtime.runOnce()
        let changes = events.changes()
        #expect(
            changes.map { "\($0.change) \($0.decision.subject ?? "")" } == [
                "new application/one/a", "new application/one/b", "resolved application/one/a", "resolved application/one/b",
            ])
    }

    @Test func aSlowProviderNeverDelaysTheOthers() async throws {
        let fakes = try Fakes()
        let rules = try TempRules(["stale.lua": Self.staleRule])
        let c = try config(
            rules,
            "  - {name: fast, plugin: fake, poll_interval: 50ms, jitter: 0}\n  - {name: slow, plugin: fake, poll_interval: 50ms, timeout: 10m}\n",
            fakes: fakes)
        let runtime = try Runtime(config: c, registry: fakes.registry)
        await fakes["slow"].set(delay: 600)
        let task = Task { await runtime.run() }
        // the fast instance polls again and again while the slow one's first poll has not returned
        let polled = try await eventually { (await runtime.statuses().first { $0.name == "fast" }?.polls ?? 0) >= 5 }
        let statuses = await runtime.statuses()
        let snapshot = await runtime.snapshot()
        task.cancel()
        await task.value
        #expect(polled)
        let fast = try #require(statuses.first { $0.name == "fast" })
        let slow = try #require(statuses.first { $0.name == "slow" })
        #expect(fast.state == "ok" && fast.entities == 2)
        #expect(slow.polls == 0 && slow.state == "pending")
        #expect(await fakes["slow"].observations == 1)  // started once, still waiting
        #expect(snapshot.entities.count == 2)
    }

    @Test func aPollLongerThanTheTimeoutFails() async throws {
        let fakes = try Fakes()
        let rules = try TempRules(["stale.lua": Self.staleRule])
        let c = try config(rules, "  - {name: slow, plugin: fake, timeout: 200ms}\n", fakes: fakes)
        let runtime = try Runtime(config: c, registry: fakes.registry)
        await fakes["slow"].set(delay: 600)
        let started = Date()
        let report = await runtime.runOnce()
        #expect(Date().timeIntervalSince(started) < 300)  // cut at the timeout, not after the 600 s answer
        #expect(report.providers[0].state == "failing" && report.providers[0].errorKind == "timeout")
        #expect(report.providers[0].lastError?.contains("within 0.2s (timeout)") == true)
    }

    @Test func backoffAndTheBreakerStopHammeringAFailingProvider() async throws {
        let fakes = try Fakes()
        let rules = try TempRules(["stale.lua": Self.staleRule])
        let c = try config(
            rules,
            "  - {name: down, plugin: fake, poll_interval: 50ms, jitter: 0, backoff_max: 10s, breaker_failures: 3, breaker_cooldown: 1h}\n",
            fakes: fakes)
        let runtime = try Runtime(config: c, registry: fakes.registry)
        await fakes["down"].set(failure: ProviderError(.unavailable, "connection refused"))
        let task = Task { await runtime.run() }
        // polls at 0, +100 ms, +200 ms (backoff doubling); the third failure opens the breaker
        let opened = try await eventually { await runtime.statuses().first?.breaker == "open" }
        try await Task.sleep(for: .seconds(1))  // with the breaker open for an hour, nothing more is tried
        task.cancel()
        await task.value
        #expect(opened)
        #expect(await fakes["down"].observations == 3)
        let s = try #require(await runtime.statuses().first)
        #expect(s.breaker == "open" && s.consecutiveFailures == 3 && s.failures == 3)
    }

    @Test func ruleFilesAreHotReloadedAndABrokenEditKeepsTheLastGoodVersion() async throws {
        let fakes = try Fakes()
        let rules = try TempRules([
            "health.lua": """
            policy { id = "named", severity = "low", match = { kind = "application" },
              check = function(app) return deny("version one: " .. app.name) end }
            """
        ])
        let c = try config(rules, "  - {name: one, plugin: fake}\n", fakes: fakes)
        let events = EventLog()
        let runtime = try Runtime(config: c, registry: fakes.registry, sink: { events.add($0) })
        var report = await runtime.runOnce()
        #expect(report.evaluation.decisions.map(\.message) == ["version one: a", "version one: b"])
        #expect(await runtime.checkRules() == false)

        // an edit takes effect
        let file = rules.url.appendingPathComponent("health.lua")
        try """
        policy { id = "named", severity = "low", match = { kind = "application" },
          check = function(app) return deny("version two, longer: " .. app.name) end }
        """.write(to: file, atomically: true, encoding: .utf8)
        #expect(await runtime.checkRules() == true)
        report = await runtime.runOnce()
        #expect(report.evaluation.decisions.map(\.message) == ["version two, longer: a", "version two, longer: b"])

        // a broken edit: the last good version stays in effect, and the problem is reported
        try "policy { id = 'named' severity = 'low' }\n".write(to: file, atomically: true, encoding: .utf8)
        #expect(await runtime.checkRules() == true)
        report = await runtime.runOnce()
        let violations = report.evaluation.decisions.filter { $0.type == .violation }
        #expect(violations.map(\.message) == ["version two, longer: a", "version two, longer: b"])
        let errors = report.evaluation.decisions.filter { $0.type == .ruleError }
        #expect(errors.count == 1)
        #expect(errors.first?.file == "\(rules.url.path)/health.lua" && errors.first?.line == 1)
        #expect(errors.first?.message.contains("reload refused: the last good version of this file stays in effect") == true)
        let reloads = events.reloads()
        #expect(reloads.count == 2 && reloads.last?.problems.count == 1)

        // a new file is picked up; fixing the broken one clears the error
        try """
        policy { id = "extra", severity = "info", match = { kind = "application", name = "a" },
          check = function(app) return deny("extra") end }
        """.write(to: rules.url.appendingPathComponent("extra.lua"), atomically: true, encoding: .utf8)
        try """
        policy { id = "named", severity = "low", match = { kind = "application" },
          check = function(app) return deny("version three: " .. app.name) end }
        """.write(to: file, atomically: true, encoding: .utf8)
        #expect(await runtime.checkRules() == true)
        report = await runtime.runOnce()
        #expect(report.evaluation.decisions.map(\.message).sorted() == ["extra", "version three: a", "version three: b"])
    }

    @Test func theRunLoopReloadsRulesByItself() async throws {
        let fakes = try Fakes()
        let rules = try TempRules(["stale.lua": Self.staleRule])
        let c = try config(rules, "  - {name: one, plugin: fake, poll_interval: 1h}\n", fakes: fakes)
        let events = EventLog()
        let runtime = try Runtime(config: c, registry: fakes.registry, sink: { events.add($0) })
        let task = Task { await runtime.run() }
        try await Task.sleep(for: .milliseconds(300))
        try """
        policy { id = "always", severity = "low", match = { kind = "application" }, check = function(app) return deny("hi") end }
        """.write(to: rules.url.appendingPathComponent("always.lua"), atomically: true, encoding: .utf8)
        _ = try await eventually { events.changes().filter { $0.decision.rule == "always" }.count >= 2 }
        task.cancel()
        await task.value
        #expect(events.reloads().count == 1)
        #expect(events.changes().filter { $0.decision.rule == "always" && $0.change == "new" }.count == 2)
    }
}

/// Collects runtime events (the sink is called from the runtime's tasks).
final class EventLog: @unchecked Sendable {
    private var events: [RuntimeEvent] = []
    private let lock = NSLock()
    func add(_ e: RuntimeEvent) { lock.withLock { events.append(e) } }
    func changes() -> [DecisionChange] {
        lock.withLock {
            events.flatMap { e -> [DecisionChange] in
                if case .evaluated(_, _, let c) = e { return c }
                return []
            }
        }
    }
    func reloads() -> [(generation: Int, problems: [RuleLoadError])] {
        lock.withLock {
            events.compactMap { e in
                if case .rulesReloaded(let g, _, let p) = e { return (g, p) }
                return nil
            }
        }
    }
}
