import Foundation
import MeowModel
import MeowPlugins
import Testing

@Suite struct SnapshotTests {
    func fleet(apps: Int, seed: UInt64) -> Snapshot {
        var o = FleetOptions()
        o.apps = apps
        o.seed = seed
        return FleetGenerator(options: o).generate()
    }

    @Test func theSameSeedGivesTheSameBytes() throws {
        let a = try fleet(apps: 50, seed: 7).jsonData()
        let b = try fleet(apps: 50, seed: 7).jsonData()
        let c = try fleet(apps: 50, seed: 8).jsonData()
        #expect(a == b)
        #expect(a != c)
    }

    @Test func aFleetSpreadsAppsWorkloadsAndDags() {
        let s = fleet(apps: 30, seed: 1)
        let kinds = Dictionary(grouping: s.entities, by: \.kind).mapValues(\.count)
        #expect(kinds[.application] == 30)
        #expect(kinds[.workload] == 150)
        #expect(kinds[.dag] == 6)
        #expect(kinds[.environment] == 3)
        #expect(kinds[.cluster] == 6)
        let envs = Set(s.entities.compactMap { if case .application(let a) = $0 { a.environment } else { nil } })
        #expect(envs == ["dev", "staging", "prod"])
    }

    @Test func snapshotsRoundTripThroughJSON() throws {
        let s = fleet(apps: 20, seed: 3)
        let back = try Snapshot.load(from: try s.jsonData(), file: "x.json")
        #expect(back.entities == s.entities)
        #expect(back.observedAt == s.observedAt)
    }

    @Test func theFastWriterAgreesWithJSONEncoder() throws {
        var o = SimulationOptions()
        o.fleet.apps = 12
        o.history = 7200
        o.faults = 2
        o.faultsInHistory = true
        let s = FleetSimulator(options: o).snapshot()
        let fast = s.fastJSON()
        let reference = try s.encoderJSON()
        let a = try JSONSerialization.jsonObject(with: fast) as? NSDictionary
        let b = try JSONSerialization.jsonObject(with: reference) as? NSDictionary
        #expect(a != nil && a == b)
        #expect(
            try Snapshot.load(from: fast, file: "fast.json").entities == Snapshot.load(from: reference, file: "ref.json").entities
        )
        #expect(String(decoding: s.fastJSON(), as: UTF8.self).contains(#""observed_at":"2026-01-01T00:00:00Z""#))
    }

    @Test func documentsMatchTheEncodedModel() throws {
        // The generated `document` conversion must agree with the Codable encoding of the same entity.
        for e in fleet(apps: 10, seed: 5).entities {
            guard case .object(var encoded) = try ValueEncoder().encode(e) else { Issue.record("not an object"); continue }
            for k in ["labels", "annotations"] where encoded[k] == nil { encoded[k] = .object([:]) }
            if encoded["stale"] == nil { encoded["stale"] = .bool(false) }
            #expect(e.document() == .object(encoded), "\(e.id)")
        }
    }

    @Test func loadErrorsNameTheFileAndField() throws {
        func error(_ json: String) -> String {
            do {
                _ = try Snapshot.load(from: Data(json.utf8), file: "snap.json")
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        #expect(error("{").hasPrefix("snap.json: "))
        #expect(
            error(
                #"{"schema_version": 1, "entities": [{"kind": "application", "id": "a", "sync_policy": {"automated": "yes"}}]}"#
            )
            .contains("entities[0].sync_policy.automated"))
        #expect(
            error(#"{"schema_version": 1, "entities": [{"kind": "pod", "id": "a"}]}"#).contains("unknown entity kind \"pod\""))
        #expect(
            error(#"{"schema_version": 1, "entities": [{"kind": "dag", "id": "a"}, {"kind": "dag", "id": "a"}]}"#).contains(
                "duplicate id"))
        #expect(error(#"{"schema_version": 2, "entities": []}"#).contains("unsupported schema_version 2"))
        #expect(error(#"{"schema_version": 1, "entities": [{"kind": "dag"}]}"#).contains("entities[0].id"))
        #expect(
            error(#"{"schema_version": 1, "entities": [{"kind": "application", "id": "a", "helth": "Healthy"}]}"#)
                .contains("entities[0].helth: unknown field 'helth'"))
        #expect(
            error(#"{"schema_version": 1, "entities": [{"kind": "workload", "id": "w", "replicas": {"desird": 2}}]}"#)
                .contains("entities[0].replicas.desird: unknown field"))
    }

    static func simulatedFleet() -> Snapshot {
        var o = SimulationOptions()
        o.fleet.apps = 30
        o.history = 6 * 3600
        o.faults = 9
        o.faultKinds = FaultKind.allCases
        o.faultsInHistory = true
        return FleetSimulator(options: o).snapshot()
    }

    @Test(arguments: ["static", "simulated"])
    func generatedFleetsValidateAgainstThePublishedSchema(kind: String) throws {
        // The JSON Schema in docs/ is generated from the same spec as the model; check a real fleet (static,
        // and simulated with series, runs, changes and events) with Python's jsonschema (installed by `make test`).
        var root = URL(fileURLWithPath: #filePath)
        while !FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path) {
            root.deleteLastPathComponent()
        }
        let snapshotFile = FileManager.default.temporaryDirectory.appendingPathComponent("meow-schema-\(UUID().uuidString).json")
        try (kind == "static" ? fleet(apps: 30, seed: 11) : Self.simulatedFleet()).jsonData().write(to: snapshotFile)
        defer { try? FileManager.default.removeItem(at: snapshotFile) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [
            "python3", "-c",
            """
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[1])); doc = json.load(open(sys.argv[2]))
            jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(doc)
            bad = dict(doc); bad["entities"] = [dict(doc["entities"][0], nonsense=1)]
            try:
                jsonschema.Draft202012Validator(schema).validate(bad); sys.exit(3)
            except jsonschema.ValidationError:
                pass
            """, root.appendingPathComponent("docs/schema/snapshot.schema.json").path, snapshotFile.path,
        ]
        let err = Pipe()
        p.standardError = err
        try p.run()
        p.waitUntilExit()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(p.terminationStatus == 0, "\(message)")
    }
}

@Suite struct ValueEncoderIntegerTests {
    struct Counters: Encodable {
        var small: UInt8 = 7
        var instructions: UInt64 = 12_345
        var huge: UInt64 = .max
        var list: [UInt32] = [1, 2]
    }

    @Test func everyIntegerTypeEncodes() throws {
        // UInt64 once recursed forever (it fell through to the generic path): `meow run --output json` crashed.
        let v = try ValueEncoder().encode(Counters())
        #expect(v["small"] == .int(7) && v["instructions"] == .int(12_345))
        #expect(v["huge"] == .double(Double(UInt64.max)))
        #expect(v["list"] == .array([.int(1), .int(2)]))
    }
}
