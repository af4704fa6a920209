import Foundation
import MeowActions
import MeowModel
import MeowPlugins
import MeowStore

/// Actions and approvals (docs/actions.md): the same store and four-eyes checks as `meow actions`, with
/// the token's name as the identity.
extension API {
    func requireStore() throws -> any MeowStore {
        guard let store else { throw Problem(503, "no-store", "this meow runs without a store; actions are unavailable") }
        return store
    }

    func actions(_ r: APIRequest) async throws -> APIResponse {
        let store = try requireStore()
        let states = try Self.oneOf(r, "state", ActionState.allCases.map(\.rawValue)).map { Set($0.compactMap(ActionState.init)) }
        let limit = try Self.int(r, "limit", default: 100, range: 1...config.server.maxPage)
        let before = try r.query("cursor").map { text -> Int64 in
            guard let id = Int64(text) else {
                throw Problem.badRequest("query parameter cursor: expected an action id", field: "cursor")
            }
            return id
        }
        // newest first; the cursor is the last id of the previous page
        let subjects = r.query("subject").map { Set([$0]) }
        let list = try await store.actions(states: states, subjects: subjects, before: before, limit: limit + 1)
        let total = try await store.countActions(states: states, subjects: subjects)
        let page = Array(list.prefix(limit))
        return .json([
            "items": .array(try page.map { try Self.encode($0) }), "total": .int(Int64(total)),
            "next_cursor": list.count > limit ? .string(String(page.last!.id)) : .null,
        ])
    }

    func actionID(_ r: APIRequest) throws -> Int64 {
        guard let text = r.parameters["id"], let id = Int64(text), id > 0 else {
            throw Problem.badRequest("expected a numeric action id in the path, got \"\(r.parameters["id"] ?? "")\"", field: "id")
        }
        return id
    }

    /// One action with its approvals and its ledger (the audit trail, oldest first).
    func action(_ r: APIRequest) async throws -> APIResponse {
        let store = try requireStore()
        let id = try actionID(r)
        guard let record = try await store.action(id) else { throw Problem.notFound("no action \(id)") }
        return .json(try await detail(record, store))
    }

    /// The action with its approvals (`approvals_count` of `required_approvals`) and its ledger.
    func detail(_ record: ActionRecord, _ store: any MeowStore) async throws -> Value {
        guard case .object(var o) = try Self.encode(record) else { return .null }
        let approvals = try await store.approvals(record.id)
        o["approvals"] = try Self.encode(approvals)
        o["approvals_count"] = .int(Int64(approvals.filter { $0.verdict == "approve" }.count))
        o["ledger"] = try Self.encode(try await store.ledger(record.id))
        return .object(o)
    }

    func approve(_ r: APIRequest) async throws -> APIResponse { try await verdict(r, approve: true) }
    func reject(_ r: APIRequest) async throws -> APIResponse { try await verdict(r, approve: false) }

    /// Approves or rejects as the token's identity. Four-eyes: never the requester, each person once.
    func verdict(_ r: APIRequest, approve: Bool) async throws -> APIResponse {
        let store = try requireStore()
        let id = try actionID(r)
        try Self.requireIdentity(r.caller, for: approve ? "approve" : "reject")
        let body = try Self.jsonBody(r)
        let reason = try Self.requiredString(body, "reason")
        do {
            let record =
                approve
                ? try await store.approve(id, by: r.caller.name, reason: reason, at: Date())
                : try await store.reject(id, by: r.caller.name, reason: reason, at: Date())
            hub.publishAction(
                id: id, state: record.state, action: record.action, subject: record.subject, rule: record.rule,
                message: "\(approve ? "approval" : "rejection") by \(r.caller.name): \(reason)")
            return .json(try await detail(record, store))
        } catch let e as ApprovalError {
            throw Self.problem(e)
        }
    }

    static func problem(_ e: ApprovalError) -> Problem {
        switch e.kind {
        case .notFound: Problem.notFound(e.message)
        case .invalid: Problem.unprocessable(e.message)
        case .fourEyes: Problem(403, "four-eyes", e.message)
        case .alreadyApproved: Problem(409, "already-approved", e.message)
        case .expired: Problem(409, "expired", e.message)
        case .notAwaiting: Problem(409, "not-awaiting-approval", e.message)
        }
    }

    /// Approvals and requests record who: an anonymous caller has no identity to record.
    static func requireIdentity(_ caller: Caller, for what: String) throws {
        if caller.name == Caller.anonymous.name {
            throw Authenticator.refusal(
                "to \(what), call with a bearer token: its name is the identity the ledger records and four-eyes checks",
                error: nil)
        }
    }

    static func requiredString(_ body: [String: Value], _ key: String) throws -> String {
        guard let v = body[key] else { throw Problem.unprocessable("\(key) is required", field: key) }
        guard let s = v.stringValue, !s.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw Problem.unprocessable("\(key) must be a non-empty string, got \(v.typeName)", field: key)
        }
        return s
    }

    /// A person's request for an action: `{"action": "kubernetes.scale", "subject": ID, "params": {...},
    /// "reason": "..."}`. It goes through the pipeline like a rule's proposal and needs someone else's
    /// approval.
    func propose(_ r: APIRequest) async throws -> APIResponse {
        let store = try requireStore()
        try Self.requireIdentity(r.caller, for: "request an action")
        let body = try Self.jsonBody(r)
        let unknown = Set(body.keys).subtracting(["action", "subject", "params", "reason"])
        if let k = unknown.sorted().first {
            throw Problem.unprocessable("unknown field \(k) (expected action, subject, params, reason)", field: k)
        }
        let action = try Self.requiredString(body, "action")
        let subject = try Self.requiredString(body, "subject")
        let reason = try Self.requiredString(body, "reason")
        guard ManualRequest.isActionName(action) else {
            throw Problem.unprocessable(
                "action: expected plugin.action, e.g. kubernetes.scale, got \"\(action)\"", field: "action")
        }
        let parts = action.split(separator: ".").map(String.init)
        guard let plugin = registry.plugin(parts[0]), let spec = plugin.manifest.action(parts[1]) else {
            throw Problem.unprocessable(
                "action: no plugin offers \(action) (GET /v1/status lists the providers; meow plugins show NAME lists actions)",
                field: "action")
        }
        var params: [String: Value] = [:]
        if let p = body["params"] {
            guard case .object(let o) = p else {
                throw Problem.unprocessable("params must be an object, got \(p.typeName)", field: "params")
            }
            params = o
        }
        do {
            params = try ActionParams.validate(params, against: spec.params, action: action)
        } catch {
            throw Problem.unprocessable("params: \(error)", field: "params")
        }
        guard let entity = state.snapshot.entities.first(where: { $0.id == subject }) else {
            throw Problem.unprocessable("subject: no entity \(subject) in the current state", field: "subject")
        }
        if let kind = spec.subject, entity.kind != kind {
            throw Problem.unprocessable(
                "subject: \(action) acts on a \(kind.rawValue), and \(subject) is a \(entity.kind.rawValue)",
                field: "subject")
        }
        let now = Date()
        let (draft, ledger) = ManualRequest.draft(
            action: action, subject: subject, params: params, requester: r.caller.name, reason: reason, at: now)
        let (record, _) = try await store.insert(draft, ledger: ledger, at: now)
        hub.publishAction(
            id: record.id, state: record.state, action: action, subject: subject, rule: record.rule,
            message: "requested by \(r.caller.name): \(reason)")
        return .json(try Self.encode(record), status: 201, headers: ["Location": "/v1/actions/\(record.id)"])
    }

    func pause(_ r: APIRequest) async throws -> APIResponse { try await setPaused(r, true) }
    func resume(_ r: APIRequest) async throws -> APIResponse { try await setPaused(r, false) }

    func setPaused(_ r: APIRequest, _ paused: Bool) async throws -> APIResponse {
        let store = try requireStore()
        try Self.requireIdentity(r.caller, for: paused ? "pause actions" : "resume actions")
        let reason = try Self.requiredString(try Self.jsonBody(r), "reason")
        try await store.setPaused(paused, by: r.caller.name, reason: reason, at: Date())
        let p = try await store.pauseState()
        hub.publish("state", ["actions_paused": .bool(p.paused), "by": .string(r.caller.name), "reason": .string(reason)])
        return .json(try Self.encode(p))
    }

    // MARK: Events

    /// Server-sent events: `decision`, `action`, `state`, `rules`, `warning` and `reset`. Resumes after
    /// `Last-Event-ID` (header, or `last_event_id` for clients that cannot set it).
    func events(_ r: APIRequest) async throws -> APIResponse {
        let types = try Self.oneOf(r, "types", ["decision", "action", "state", "rules", "warning"])
        let last = r.header("last-event-id") ?? r.query("last_event_id")
        return .events(hub.subscribe(after: last), types: types)
    }
}
