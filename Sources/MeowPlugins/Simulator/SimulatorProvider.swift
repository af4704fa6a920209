import Foundation
import MeowModel

/// The fleet simulator as a provider instance (plugins/simulator/plugin.yaml).
///
/// The fleet starts at the wall-clock time of the first observation, with `history` of series behind it,
/// and moves `speed` simulated seconds per wall-clock second: each `observe()` advances it to now.
/// Environments come from meow.yaml when it declares them.
public actor SimulatorProvider: Provider {
    public nonisolated let name: String
    public nonisolated let manifest: PluginManifest
    let options: SimulationOptions
    let speed: Double
    var simulator: FleetSimulator?
    var started: Date?

    public init(manifest: PluginManifest, context: ProviderContext) throws {
        name = context.name
        self.manifest = manifest
        var o = SimulationOptions()
        o.fleet.apps = context.int("apps") ?? 40
        o.fleet.seed = UInt64(context.int("seed") ?? 1)
        if !context.environments.isEmpty { o.fleet.environments = context.environments }
        o.faults = context.int("faults") ?? 0
        o.faultWindow = context.double("fault_window") ?? 3600
        o.history = context.double("history") ?? 6 * 3600
        o.step = context.double("step") ?? 60
        options = o
        speed = context.double("speed") ?? 1
    }

    public func observe() async throws -> Observation {
        let now = Date()
        if simulator == nil {
            var o = options
            let t = (now.timeIntervalSince1970 / o.step).rounded(.down) * o.step
            o.fleet.at = Date(timeIntervalSince1970: t)
            simulator = FleetSimulator(options: o)
            started = now
        } else if let sim = simulator, let started {
            let elapsed = now.timeIntervalSince(started) * speed
            let simulated = sim.now.timeIntervalSince(sim.options.fleet.at)
            if elapsed > simulated { sim.advance(by: elapsed - simulated) }
        }
        return Observation(entities: simulator!.snapshot().entities)
    }

    public func perform(_ request: ActionRequest) async throws -> ActionOutcome {
        throw ProviderError(.invalid, "the simulator has no actions yet (they come with the action pipeline)")
    }
}
