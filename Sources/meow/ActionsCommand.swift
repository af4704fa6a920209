import ArgumentParser
import Foundation
import MeowActions
import MeowModel
import MeowPlugins
import MeowStore

struct ActionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "actions",
        abstract: "List, inspect, approve and reject actions; pause and resume them all (docs/actions.md).",
        discussion: """
            These commands work on the store (store.path in meow.yaml, or --store) while `meow run` may be running:
            an action approved here is executed by the running meow within a second.

              meow actions list                       # newest first
              meow actions list --state awaiting_approval
              meow actions show 12                    # the whole story: proposal, guardrails, approvals, execution, effect
              meow actions approve 12 --as alice --reason "checked the dashboard"
              meow actions reject 12 --as alice --reason "planned maintenance"
              meow actions pause --as alice --reason "incident in progress"
              meow actions resume --as alice --reason "incident closed"

            Exit codes: 0 done, 1 refused (four-eyes, expired, not awaiting approval, no such action), 2 bad input.
            """,
        subcommands: [
            ActionsList.self, ActionsShow.self, ActionsApprove.self, ActionsReject.self, ActionsPause.self,
            ActionsResume.self, ActionsRequest.self, ActionsResolve.self, ActionsAudit.self,
        ]
    )
}

/// Where the store is: `--store`, or store.path of `--config`.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "The config file whose store.path to use.")
    var config: String = "meow.yaml"

    @Option(name: .long, help: "The store file itself (overrides --config).")
    var store: String?

    @Option(name: .long, help: "text or json.")
    var output: OutputFormat = .text

    /// The store; `create` for commands that make sense before meow ever ran (pause, request).
    func open(create: Bool = false) throws -> SQLiteStore {
        let path: String
        if let store {
            path = store
            guard create || FileManager.default.fileExists(atPath: path) else {
                throw InputError("--store \(path): no such file (meow run creates it)")
            }
        } else {
            guard FileManager.default.fileExists(atPath: config) else {
                throw InputError("--config \(config): no such file (give --config meow.yaml or --store PATH)")
            }
            let cfg: MeowConfig
            do {
                cfg = try MeowConfig.load(path: config, checkSecrets: false)
            } catch {
                throw InputError("\(error)")
            }
            path = cfg.storePath
            guard create || FileManager.default.fileExists(atPath: path) else {
                throw InputError("\(config): store.path \(path) does not exist yet (meow run creates it)")
            }
        }
        do {
            return try SQLiteStore(path: path)
        } catch {
            throw InputError("\(error)")
        }
    }
}

/// Who is acting: `--as`, else $MEOW_USER, else $USER.
struct Identity: ParsableArguments {
    @Option(name: .customLong("as"), help: "Who you are (default: $MEOW_USER, then $USER). Recorded in the audit log.")
    var name: String?

    @Option(name: .long, help: "Why (required; recorded in the audit log).")
    var reason: String

    func who() throws -> String {
        let env = ProcessInfo.processInfo.environment
        guard let n = name ?? env["MEOW_USER"] ?? env["USER"], !n.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw InputError("who are you? give --as NAME (or set MEOW_USER)")
        }
        return n
    }

    func why() throws -> String {
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw InputError("--reason must not be empty") }
        return reason
    }
}

enum ActionsRender {
    static func age(_ d: Date, now: Date = Date()) -> String {
        let s = max(0, now.timeIntervalSince(d))
        if s < 60 { return "\(Int(s))s" }
        if s < 3600 { return "\(Int(s / 60))m" }
        if s < 86400 { return "\(Int(s / 3600))h" }
        return "\(Int(s / 86400))d"
    }

    static func state(_ s: ActionState) -> String {
        let t = s.rawValue
        switch s {
        case .succeeded: return Console.green(t)
        case .failed, .refused, .unknown, .rejected: return Console.red(t)
        case .awaitingApproval, .approved, .executing: return Console.yellow(t)
        default: return t
        }
    }

    static func table(_ list: [ActionRecord]) -> String {
        let actionWidth = max(6, list.map(\.action.count).max() ?? 0) + 2
        let subjectWidth = min(80, max(7, list.map(\.subject.count).max() ?? 0)) + 2
        let ruleWidth = max(4, list.map(\.rule.count).max() ?? 0) + 2
        func pad(_ s: String, _ n: Int) -> String { s.padding(toLength: max(n, s.count + 1), withPad: " ", startingAt: 0) }
        var out = [
            pad("ID", 7) + pad("STATE", 19) + pad("ACTION", actionWidth) + pad("SUBJECT", subjectWidth) + pad("RULE", ruleWidth)
                + "AGE"
        ]
        for r in list {
            let state = pad(r.state.rawValue, 19)
            out.append(
                pad(String(r.id), 7) + state.replacingOccurrences(of: r.state.rawValue, with: Self.state(r.state))
                    + pad(r.action, actionWidth) + pad(r.subject, subjectWidth) + pad(r.rule, ruleWidth) + age(r.createdAt))
            if let why = r.stateReason, r.state == .refused || r.state == .failed || r.state == .unknown {
                out.append(Console.dim("       ↳ \(why)"))
            }
        }
        return out.joined(separator: "\n")
    }

    static func story(_ r: ActionRecord, approvals: [Approval], ledger: [LedgerEntry]) -> String {
        var out: [String] = []
        out.append(Console.bold("action \(r.id)") + "  \(state(r.state))\(r.stateReason.map { " — \($0)" } ?? "")")
        out.append("  action      \(r.action) \(Value.object(r.params).jsonString())")
        out.append("  subject     \(r.subject)\(r.environment.map { " (\($0))" } ?? "")")
        out.append("  provider    \(r.provider ?? "-")")
        out.append("  requested   by \(r.requester) at \(Timestamp.format(r.createdAt))")
        if let reason = r.reason { out.append("  why         \(reason)") }
        out.append("  mode        \(r.mode)   approvals needed: \(r.requiredApprovals)")
        if let e = r.expiresAt, r.state == .awaitingApproval { out.append("  expires     \(Timestamp.format(e))") }
        if let e = r.executedAt { out.append("  executed    \(Timestamp.format(e)) (attempts: \(r.attempts))") }
        if let result = r.result { out.append("  result      \(result.jsonString())") }
        if !approvals.isEmpty {
            out.append(Console.bold("Approvals"))
            for a in approvals { out.append("  \(Timestamp.format(a.at))  \(a.verdict) by \(a.approver): \(a.reason)") }
        }
        out.append(Console.bold("Ledger") + Console.dim("  (each step written before it happened)"))
        let actorWidth = ledger.map(\.actor.count).max() ?? 4
        for l in ledger {
            out.append(
                "  \(Timestamp.format(l.at))  \(l.step.padding(toLength: 18, withPad: " ", startingAt: 0)) \(l.actor.padding(toLength: actorWidth, withPad: " ", startingAt: 0))  \(l.message)"
            )
        }
        return out.joined(separator: "\n")
    }
}

struct ActionsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Actions, newest first.")
    @OptionGroup var where_: StoreOptions
    @Option(
        name: .long,
        help: "Only actions in this state (repeatable): \(ActionState.allCases.map(\.rawValue).joined(separator: ", ")).")
    var state: [String] = []
    @Option(name: .long, help: "At most this many.") var limit = 50

    func run() async throws {
        var states: Set<ActionState>?
        if !state.isEmpty {
            states = []
            for s in state {
                guard let st = ActionState(rawValue: s) else {
                    throw InputError("--state \(s): one of \(ActionState.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                states!.insert(st)
            }
        }
        let store = try where_.open()
        let list = try await store.actions(states: states, limit: limit)
        if where_.output == .json {
            print(try Console.json(list))
            return
        }
        if list.isEmpty {
            print("no actions\(states == nil ? "" : " in state \(state.joined(separator: ", "))")")
            return
        }
        print(ActionsRender.table(list))
    }
}

struct ActionsShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "One action and its whole story (the ledger and approvals).")
    @OptionGroup var where_: StoreOptions
    @Argument(help: "Action id.") var id: Int64

    func run() async throws {
        let store = try where_.open()
        guard let r = try await store.action(id) else {
            Console.error("no action \(id) in \(store.path)")
            throw ExitCode(1)
        }
        let approvals = try await store.approvals(id)
        let ledger = try await store.ledger(id)
        if where_.output == .json {
            struct Out: Encodable {
                var action: ActionRecord
                var approvals: [Approval]
                var ledger: [LedgerEntry]
            }
            print(try Console.json(Out(action: r, approvals: approvals, ledger: ledger)))
            return
        }
        print(ActionsRender.story(r, approvals: approvals, ledger: ledger))
    }
}

/// Runs an approval-style change and maps refusals to exit code 1.
func approvalStep(_ output: OutputFormat, _ body: () async throws -> ActionRecord) async throws {
    do {
        let r = try await body()
        if output == .json {
            print(try Console.json(r))
        } else {
            print("action \(r.id): \(r.state.rawValue)\(r.stateReason.map { " (\($0))" } ?? "")")
        }
    } catch let e as ApprovalError {
        if output == .json {
            print(Value.object(["error": .string(e.kind.rawValue), "message": .string(e.message)]).jsonString())
        }
        Console.error(e.message)
        throw ExitCode(1)
    }
}

struct ActionsApprove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Approve an action awaiting approval (four-eyes: not the requester, once per person).")
    @OptionGroup var where_: StoreOptions
    @OptionGroup var me: Identity
    @Argument(help: "Action id.") var id: Int64

    func run() async throws {
        let store = try where_.open()
        let who = try me.who()
        let why = try me.why()
        try await approvalStep(where_.output) { try await store.approve(id, by: who, reason: why, at: Date()) }
    }
}

struct ActionsReject: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reject", abstract: "Reject an action awaiting approval or approved (it will not run).")
    @OptionGroup var where_: StoreOptions
    @OptionGroup var me: Identity
    @Argument(help: "Action id.") var id: Int64

    func run() async throws {
        let store = try where_.open()
        let who = try me.who()
        let why = try me.why()
        try await approvalStep(where_.output) { try await store.reject(id, by: who, reason: why, at: Date()) }
    }
}

/// `meow actions pause|resume`: sets the switch and prints it.
func setPause(_ paused: Bool, _ where_: StoreOptions, _ me: Identity) async throws {
    let store = try where_.open(create: true)
    try await store.setPaused(paused, by: try me.who(), reason: try me.why(), at: Date())
    let p = try await store.pauseState()
    if where_.output == .json {
        print(try Console.json(p))
    } else {
        print("actions \(paused ? "paused" : "resumed") by \(p.by ?? "?"): \(p.reason ?? "")")
    }
}

struct ActionsPause: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause",
        abstract: "Stop every action: new proposals are refused, approved actions wait until resume.")
    @OptionGroup var where_: StoreOptions
    @OptionGroup var me: Identity

    func run() async throws { try await setPause(true, where_, me) }
}

struct ActionsResume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resume", abstract: "Lift the pause.")
    @OptionGroup var where_: StoreOptions
    @OptionGroup var me: Identity

    func run() async throws { try await setPause(false, where_, me) }
}

struct ActionsRequest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "request",
        abstract: "Ask for an action by hand; it goes through the same pipeline and needs someone else's approval.",
        discussion: """
              meow actions request kubernetes.scale --subject workload/prod-1/payments/payments-api \\
                --param replicas=6 --as alice --reason "Black Friday traffic"
            """)
    @OptionGroup var where_: StoreOptions
    @OptionGroup var me: Identity
    @Argument(help: "plugin.action, e.g. argocd.sync.") var action: String
    @Option(name: .long, help: "The entity id to act on.") var subject: String
    @Option(name: .long, help: "A parameter KEY=VALUE (repeatable); numbers and true/false are typed.") var param: [String] = []

    func run() async throws {
        guard ManualRequest.isActionName(action) else {
            throw InputError("\(action): expected plugin.action, e.g. kubernetes.scale")
        }
        var params: [String: Value] = [:]
        for p in param {
            guard let eq = p.firstIndex(of: "="), eq != p.startIndex else { throw InputError("--param \(p): expected KEY=VALUE") }
            let k = String(p[..<eq]), v = String(p[p.index(after: eq)...])
            if let i = Int64(v) {
                params[k] = .int(i)
            } else if let d = Double(v) {
                params[k] = .double(d)
            } else if v == "true" || v == "false" {
                params[k] = .bool(v == "true")
            } else {
                params[k] = .string(v)
            }
        }
        let store = try where_.open(create: true)
        let who = try me.who()
        let why = try me.why()
        let now = Date()
        let (draft, ledger) = ManualRequest.draft(
            action: action, subject: subject, params: params, requester: who, reason: why, at: now)
        let (r, _) = try await store.insert(draft, ledger: ledger, at: now)
        if where_.output == .json {
            print(try Console.json(r))
        } else {
            print("action \(r.id): proposed; the running meow checks it, then someone other than \(who) approves it")
        }
    }
}

struct ActionsResolve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resolve",
        abstract: "Close an action left `unknown` (interrupted, and its provider could not tell) after checking it by hand.")
    @OptionGroup var where_: StoreOptions
    @OptionGroup var me: Identity
    @Argument(help: "Action id.") var id: Int64
    @Option(name: .long, help: "What you found: succeeded or failed.") var outcome: String

    func run() async throws {
        guard let to = ActionState(rawValue: outcome), to == .succeeded || to == .failed else {
            throw InputError("--outcome \(outcome): succeeded or failed")
        }
        let store = try where_.open()
        let who = try me.who()
        let why = try me.why()
        guard
            let r = try await store.transition(
                id, from: [.unknown], to: to, reason: "resolved by \(who): \(why)",
                ledger: LedgerDraft("resolved", actor: who, "checked by hand: \(to.rawValue): \(why)"), at: Date(),
                update: { $0.finishedAt = Date() })
        else {
            Console.error(
                "action \(id) is not unknown (only interrupted actions the provider could not check are resolved by hand)")
            throw ExitCode(1)
        }
        if where_.output == .json { print(try Console.json(r)) } else { print("action \(r.id): \(r.state.rawValue)") }
    }
}

struct ActionsAudit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "The audit log: every ledger entry of every action since a time.")
    @OptionGroup var where_: StoreOptions
    @Option(name: .long, help: "How far back (e.g. 24h, 7d).") var since: String = "24h"
    @Option(name: .long, help: "At most this many entries.") var limit = 1000

    func run() async throws {
        guard let d = Timestamp.parseDuration(since) else { throw InputError("--since \(since): expected a duration like 24h") }
        let store = try where_.open()
        let entries = try await store.audit(since: Date().addingTimeInterval(-d), limit: limit)
        if where_.output == .json {
            print(try Console.json(entries))
            return
        }
        for l in entries {
            print(
                "\(Timestamp.format(l.at))  #\(l.actionID)  \(l.step.padding(toLength: 18, withPad: " ", startingAt: 0)) \(l.actor): \(l.message)"
            )
        }
    }
}
