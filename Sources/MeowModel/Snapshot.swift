import Foundation

/// A versioned, immutable set of entities: what providers observed at one time.
///
/// JSON format: docs/state-model.md, schema docs/schema/snapshot.schema.json.
public struct Snapshot: Codable, Sendable {
    public static let currentSchemaVersion = 1

    public var schemaVersion: Int
    /// Monotonic version of the state this snapshot captures.
    public var revision: Int
    /// When it was taken; rules are evaluated at this time unless told otherwise.
    public var observedAt: Date?
    public var entities: [Entity]

    public init(revision: Int = 0, observedAt: Date? = nil, entities: [Entity]) {
        self.schemaVersion = Snapshot.currentSchemaVersion
        self.revision = revision
        self.observedAt = observedAt
        self.entities = entities
    }

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version"
        case revision
        case observedAt = "observed_at"
        case entities
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        schemaVersion = try c.decode(Int.self, forKey: .schemaVersion)
        guard schemaVersion == Snapshot.currentSchemaVersion else {
            throw DecodingError.dataCorruptedError(
                forKey: .schemaVersion, in: c,
                debugDescription: "unsupported schema_version \(schemaVersion) (this meow reads \(Snapshot.currentSchemaVersion))"
            )
        }
        revision = try c.decodeIfPresent(Int.self, forKey: .revision) ?? 0
        observedAt = try c.decodeIfPresent(Date.self, forKey: .observedAt)
        entities = try c.decode([Entity].self, forKey: .entities)
    }
}

/// A snapshot file that could not be read, with the JSON path of the problem.
public struct SnapshotError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var message: String
    public var description: String { "\(file): \(message)" }
}

extension Snapshot {
    /// Reads a snapshot from JSON, naming the file and the field path of any error.
    public static func load(from data: Data, file: String) throws -> Snapshot {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { d in
            let c = try d.singleValueContainer()
            let s = try c.decode(String.self)
            guard let date = Timestamp.parse(s) else {
                throw DecodingError.dataCorruptedError(
                    in: c, debugDescription: "expected an RFC 3339 time (2026-01-01T00:00:00Z), got \"\(s)\"")
            }
            return date
        }
        do {
            var snapshot = try decoder.decode(Snapshot.self, from: data)
            var seen = Set<String>()
            for (i, e) in snapshot.entities.enumerated() where !seen.insert(e.id).inserted {
                throw SnapshotError(file: file, message: "entities[\(i)].id: duplicate id \"\(e.id)\"")
            }
            snapshot.schemaVersion = currentSchemaVersion
            return snapshot
        } catch let error as SnapshotError {
            throw error
        } catch let error as DecodingError {
            throw SnapshotError(file: file, message: ValueDecodingError.from(error).description)
        } catch {
            throw SnapshotError(file: file, message: "not valid JSON: \(error.localizedDescription)")
        }
    }

    public static func load(path: String) throws -> Snapshot {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SnapshotError(file: path, message: "cannot read the file (does it exist?)")
        }
        return try load(from: data, file: path)
    }

    /// Deterministic JSON: sorted keys, RFC 3339 times. Compact output goes through the fast `JSONWriter`.
    public func jsonData(pretty: Bool = false) throws -> Data {
        if !pretty { return fastJSON() }
        return try encoderJSON(pretty: true)
    }

    /// The same document through Foundation's JSONEncoder (pretty output; the reference in tests).
    public func encoderJSON(pretty: Bool = false) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting =
            pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, e in
            var c = e.singleValueContainer()
            try c.encode(Timestamp.format(date))
        }
        return try encoder.encode(self)
    }
}
