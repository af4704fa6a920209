import Foundation
import MeowModel
import MeowRules

/// What the runtime last evaluated, readable without waiting on the runtime: the HTTP API reads this
/// while an evaluation runs (DESIGN §9: reads never wait on an evaluation).
public struct StateView: Sendable {
    /// Increments with every evaluation that is published (the API's ETags use it).
    public var version: Int
    public var snapshot: Snapshot
    public var decisions: [Decision]
    public var stats: EvaluationStats?
    public var evaluatedAt: Date?
    public var rules: [Rule]
    /// Rule files that did not load, or kept their last good version on reload.
    public var ruleProblems: [RuleLoadError]
    public var rulesGeneration: Int

    public static let empty = StateView(
        version: 0, snapshot: Snapshot(entities: []), decisions: [], stats: nil, evaluatedAt: nil, rules: [], ruleProblems: [],
        rulesGeneration: 0)
}

/// The runtime's published state and provider statuses behind a lock: writers are the runtime's
/// evaluations and polls, readers any thread.
public final class PublishedState: @unchecked Sendable {
    private let lock = NSLock()
    private var view = StateView.empty
    private var providers: [InstanceStatus] = []

    public init() {}

    public var current: StateView {
        lock.lock()
        defer { lock.unlock() }
        return view
    }

    /// The provider statuses after the last poll.
    public var statuses: [InstanceStatus] {
        lock.lock()
        defer { lock.unlock() }
        return providers
    }

    func publish(_ update: (inout StateView) -> Void) {
        lock.lock()
        defer { lock.unlock() }
        update(&view)
        view.version += 1
    }

    func publish(providers: [InstanceStatus]) {
        lock.lock()
        defer { lock.unlock() }
        self.providers = providers
    }
}
