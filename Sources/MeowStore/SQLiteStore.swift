import Foundation
import GRDB
import MeowModel

/// The SQLite store (GRDB): one file, WAL, schema migrations. Several processes may open it at once
/// (`meow run` and `meow actions approve`): every method is one transaction, writers wait for each other
/// up to `busyTimeout`.
public final class SQLiteStore: MeowStore {
    let pool: DatabasePool
    public let path: String

    /// Opens (creating the file and its directory when missing) and migrates the store.
    public init(path: String, busyTimeout: TimeInterval = 10) throws {
        self.path = path
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        if !FileManager.default.fileExists(atPath: dir) {
            do {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            } catch {
                throw StoreError("cannot create the store directory \(dir): \(error.localizedDescription)")
            }
        }
        var config = Configuration()
        config.busyMode = .timeout(busyTimeout)
        config.label = "meow-store"
        do {
            pool = try DatabasePool(path: path, configuration: config)
            try Self.migrator.migrate(pool)
        } catch let e as DatabaseError {
            throw StoreError("cannot open the store \(path): \(e.message ?? "\(e)")")
        }
    }

    /// The schema, one migration per change; a store written by an older meow is upgraded on open.
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1: actions, ledger, approvals, control, history") { db in
            try db.execute(
                sql: """
                    CREATE TABLE actions (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        key TEXT NOT NULL UNIQUE,
                        rule TEXT NOT NULL,
                        subject TEXT NOT NULL,
                        action TEXT NOT NULL,
                        params TEXT NOT NULL,
                        environment TEXT,
                        provider TEXT,
                        requester TEXT NOT NULL,
                        reason TEXT,
                        evidence TEXT NOT NULL,
                        mode TEXT NOT NULL,
                        state TEXT NOT NULL,
                        state_reason TEXT,
                        required_approvals INTEGER NOT NULL DEFAULT 1,
                        created_at REAL NOT NULL,
                        updated_at REAL NOT NULL,
                        expires_at REAL,
                        executed_at REAL,
                        finished_at REAL,
                        observed_at REAL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        result TEXT
                    );
                    CREATE INDEX actions_state ON actions(state);
                    CREATE INDEX actions_rule_subject ON actions(rule, subject, executed_at);
                    CREATE INDEX actions_executed ON actions(executed_at);
                    CREATE TABLE ledger (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        action_id INTEGER NOT NULL REFERENCES actions(id) ON DELETE CASCADE,
                        at REAL NOT NULL,
                        step TEXT NOT NULL,
                        actor TEXT NOT NULL,
                        message TEXT NOT NULL,
                        detail TEXT NOT NULL
                    );
                    CREATE INDEX ledger_action ON ledger(action_id, seq);
                    CREATE INDEX ledger_at ON ledger(at);
                    CREATE TABLE approvals (
                        action_id INTEGER NOT NULL REFERENCES actions(id) ON DELETE CASCADE,
                        approver TEXT NOT NULL,
                        verdict TEXT NOT NULL,
                        reason TEXT NOT NULL,
                        at REAL NOT NULL,
                        PRIMARY KEY (action_id, approver)
                    );
                    CREATE TABLE control (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                    CREATE TABLE decisions (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        at REAL NOT NULL,
                        change TEXT NOT NULL,
                        type TEXT NOT NULL,
                        rule TEXT NOT NULL,
                        subject TEXT,
                        body TEXT NOT NULL
                    );
                    CREATE INDEX decisions_at ON decisions(at);
                    CREATE INDEX decisions_subject ON decisions(subject, at);
                    CREATE TABLE events (
                        id TEXT PRIMARY KEY,
                        at REAL NOT NULL,
                        type TEXT,
                        subject TEXT,
                        body TEXT NOT NULL
                    );
                    CREATE INDEX events_at ON events(at);
                    CREATE TABLE runs (
                        id TEXT PRIMARY KEY,
                        at REAL NOT NULL,
                        dag TEXT,
                        state TEXT,
                        body TEXT NOT NULL
                    );
                    CREATE INDEX runs_at ON runs(at);
                    """)
        }
        registerIncidents(&m)
        return m
    }

    // MARK: Actions

    public func insert(_ a: NewAction, ledger: LedgerDraft, at: Date) async throws -> (record: ActionRecord, created: Bool) {
        try await pool.write { db in
            if let row = try Row.fetchOne(db, sql: "SELECT * FROM actions WHERE key = ?", arguments: [a.key]) {
                return (try Self.record(row), false)
            }
            try db.execute(
                sql: """
                    INSERT INTO actions (key, rule, subject, action, params, environment, provider, requester, reason,
                        evidence, mode, state, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'proposed', ?, ?)
                    """,
                arguments: [
                    a.key, a.rule, a.subject, a.action, Value.object(a.params).jsonString(), a.environment, a.provider,
                    a.requester, a.reason, a.evidence.jsonString(), a.mode, at.timeIntervalSince1970,
                    at.timeIntervalSince1970,
                ])
            let id = db.lastInsertedRowID
            try Self.writeLedger(db, id, ledger, at)
            return (try Self.fetch(db, id)!, true)
        }
    }

    public func action(_ id: Int64) async throws -> ActionRecord? {
        try await pool.read { db in try Self.fetch(db, id) }
    }

    public func actions(states: Set<ActionState>?, subjects: Set<String>?, before: Int64?, limit: Int) async throws
        -> [ActionRecord]
    {
        try await pool.read { db in
            let (filter, args) = Self.actionFilter(states: states, subjects: subjects, before: before)
            return try Row.fetchAll(
                db, sql: "SELECT * FROM actions\(filter) ORDER BY id DESC LIMIT ?", arguments: StatementArguments(args + [limit])
            ).map(Self.record)
        }
    }

    public func countActions(states: Set<ActionState>?, subjects: Set<String>?) async throws -> Int {
        try await pool.read { db in
            let (filter, args) = Self.actionFilter(states: states, subjects: subjects, before: nil)
            return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM actions\(filter)", arguments: StatementArguments(args)) ?? 0
        }
    }

    /// A WHERE clause (or nothing) and its arguments.
    static func actionFilter(states: Set<ActionState>?, subjects: Set<String>?, before: Int64?)
        -> (String, [(any DatabaseValueConvertible)?])
    {
        var clauses: [String] = []
        var args: [(any DatabaseValueConvertible)?] = []
        if let states {
            clauses.append(states.isEmpty ? "0" : "state IN (\(states.map { _ in "?" }.joined(separator: ",")))")
            args += states.map(\.rawValue).sorted()
        }
        if let subjects {
            clauses.append(subjects.isEmpty ? "0" : "subject IN (\(subjects.map { _ in "?" }.joined(separator: ",")))")
            args += subjects.sorted()
        }
        if let before {
            clauses.append("id < ?")
            args.append(before)
        }
        return (clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND "), args)
    }

    public func unobserved(limit: Int) async throws -> [ActionRecord] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM actions WHERE state = 'succeeded' AND observed_at IS NULL ORDER BY id LIMIT ?",
                arguments: [limit]
            ).map(Self.record)
        }
    }

    public func transition(
        _ id: Int64, from: Set<ActionState>, to: ActionState, reason: String?, ledger: LedgerDraft, at: Date,
        update: @Sendable (inout ActionRecord) -> Void
    ) async throws -> ActionRecord? {
        try await pool.write { db in
            guard var r = try Self.fetch(db, id), from.contains(r.state) else { return nil }
            r.state = to
            r.stateReason = reason
            r.updatedAt = at
            update(&r)
            try Self.save(db, r)
            try Self.writeLedger(db, id, ledger, at)
            return r
        }
    }

    public func append(_ id: Int64, _ ledger: LedgerDraft, at: Date, update: (@Sendable (inout ActionRecord) -> Void)?)
        async throws
    {
        try await pool.write { db in
            if let update, var r = try Self.fetch(db, id) {
                update(&r)
                try Self.save(db, r)
            }
            try Self.writeLedger(db, id, ledger, at)
        }
    }

    public func ledger(_ id: Int64) async throws -> [LedgerEntry] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM ledger WHERE action_id = ? ORDER BY seq", arguments: [id]).map(
                Self.entry)
        }
    }

    public func audit(since: Date, limit: Int) async throws -> [LedgerEntry] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM ledger WHERE at >= ? ORDER BY seq LIMIT ?",
                arguments: [since.timeIntervalSince1970, limit]
            ).map(Self.entry)
        }
    }

    public func approvals(_ id: Int64) async throws -> [Approval] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM approvals WHERE action_id = ? ORDER BY at", arguments: [id]).map { row in
                Approval(
                    actionID: row["action_id"], approver: row["approver"], verdict: row["verdict"], reason: row["reason"],
                    at: Date(timeIntervalSince1970: row["at"]))
            }
        }
    }

    public func approve(_ id: Int64, by approver: String, reason: String, at: Date) async throws -> ActionRecord {
        // An expired action is marked so in the same transaction, which must commit: the refusal is
        // returned, not thrown, out of it.
        let outcome: Result<ActionRecord, ApprovalError> = try await pool.write { db in
            do {
                return .success(try Self.approveInTransaction(db, id, approver: approver, reason: reason, at: at))
            } catch let e as ApprovalError where e.kind == .expired {
                return .failure(e)
            }
        }
        return try outcome.get()
    }

    static func approveInTransaction(_ db: Database, _ id: Int64, approver: String, reason: String, at: Date) throws
        -> ActionRecord
    {
        var r = try Self.awaiting(db, id, approver: approver, reason: reason, at: at)
        if try Bool.fetchOne(
            db, sql: "SELECT 1 FROM approvals WHERE action_id = ? AND approver = ?", arguments: [id, approver]) == true
        {
            throw ApprovalError(.alreadyApproved, "action \(id): \(approver) has approved it already; another person must")
        }
        try db.execute(
            sql: "INSERT INTO approvals (action_id, approver, verdict, reason, at) VALUES (?, ?, 'approve', ?, ?)",
            arguments: [id, approver, reason, at.timeIntervalSince1970])
        let count =
            try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM approvals WHERE action_id = ? AND verdict = 'approve'", arguments: [id]) ?? 0
        try Self.writeLedger(
            db, id,
            LedgerDraft(
                "approval", actor: approver, "approved by \(approver) (\(count) of \(r.requiredApprovals)): \(reason)",
                detail: ["approver": .string(approver), "reason": .string(reason)]), at)
        if count >= r.requiredApprovals {
            r.state = .approved
            r.stateReason = "approved by \(approver)"
            r.updatedAt = at
            try Self.save(db, r)
            try Self.writeLedger(
                db, id, LedgerDraft("approved", actor: approver, "approved; waiting for execution"), at)
        }
        return r
    }

    public func reject(_ id: Int64, by approver: String, reason: String, at: Date) async throws -> ActionRecord {
        try await pool.write { db in
            guard var r = try Self.fetch(db, id) else { throw ApprovalError(.notFound, "no action \(id)") }
            guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw ApprovalError(.invalid, "a reason is required (--reason)")
            }
            guard r.state == .awaitingApproval || r.state == .unknown || r.state == .approved else {
                throw ApprovalError(
                    .notAwaiting,
                    "action \(id) is \(r.state.rawValue); only actions awaiting approval, approved or unknown can be rejected")
            }
            try db.execute(
                sql: "INSERT OR REPLACE INTO approvals (action_id, approver, verdict, reason, at) VALUES (?, ?, 'reject', ?, ?)",
                arguments: [id, approver, reason, at.timeIntervalSince1970])
            let was = r.state
            r.state = .rejected
            r.stateReason = "rejected by \(approver): \(reason)"
            r.updatedAt = at
            r.finishedAt = at
            try Self.save(db, r)
            try Self.writeLedger(
                db, id,
                LedgerDraft(
                    "rejected", actor: approver, "rejected by \(approver) (was \(was.rawValue)): \(reason)",
                    detail: ["approver": .string(approver), "reason": .string(reason)]), at)
            return r
        }
    }

    /// The action, checked to be awaiting approval by someone other than its requester, not expired.
    static func awaiting(_ db: Database, _ id: Int64, approver: String, reason: String, at: Date) throws -> ActionRecord {
        guard var r = try fetch(db, id) else { throw ApprovalError(.notFound, "no action \(id)") }
        guard !approver.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ApprovalError(.invalid, "an approver name is required (--as NAME)")
        }
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ApprovalError(.invalid, "a reason is required (--reason)")
        }
        guard r.state == .awaitingApproval else {
            throw ApprovalError(.notAwaiting, "action \(id) is \(r.state.rawValue), not awaiting approval")
        }
        if let e = r.expiresAt, e <= at {
            r.state = .expired
            r.stateReason = "approval window ended at \(Timestamp.format(e))"
            r.updatedAt = at
            r.finishedAt = at
            try save(db, r)
            try writeLedger(db, id, LedgerDraft("expired", "not approved before \(Timestamp.format(e))"), at)
            throw ApprovalError(.expired, "action \(id) expired at \(Timestamp.format(e)); it can no longer be approved")
        }
        guard approver != r.requester && "rule:\(approver)" != r.requester else {
            throw ApprovalError(
                .fourEyes, "action \(id) was requested by \(r.requester): four-eyes rule, someone else must approve it")
        }
        return r
    }

    // MARK: Control

    public func runnerLease() async throws -> RunnerLease? {
        try await pool.read { db in try Self.lease(db) }
    }

    public func replaceRunnerLease(expected: RunnerLease?, with lease: RunnerLease?) async throws -> Bool {
        let text = try lease.map { String(decoding: try JSONEncoder.meow.encode($0), as: UTF8.self) }
        return try await pool.write { db in
            guard try Self.lease(db) == expected else { return false }
            if let text {
                try db.execute(sql: "INSERT OR REPLACE INTO control (key, value) VALUES ('runner', ?)", arguments: [text])
            } else {
                try db.execute(sql: "DELETE FROM control WHERE key = 'runner'")
            }
            return true
        }
    }

    static func lease(_ db: Database) throws -> RunnerLease? {
        guard let text = try String.fetchOne(db, sql: "SELECT value FROM control WHERE key = 'runner'") else { return nil }
        return try? JSONDecoder.meow.decode(RunnerLease.self, from: Data(text.utf8))
    }

    public func pauseState() async throws -> PauseState {
        try await pool.read { db in
            guard let text = try String.fetchOne(db, sql: "SELECT value FROM control WHERE key = 'pause'") else {
                return PauseState(paused: false)
            }
            return (try? JSONDecoder.meow.decode(PauseState.self, from: Data(text.utf8))) ?? PauseState(paused: false)
        }
    }

    public func setPaused(_ paused: Bool, by: String, reason: String, at: Date) async throws {
        let state = PauseState(paused: paused, by: by, reason: reason, at: at)
        let text = String(decoding: try JSONEncoder.meow.encode(state), as: UTF8.self)
        try await pool.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO control (key, value) VALUES ('pause', ?)", arguments: [text])
        }
    }

    // MARK: Guardrail counts

    public func executions(since: Date, rule: String?, subject: String?, environment: String?, excluding: Int64?)
        async throws -> Int
    {
        try await pool.read { db in
            var sql = "SELECT COUNT(*) FROM actions WHERE executed_at >= ? AND id != ? AND NOT \(Self.notificationSQL)"
            var args: [(any DatabaseValueConvertible)?] = [since.timeIntervalSince1970, excluding ?? -1]
            if let rule {
                sql += " AND rule = ?"
                args.append(rule)
            }
            if let subject {
                sql += " AND subject = ?"
                args.append(subject)
            }
            if let environment {
                sql += " AND environment = ?"
                args.append(environment)
            }
            return try Int.fetchOne(db, sql: sql, arguments: StatementArguments(args)) ?? 0
        }
    }

    public func recentOutcomes(provider: String, limit: Int) async throws -> [(state: ActionState, at: Date)] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT state, finished_at FROM actions
                    WHERE provider = ? AND state IN ('succeeded', 'failed') AND finished_at IS NOT NULL
                    ORDER BY finished_at DESC LIMIT ?
                    """, arguments: [provider, limit]
            ).map { row in
                (ActionState(rawValue: row["state"]) ?? .failed, Date(timeIntervalSince1970: row["finished_at"]))
            }
        }
    }

    // MARK: History

    public func record(decisions: [DecisionHistoryRecord]) async throws {
        guard !decisions.isEmpty else { return }
        try await pool.write { db in
            for d in decisions {
                let body = String(decoding: try JSONEncoder.meow.encode(d.decision), as: UTF8.self)
                try db.execute(
                    sql: "INSERT INTO decisions (at, change, type, rule, subject, body) VALUES (?, ?, ?, ?, ?, ?)",
                    arguments: [
                        d.at.timeIntervalSince1970, d.change, d.decision.type.rawValue, d.decision.rule, d.decision.subject, body,
                    ])
            }
        }
    }

    public func record(events: [Event], runs: [DAGRun]) async throws {
        guard !events.isEmpty || !runs.isEmpty else { return }
        try await pool.write { db in
            for e in events {
                let body = e.document.jsonString()
                try db.execute(
                    sql: "INSERT OR IGNORE INTO events (id, at, type, subject, body) VALUES (?, ?, ?, ?, ?)",
                    arguments: [
                        e.id, (e.time ?? e.observedAt ?? Date()).timeIntervalSince1970, e.type, e.subject, body,
                    ])
            }
            for r in runs {
                let body = r.document.jsonString()
                try db.execute(
                    sql: "INSERT OR REPLACE INTO runs (id, at, dag, state, body) VALUES (?, ?, ?, ?, ?)",
                    arguments: [
                        r.id, (r.end ?? r.start ?? r.observedAt ?? Date()).timeIntervalSince1970, r.dag, r.state, body,
                    ])
            }
        }
    }

    public func decisionHistory(since: Date, subject: String?, limit: Int) async throws -> [DecisionHistoryRecord] {
        try await pool.read { db in
            var sql = "SELECT at, change, body FROM decisions WHERE at >= ?"
            var args: [(any DatabaseValueConvertible)?] = [since.timeIntervalSince1970]
            if let subject {
                sql += " AND subject = ?"
                args.append(subject)
            }
            // (at, id) rather than id: with a subject, the (subject, at) index then gives the order too, and
            // SQLite does not walk the whole table by id instead
            sql += " ORDER BY at, id LIMIT ?"
            args.append(limit)
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).compactMap { row in
                let body: String = row["body"]
                guard let d = try? JSONDecoder.meow.decode(Decision.self, from: Data(body.utf8)) else { return nil }
                return DecisionHistoryRecord(at: Date(timeIntervalSince1970: row["at"]), change: row["change"], decision: d)
            }
        }
    }

    /// Counts of what the history tables hold (tests, `meow actions` summaries).
    public func historyCounts() async throws -> (decisions: Int, events: Int, runs: Int) {
        try await pool.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM decisions") ?? 0,
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM events") ?? 0,
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM runs") ?? 0
            )
        }
    }

    public func prune(now: Date, retention: Retention) async throws -> PruneReport {
        let history = now.addingTimeInterval(-retention.history).timeIntervalSince1970
        let actions = now.addingTimeInterval(-retention.actions).timeIntervalSince1970
        return try await pool.write { db in
            var report = PruneReport()
            try db.execute(sql: "DELETE FROM decisions WHERE at < ?", arguments: [history])
            report.decisions = db.changesCount
            try db.execute(sql: "DELETE FROM events WHERE at < ?", arguments: [history])
            report.events = db.changesCount
            try db.execute(sql: "DELETE FROM runs WHERE at < ?", arguments: [history])
            report.runs = db.changesCount
            let terminal = ActionState.allCases.filter(\.isTerminal).map { "'\($0.rawValue)'" }.joined(separator: ",")
            try db.execute(
                sql:
                    "DELETE FROM ledger WHERE action_id IN (SELECT id FROM actions WHERE state IN (\(terminal)) AND updated_at < ?)",
                arguments: [actions])
            try db.execute(
                sql:
                    "DELETE FROM approvals WHERE action_id IN (SELECT id FROM actions WHERE state IN (\(terminal)) AND updated_at < ?)",
                arguments: [actions])
            try db.execute(sql: "DELETE FROM actions WHERE state IN (\(terminal)) AND updated_at < ?", arguments: [actions])
            report.actions = db.changesCount
            // Resolved incidents go with the actions that delivered them.
            try db.execute(sql: "DELETE FROM incidents WHERE state = 'resolved' AND resolved_at < ?", arguments: [actions])
            report.incidents = db.changesCount
            return report
        }
    }

    // MARK: Rows

    static func fetch(_ db: Database, _ id: Int64) throws -> ActionRecord? {
        try Row.fetchOne(db, sql: "SELECT * FROM actions WHERE id = ?", arguments: [id]).map(record)
    }

    static func json(_ text: String?) -> Value? {
        guard let text else { return nil }
        return try? JSONDecoder().decode(Value.self, from: Data(text.utf8))
    }

    static func date(_ row: Row, _ column: String) -> Date? {
        (row[column] as Double?).map { Date(timeIntervalSince1970: $0) }
    }

    static func record(_ row: Row) throws -> ActionRecord {
        ActionRecord(
            id: row["id"], key: row["key"], rule: row["rule"], subject: row["subject"], action: row["action"],
            params: json(row["params"])?.objectValue ?? [:], environment: row["environment"], provider: row["provider"],
            requester: row["requester"], reason: row["reason"], evidence: json(row["evidence"]) ?? .object([:]),
            mode: row["mode"], state: ActionState(rawValue: row["state"]) ?? .unknown, stateReason: row["state_reason"],
            requiredApprovals: row["required_approvals"], createdAt: date(row, "created_at")!,
            updatedAt: date(row, "updated_at")!, expiresAt: date(row, "expires_at"), executedAt: date(row, "executed_at"),
            finishedAt: date(row, "finished_at"), observedAt: date(row, "observed_at"), attempts: row["attempts"],
            result: json(row["result"]))
    }

    static func save(_ db: Database, _ r: ActionRecord) throws {
        try db.execute(
            sql: """
                UPDATE actions SET state = ?, state_reason = ?, mode = ?, required_approvals = ?, updated_at = ?,
                    expires_at = ?, executed_at = ?, finished_at = ?, observed_at = ?, attempts = ?, result = ?,
                    provider = ?, environment = ?
                WHERE id = ?
                """,
            arguments: [
                r.state.rawValue, r.stateReason, r.mode, r.requiredApprovals, r.updatedAt.timeIntervalSince1970,
                r.expiresAt?.timeIntervalSince1970, r.executedAt?.timeIntervalSince1970, r.finishedAt?.timeIntervalSince1970,
                r.observedAt?.timeIntervalSince1970, r.attempts, r.result?.jsonString(), r.provider, r.environment, r.id,
            ])
    }

    static func writeLedger(_ db: Database, _ id: Int64, _ l: LedgerDraft, _ at: Date) throws {
        try db.execute(
            sql: "INSERT INTO ledger (action_id, at, step, actor, message, detail) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [id, at.timeIntervalSince1970, l.step, l.actor, l.message, l.detail.jsonString()])
    }

    static func entry(_ row: Row) -> LedgerEntry {
        LedgerEntry(
            seq: row["seq"], actionID: row["action_id"], at: Date(timeIntervalSince1970: row["at"]), step: row["step"],
            actor: row["actor"], message: row["message"], detail: json(row["detail"]) ?? .object([:]))
    }
}

/// A store that cannot be opened or used, with what to check.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension JSONEncoder {
    /// Sorted keys, ISO dates: what the store keeps as JSON text.
    static var meow: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .iso8601
        return e
    }
}

extension JSONDecoder {
    static var meow: JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return d
    }
}
