import Foundation
import MeowModel
import MeowPlugins
import Testing

@testable import MeowActions
@testable import MeowStore

/// A provider whose actions a test scripts: it counts calls, can fail, hang, and answer `reconcile`.
actor ScriptedProvider: Provider {
    nonisolated let name: String
    nonisolated let manifest: PluginManifest
    private(set) var performed: [ActionRequest] = []
    var failure: ProviderError?
    var delay: Double = 0
    var verdict: ReconcileVerdict = .unknown("scripted")

    static let manifestText = """
        name: fake
        version: 1.0.0
        implementation: builtin:fake
        observes: [application]
        actions:
          - name: sync
            subject: application
            params:
              properties:
                revision: {type: string}
        """

    init(name: String) throws {
        self.name = name
        manifest = try PluginManifest.parse(Self.manifestText, file: "fake.yaml")
    }

    func set(failure: ProviderError?) { self.failure = failure }
    func set(delay: Double) { self.delay = delay }
    func set(verdict: ReconcileVerdict) { self.verdict = verdict }

    func observe() async throws -> Observation { Observation(entities: []) }

    func perform(_ request: ActionRequest) async throws -> ActionOutcome {
        performed.append(request)
        if delay > 0 { try await Task.sleep(for: .seconds(delay)) }
        if let failure { throw failure }
        return ActionOutcome(ok: true, message: "synced \(request.subject)", details: ["phase": "Succeeded"])
    }

    func reconcile(_ request: ActionRequest) async -> ReconcileVerdict { verdict }
}

/// A store in a temporary directory, a scripted provider `fake-1`, and helpers to build snapshots and
/// proposals.
struct Harness {
    let dir: URL
    let store: SQLiteStore
    let provider: ScriptedProvider
    let now = Date(timeIntervalSince1970: 1_790_000_000)

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("meow-actions-\(UUID().uuidString)")
        store = try SQLiteStore(path: dir.appendingPathComponent("meow.db").path)
        provider = try ScriptedProvider(name: "fake-1")
    }

    func pipeline(_ settings: ActionSettings = .auto, crashAt: String? = nil) -> ActionPipeline {
        ActionPipeline(
            store: store, settings: settings, protectedEnvironments: ["prod"],
            targets: [ActionTarget(instance: "fake-1", plugin: "fake", provider: provider)], crashAt: crashAt)
    }

    /// Applications `a`…: (name, environment, stale).
    func snapshot(_ apps: [(String, String, Bool)] = [("a", "dev", false)], revision: Int = 1, at: Date? = nil) -> Snapshot {
        Snapshot(
            revision: revision, observedAt: at ?? now,
            entities: apps.map { name, env, stale in
                .application(
                    Application(
                        id: "application/fake-1/\(name)", name: name, observedAt: at ?? now, provider: "fake-1",
                        stale: stale ? true : nil, environment: env, syncStatus: "OutOfSync", health: "Healthy"))
            })
    }

    static func proposal(
        _ app: String = "a", rule: String = "sync-drift", mode: String = "auto", params: [String: Value] = [:],
        cooldown: Double? = nil, perHour: Int? = nil, action: String = "fake.sync"
    ) -> Decision {
        var evidence: [String: Value] = ["action": .string(action), "mode": .string(mode), "reason": "drifted"]
        if !params.isEmpty { evidence["params"] = .object(params) }
        if let cooldown { evidence["cooldown_seconds"] = .double(cooldown) }
        if let perHour { evidence["per_hour"] = .int(Int64(perHour)) }
        return Decision(
            type: .actionProposed, rule: rule, subject: "application/fake-1/\(app)", severity: .info,
            message: "propose \(action)", evidence: .object(evidence), file: "rules/\(rule).lua", line: 1)
    }

    func only() async throws -> ActionRecord {
        let all = try await store.actions(states: nil, limit: 10)
        try #require(all.count == 1, "expected one action, found \(all.map { "\($0.id) \($0.state)" })")
        return all[0]
    }

    func steps(_ id: Int64) async throws -> [String] { try await store.ledger(id).map(\.step) }
}

extension ActionSettings {
    /// Auto mode, no default cooldown: the tests add the guardrail they exercise.
    static var auto: ActionSettings {
        var s = ActionSettings()
        s.mode = .auto
        s.protectedMode = .auto
        s.cooldown = 0
        return s
    }
}
