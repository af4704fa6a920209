import Foundation
import MeowModel

/// The fleet simulator as a provider instance (plugins/simulator/plugin.yaml).
///
/// The fleet starts at the wall-clock time of the first observation, with `history` of series behind it,
/// and moves `speed` simulated seconds per wall-clock second: each `observe()` advances it to now.
/// Environments come from meow.yaml when it declares them.
///
/// Actions run on the simulated entities (`FleetSimulator.apply`). With `journal`, each executed action
/// is appended to that file and fsync'd before `perform` returns, and replayed when the provider starts
/// again: the simulated fleet keeps its changes across a restart of meow, as a real system would, and
/// `reconcile` answers from the journal.
public actor SimulatorProvider: Provider {
    public nonisolated let name: String
    public nonisolated let manifest: PluginManifest
    let options: SimulationOptions
    let speed: Double
    let journal: String?
    var simulator: FleetSimulator?
    var started: Date?

    /// One executed action, as the journal keeps it (a JSON line).
    public struct JournalEntry: Codable, Sendable, Equatable {
        public var key: String?
        public var action: String
        public var subject: String
        public var params: [String: Value]
        public var at: Date
        public var message: String
    }

    public init(manifest: PluginManifest, context: ProviderContext) throws {
        name = context.name
        self.manifest = manifest
        var o = SimulationOptions()
        o.fleet.apps = context.int("apps") ?? 40
        o.fleet.seed = UInt64(context.int("seed") ?? 1)
        if !context.environments.isEmpty { o.fleet.environments = context.environments }
        o.faults = context.int("faults") ?? 0
        o.faultWindow = context.double("fault_window") ?? 3600
        o.faultKinds = context.strings("fault_kinds").compactMap(FaultKind.init)
        o.history = context.double("history") ?? 6 * 3600
        o.step = context.double("step") ?? 60
        options = o
        speed = context.double("speed") ?? 1
        journal = context.string("journal")
    }

    /// A provider over an existing simulation (`meow demo` hands it its fleet after the simulated day).
    public init(name: String, manifest: PluginManifest, simulator: FleetSimulator) {
        self.name = name
        self.manifest = manifest
        options = simulator.options
        speed = 0
        journal = nil
        self.simulator = simulator
    }

    public func observe() async throws -> Observation {
        let now = Date()
        if simulator == nil {
            var o = options
            let t = (now.timeIntervalSince1970 / o.step).rounded(.down) * o.step
            o.fleet.at = Date(timeIntervalSince1970: t)
            let sim = FleetSimulator(options: o)
            simulator = sim
            started = now
            var warnings: [String] = []
            for entry in try readJournal() {
                do {
                    try sim.apply(entry.action, subject: entry.subject, params: entry.params)
                } catch {
                    warnings.append("journal: \(entry.action) on \(entry.subject) could not be replayed: \(error)")
                }
            }
            return Observation(entities: sim.snapshot().entities, warnings: warnings)
        } else if let sim = simulator, let started, speed > 0 {
            let elapsed = now.timeIntervalSince(started) * speed
            let simulated = sim.now.timeIntervalSince(sim.options.fleet.at)
            if elapsed > simulated { sim.advance(by: elapsed - simulated) }
        }
        return Observation(entities: simulator!.snapshot().entities)
    }

    /// Moves the simulation forward (the demo steps it by hand).
    public func advance(by interval: TimeInterval) {
        simulator?.advance(by: interval)
    }

    /// The simulation's snapshot now (with its revision) and its time: the demo drives it by hand.
    public func currentSnapshot() -> (snapshot: Snapshot, now: Date)? {
        simulator.map { ($0.snapshot(), $0.now) }
    }

    public func perform(_ request: ActionRequest) async throws -> ActionOutcome {
        guard let action = manifest.action(request.action) else {
            throw ProviderError(
                .invalid,
                "the simulator has no action \(request.action) (it has \(manifest.actions.map(\.name).joined(separator: ", ")))")
        }
        let params = try ActionParams.validate(request.params, against: action.params, action: action.name)
        if simulator == nil { _ = try await observe() }
        guard let sim = simulator else { throw ProviderError(.unavailable, "the simulation did not start") }
        let message = try sim.apply(request.action, subject: request.subject, params: params)
        try appendJournal(
            JournalEntry(
                key: request.key, action: request.action, subject: request.subject, params: params, at: Date(),
                message: message))
        return ActionOutcome(ok: true, message: message, details: .object(["simulated_time": .string(Timestamp.format(sim.now))]))
    }

    public func reconcile(_ request: ActionRequest) async -> ReconcileVerdict {
        guard journal != nil else {
            return .unknown("the simulator keeps no journal (set journal: in meow.yaml), so it cannot tell")
        }
        guard let key = request.key else { return .unknown("no idempotency key to look up") }
        do {
            if let e = try readJournal().first(where: { $0.key == key }) {
                return .done("the journal records it at \(Timestamp.format(e.at)): \(e.message)")
            }
            return .notDone("the journal has no entry for this action")
        } catch {
            return .unknown("cannot read the journal: \(error)")
        }
    }

    /// The executed actions in the journal, oldest first.
    public func readJournal() throws -> [JournalEntry] {
        guard let journal, FileManager.default.fileExists(atPath: journal) else { return [] }
        guard let data = FileManager.default.contents(atPath: journal) else {
            throw ProviderError(.unavailable, "cannot read the journal \(journal)")
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        // A line cut by a crash mid-write is ignored (it was never acknowledged).
        return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap {
            try? decoder.decode(JournalEntry.self, from: Data($0.utf8))
        }
    }

    func appendJournal(_ entry: JournalEntry) throws {
        guard let journal else { return }
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var line = try encoder.encode(entry)
        line.append(0x0A)
        let fd = open(journal, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        guard fd >= 0 else { throw ProviderError(.unavailable, "cannot open the journal \(journal): errno \(errno)") }
        defer { close(fd) }
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == line.count, fsync(fd) == 0 else {
            throw ProviderError(.unavailable, "cannot write the journal \(journal): errno \(errno)")
        }
    }
}
