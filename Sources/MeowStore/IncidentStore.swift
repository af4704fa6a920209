import Foundation
import GRDB
import MeowModel

/// An incident meow opened (docs/incidents.md): one per cause (its `key`) while it is open. The actions
/// that deliver it to each output are in `actions`, keyed by the incident's id, so that a restart neither
/// pages twice nor forgets to resolve.
public struct IncidentRecord: Sendable, Equatable, Codable {
    public enum State: String, Sendable, Codable, CaseIterable {
        case open, resolved
    }

    public var id: Int64
    public var key: String
    public var state: State
    public var route: String
    public var outputs: [String]
    public var severity: String
    public var rule: String
    public var subject: String
    public var title: String
    public var openedAt: Date
    public var updatedAt: Date
    /// The last evaluation in which the cause was present.
    public var lastSeenAt: Date
    public var resolvedAt: Date?
    /// Bumped when the incident is updated (severity up): the update is delivered again.
    public var revision: Int
    /// The incident as it was last sent (`IncidentNotice`'s value).
    public var notice: Value

    public init(
        id: Int64 = 0, key: String, state: State = .open, route: String, outputs: [String], severity: String, rule: String,
        subject: String, title: String, openedAt: Date, notice: Value
    ) {
        self.id = id
        self.key = key
        self.state = state
        self.route = route
        self.outputs = outputs
        self.severity = severity
        self.rule = rule
        self.subject = subject
        self.title = title
        self.openedAt = openedAt
        self.updatedAt = openedAt
        self.lastSeenAt = openedAt
        self.revision = 0
        self.notice = notice
    }
}

extension IncidentRecord {
    /// The incident as `meow incidents list --output json` and `GET /v1/incidents` show it.
    public var summary: Value {
        var o: [String: Value] = [
            "id": .int(id), "name": .string("INC-\(id)"), "key": .string(key), "state": .string(state.rawValue),
            "route": .string(route), "outputs": .array(outputs.map(Value.string)), "severity": .string(severity),
            "rule": .string(rule), "subject": .string(subject), "title": .string(title),
            "opened_at": .string(Timestamp.format(openedAt)), "updated_at": .string(Timestamp.format(updatedAt)),
            "last_seen_at": .string(Timestamp.format(lastSeenAt)), "revision": .int(Int64(revision)),
        ]
        o["resolved_at"] = resolvedAt.map { .string(Timestamp.format($0)) } ?? .null
        return .object(o)
    }

    /// With the incident as it was sent (`notice`) and each delivery (an action of the pipeline).
    public func detail(deliveries: [ActionRecord]) -> Value {
        var o = summary.objectValue ?? [:]
        o["notice"] = notice
        o["deliveries"] = .array(
            deliveries.map {
                .object([
                    "action_id": .int($0.id), "action": .string($0.action), "output": .string($0.provider ?? ""),
                    "state": .string($0.state.rawValue), "reason": $0.stateReason.map(Value.string) ?? .null,
                    "result": $0.result ?? .null,
                ])
            })
        return .object(o)
    }
}

extension SQLiteStore {
    static func registerIncidents(_ m: inout DatabaseMigrator) {
        m.registerMigration("v2: incidents") { db in
            try db.execute(
                sql: """
                    CREATE TABLE incidents (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        key TEXT NOT NULL,
                        state TEXT NOT NULL,
                        route TEXT NOT NULL,
                        outputs TEXT NOT NULL,
                        severity TEXT NOT NULL,
                        rule TEXT NOT NULL,
                        subject TEXT NOT NULL,
                        title TEXT NOT NULL,
                        opened_at REAL NOT NULL,
                        updated_at REAL NOT NULL,
                        last_seen_at REAL NOT NULL,
                        resolved_at REAL,
                        revision INTEGER NOT NULL DEFAULT 0,
                        notice TEXT NOT NULL
                    );
                    CREATE UNIQUE INDEX incidents_open_key ON incidents(key) WHERE state = 'open';
                    CREATE INDEX incidents_state ON incidents(state, resolved_at);
                    """)
        }
    }

    public func openIncident(_ draft: IncidentRecord) async throws -> (record: IncidentRecord, created: Bool) {
        try await pool.write { db in
            if let row = try Row.fetchOne(
                db, sql: "SELECT * FROM incidents WHERE key = ? AND state = 'open'", arguments: [draft.key])
            {
                return (try Self.incident(row), false)
            }
            var r = draft
            try db.execute(
                sql: """
                    INSERT INTO incidents (key, state, route, outputs, severity, rule, subject, title, opened_at, updated_at,
                        last_seen_at, revision, notice)
                    VALUES (?, 'open', ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)
                    """,
                arguments: [
                    r.key, r.route, Value.array(r.outputs.map(Value.string)).jsonString(), r.severity, r.rule, r.subject, r.title,
                    r.openedAt.timeIntervalSince1970, r.openedAt.timeIntervalSince1970, r.openedAt.timeIntervalSince1970,
                    r.notice.jsonString(),
                ])
            r.id = db.lastInsertedRowID
            return (r, true)
        }
    }

    public func incidents(states: Set<IncidentRecord.State>?, resolvedSince: Date?, before: Int64?, limit: Int) async throws
        -> [IncidentRecord]
    {
        try await pool.read { db in
            var sql = "SELECT * FROM incidents WHERE 1"
            var args: [(any DatabaseValueConvertible)?] = []
            if let before {
                sql += " AND id < ?"
                args.append(before)
            }
            if let states {
                sql += " AND state IN (\(states.map { _ in "?" }.joined(separator: ",")))"
                args += states.map { $0.rawValue }
            }
            if let resolvedSince {
                sql += " AND (resolved_at IS NULL OR resolved_at >= ?)"
                args.append(resolvedSince.timeIntervalSince1970)
            }
            sql += " ORDER BY id DESC LIMIT ?"
            args.append(limit)
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).map(Self.incident)
        }
    }

    public func countIncidents(states: Set<IncidentRecord.State>?) async throws -> Int {
        try await pool.read { db in
            guard let states else { return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM incidents") ?? 0 }
            return try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM incidents WHERE state IN (\(states.map { _ in "?" }.joined(separator: ",")))",
                arguments: StatementArguments(states.map(\.rawValue))) ?? 0
        }
    }

    public func deliveries(ofIncident id: Int64) async throws -> [ActionRecord] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM actions WHERE key LIKE ? ORDER BY id", arguments: ["incident|INC-\(id)|%"]
            ).map(Self.record)
        }
    }

    public func incident(_ id: Int64) async throws -> IncidentRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM incidents WHERE id = ?", arguments: [id]).map(Self.incident)
        }
    }

    public func updateIncident(_ id: Int64, update: @escaping @Sendable (inout IncidentRecord) -> Void) async throws
        -> IncidentRecord?
    {
        try await pool.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM incidents WHERE id = ?", arguments: [id]) else { return nil }
            var r = try Self.incident(row)
            update(&r)
            try db.execute(
                sql: """
                    UPDATE incidents SET state = ?, severity = ?, title = ?, updated_at = ?, last_seen_at = ?, resolved_at = ?,
                        revision = ?, notice = ?, outputs = ? WHERE id = ?
                    """,
                arguments: [
                    r.state.rawValue, r.severity, r.title, r.updatedAt.timeIntervalSince1970, r.lastSeenAt.timeIntervalSince1970,
                    r.resolvedAt?.timeIntervalSince1970, r.revision, r.notice.jsonString(),
                    Value.array(r.outputs.map(Value.string)).jsonString(), id,
                ])
            return r
        }
    }

    public func action(key: String) async throws -> ActionRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM actions WHERE key = ?", arguments: [key]).map(Self.record)
        }
    }

    public func notifications(since: Date, provider: String, excluding: Int64?) async throws -> Int {
        try await pool.read { db in
            try Int.fetchOne(
                db,
                sql:
                    "SELECT COUNT(*) FROM actions WHERE executed_at >= ? AND provider = ? AND id != ? AND \(Self.notificationSQL)",
                arguments: [since.timeIntervalSince1970, provider, excluding ?? -1]) ?? 0
        }
    }

    /// Actions of the incident plugin tell people; they are not changes (the guardrails count them apart).
    static let notificationSQL = "action LIKE 'incident.%'"

    static func incident(_ row: Row) throws -> IncidentRecord {
        var r = IncidentRecord(
            id: row["id"], key: row["key"], state: IncidentRecord.State(rawValue: row["state"]) ?? .open, route: row["route"],
            outputs: json(row["outputs"])?.arrayValue?.compactMap(\.stringValue) ?? [], severity: row["severity"],
            rule: row["rule"], subject: row["subject"], title: row["title"],
            openedAt: Date(timeIntervalSince1970: row["opened_at"]), notice: json(row["notice"]) ?? .null)
        r.updatedAt = Date(timeIntervalSince1970: row["updated_at"])
        r.lastSeenAt = Date(timeIntervalSince1970: row["last_seen_at"])
        r.resolvedAt = date(row, "resolved_at")
        r.revision = row["revision"]
        return r
    }
}
