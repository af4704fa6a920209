import Foundation
import MeowModel

/// Where an action is in the pipeline (docs/actions.md has the diagram).
///
///     proposed ─┬─ dry_run                                   (mode dry-run: the plan only)
///               ├─ refused                                   (a guardrail, with the reason)
///               ├─ awaiting_approval ─┬─ approved ─ executing ─┬─ succeeded
///               │                     ├─ rejected              ├─ failed
///               │                     └─ expired               └─ unknown (crashed mid-call, not verifiable)
///               └─ approved (mode auto)
public enum ActionState: String, Sendable, Codable, CaseIterable, Hashable {
    case proposed
    case dryRun = "dry_run"
    case refused
    case awaitingApproval = "awaiting_approval"
    case approved
    case rejected
    case expired
    case executing
    case succeeded
    case failed
    case unknown

    /// Nothing more happens to the action by itself.
    public var isTerminal: Bool {
        switch self {
        case .dryRun, .refused, .rejected, .expired, .succeeded, .failed: true
        case .proposed, .awaitingApproval, .approved, .executing, .unknown: false
        }
    }
}

/// One action and where it stands: the row the ledger entries tell the story of.
public struct ActionRecord: Sendable, Codable, Equatable {
    public var id: Int64
    /// The idempotency key: rule, subject, action, parameters and time window. Unique in the store.
    public var key: String
    /// The rule that proposed it, or `manual` for a request from the CLI.
    public var rule: String
    public var subject: String
    /// `plugin.action`, e.g. `kubernetes.scale`.
    public var action: String
    public var params: [String: Value]
    public var environment: String?
    /// The provider instance that executes it (the subject's provider).
    public var provider: String?
    /// `rule:ID` for a proposal, a person for a manual request.
    public var requester: String
    /// Why (the rule's reason or the requester's).
    public var reason: String?
    /// The decision's evidence when it was proposed.
    public var evidence: Value
    /// The effective mode: the strictest of the global mode, the environment's and the rule's.
    public var mode: String
    public var state: ActionState
    /// Why it is in this state (the guardrail that refused, the error that failed it, ...).
    public var stateReason: String?
    public var requiredApprovals: Int
    public var createdAt: Date
    public var updatedAt: Date
    public var expiresAt: Date?
    public var executedAt: Date?
    public var finishedAt: Date?
    /// When the state after execution was recorded (`observed` in the ledger).
    public var observedAt: Date?
    public var attempts: Int
    /// The provider's answer.
    public var result: Value?

    enum CodingKeys: String, CodingKey {
        case id, key, rule, subject, action, params, environment, provider, requester, reason, evidence, mode, state
        case stateReason = "state_reason"
        case requiredApprovals = "required_approvals"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case expiresAt = "expires_at"
        case executedAt = "executed_at"
        case finishedAt = "finished_at"
        case observedAt = "observed_at"
        case attempts, result
    }

    /// The plugin part of `action`.
    public var plugin: String { String(action.split(separator: ".").first ?? "") }
    /// The action part of `action`.
    public var actionName: String { String(action.split(separator: ".").last ?? "") }
}

/// What the pipeline knows when it records a new action.
public struct NewAction: Sendable {
    public var key: String
    public var rule: String
    public var subject: String
    public var action: String
    public var params: [String: Value]
    public var environment: String?
    public var provider: String?
    public var requester: String
    public var reason: String?
    public var evidence: Value
    public var mode: String

    public init(
        key: String, rule: String, subject: String, action: String, params: [String: Value], environment: String?,
        provider: String?, requester: String, reason: String?, evidence: Value, mode: String
    ) {
        self.key = key
        self.rule = rule
        self.subject = subject
        self.action = action
        self.params = params
        self.environment = environment
        self.provider = provider
        self.requester = requester
        self.reason = reason
        self.evidence = evidence
        self.mode = mode
    }
}

/// One step of an action's story, written before the step happens (the ledger and audit log).
public struct LedgerEntry: Sendable, Codable, Equatable {
    public var seq: Int64
    public var actionID: Int64
    public var at: Date
    /// proposed, mode, refused, dry_run, awaiting_approval, approval, approved, rejected, expired,
    /// executing, succeeded, failed, reconciled, unknown, observed, resolved.
    public var step: String
    /// Who: `meow` (the pipeline), `rule:ID`, or a person.
    public var actor: String
    public var message: String
    public var detail: Value

    enum CodingKeys: String, CodingKey {
        case seq
        case actionID = "action_id"
        case at, step, actor, message, detail
    }
}

/// A ledger entry before it is written.
public struct LedgerDraft: Sendable {
    public var step: String
    public var actor: String
    public var message: String
    public var detail: Value

    public init(_ step: String, actor: String = "meow", _ message: String, detail: Value = .object([:])) {
        self.step = step
        self.actor = actor
        self.message = message
        self.detail = detail
    }
}

/// An approver's verdict.
public struct Approval: Sendable, Codable, Equatable {
    public var actionID: Int64
    public var approver: String
    /// `approve` or `reject`.
    public var verdict: String
    public var reason: String
    public var at: Date

    enum CodingKeys: String, CodingKey {
        case actionID = "action_id"
        case approver, verdict, reason, at
    }
}

/// The global pause switch, as set by `meow actions pause|resume`.
public struct PauseState: Sendable, Codable, Equatable {
    public var paused: Bool
    public var by: String?
    public var reason: String?
    public var at: Date?
}

/// Who runs the pipeline on a store (`meow run`): one runner per store.
public struct RunnerLease: Sendable, Codable, Equatable {
    /// A random id per process.
    public var id: String
    public var pid: Int32
    public var host: String
    public var heartbeat: Date

    public init(id: String, pid: Int32, host: String, heartbeat: Date) {
        self.id = id
        self.pid = pid
        self.host = host
        self.heartbeat = heartbeat
    }
}

/// A decision that appeared or resolved, as kept in the history.
public struct DecisionHistoryRecord: Sendable, Codable, Equatable {
    public var at: Date
    /// `new` or `resolved`.
    public var change: String
    public var decision: Decision

    public init(at: Date, change: String, decision: Decision) {
        self.at = at
        self.change = change
        self.decision = decision
    }
}

/// Why an approval or rejection was not accepted.
public struct ApprovalError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable {
        case notFound = "not_found"
        case notAwaiting = "not_awaiting_approval"
        case expired
        case fourEyes = "four_eyes"
        case alreadyApproved = "already_approved"
        case invalid
    }
    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

/// How long history is kept (meow.yaml `store.retention`).
public struct Retention: Sendable, Equatable {
    /// Decisions, events and runs.
    public var history: TimeInterval
    /// Actions in a final state and their ledger entries and approvals.
    public var actions: TimeInterval

    public init(history: TimeInterval = 30 * 86400, actions: TimeInterval = 90 * 86400) {
        self.history = history
        self.actions = actions
    }
}

/// What `prune` removed.
public struct PruneReport: Sendable, Equatable, Codable {
    public var decisions = 0
    public var events = 0
    public var runs = 0
    public var actions = 0
    public var incidents = 0

    public init() {}
}

/// The store every part of meow writes through (DESIGN §6): the action ledger, the audit log, approvals,
/// the pause switch and the history. `SQLiteStore` implements it; a PostgreSQL store can implement the
/// same protocol: each method is one transaction.
public protocol MeowStore: Sendable {
    /// Records a new action with its `proposed` ledger entry, or returns the one with the same key.
    func insert(_ action: NewAction, ledger: LedgerDraft, at: Date) async throws -> (record: ActionRecord, created: Bool)
    func action(_ id: Int64) async throws -> ActionRecord?
    /// Actions, newest first, optionally only in some states, on some subjects, older than `before` (an id:
    /// the next page after it).
    func actions(states: Set<ActionState>?, subjects: Set<String>?, before: Int64?, limit: Int) async throws -> [ActionRecord]
    /// How many actions `actions(states:subjects:before:limit:)` would list without `before` and `limit`.
    func countActions(states: Set<ActionState>?, subjects: Set<String>?) async throws -> Int
    /// Succeeded actions whose effect has not been observed yet, oldest first.
    func unobserved(limit: Int) async throws -> [ActionRecord]
    /// Moves an action from one of `from` to `to` and writes the ledger entry in the same transaction.
    /// Returns nil (and writes nothing) when the action is not in one of `from`: another process moved it.
    func transition(
        _ id: Int64, from: Set<ActionState>, to: ActionState, reason: String?, ledger: LedgerDraft, at: Date,
        update: @Sendable (inout ActionRecord) -> Void
    ) async throws -> ActionRecord?
    /// Appends a ledger entry without changing the state.
    func append(_ id: Int64, _ ledger: LedgerDraft, at: Date, update: (@Sendable (inout ActionRecord) -> Void)?) async throws
    func ledger(_ id: Int64) async throws -> [LedgerEntry]
    /// Ledger entries of every action since a time, oldest first (the audit log).
    func audit(since: Date, limit: Int) async throws -> [LedgerEntry]
    func approvals(_ id: Int64) async throws -> [Approval]
    /// Records an approval (four-eyes: the approver is not the requester and approves once); the action
    /// becomes `approved` when it has its required approvals.
    func approve(_ id: Int64, by approver: String, reason: String, at: Date) async throws -> ActionRecord
    /// Rejects an action awaiting approval (or closes an `unknown` one).
    func reject(_ id: Int64, by approver: String, reason: String, at: Date) async throws -> ActionRecord
    /// The current runner lease, if any.
    func runnerLease() async throws -> RunnerLease?
    /// Writes `lease` if the stored one is still `expected` (compare-and-set); false when someone else
    /// changed it meanwhile. `nil` as the new lease releases it.
    func replaceRunnerLease(expected: RunnerLease?, with lease: RunnerLease?) async throws -> Bool
    func pauseState() async throws -> PauseState
    func setPaused(_ paused: Bool, by: String, reason: String, at: Date) async throws
    /// How many actions entered `executing` since a time, for a rule, a subject, an environment (nil:
    /// any), not counting `excluding` (the action being checked, when it ran before a crash), nor
    /// notifications (actions of the incident plugin: they change nothing).
    func executions(since: Date, rule: String?, subject: String?, environment: String?, excluding: Int64?) async throws -> Int
    /// The last `limit` finished executions of a provider instance (newest first).
    func recentOutcomes(provider: String, limit: Int) async throws -> [(state: ActionState, at: Date)]
    /// History.
    func record(decisions: [DecisionHistoryRecord]) async throws
    func record(events: [Event], runs: [DAGRun]) async throws
    func decisionHistory(since: Date, subject: String?, limit: Int) async throws -> [DecisionHistoryRecord]
    func prune(now: Date, retention: Retention) async throws -> PruneReport
    /// Incidents (docs/incidents.md): opens one for a key, or returns the open one with that key.
    func openIncident(_ draft: IncidentRecord) async throws -> (record: IncidentRecord, created: Bool)
    /// Newest first; `resolvedSince` keeps the open ones and those resolved since then.
    func incidents(states: Set<IncidentRecord.State>?, resolvedSince: Date?, before: Int64?, limit: Int) async throws
        -> [IncidentRecord]
    func countIncidents(states: Set<IncidentRecord.State>?) async throws -> Int
    /// The deliveries of an incident (its actions), oldest first.
    func deliveries(ofIncident id: Int64) async throws -> [ActionRecord]
    func incident(_ id: Int64) async throws -> IncidentRecord?
    func updateIncident(_ id: Int64, update: @escaping @Sendable (inout IncidentRecord) -> Void) async throws -> IncidentRecord?
    /// The action with this idempotency key.
    func action(key: String) async throws -> ActionRecord?
    /// Deliveries (notification actions executed) through an output instance since a time.
    func notifications(since: Date, provider: String, excluding: Int64?) async throws -> Int
}

extension MeowStore {
    /// Actions, newest first, optionally only in some states.
    public func actions(states: Set<ActionState>?, limit: Int) async throws -> [ActionRecord] {
        try await actions(states: states, subjects: nil, before: nil, limit: limit)
    }
}
