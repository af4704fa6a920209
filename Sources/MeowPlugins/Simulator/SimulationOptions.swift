import Foundation

/// Options of a time-stepped fleet (`FleetSimulator`, `meow fleet --history`).
///
///     var o = SimulationOptions()
///     o.fleet.apps = 300
///     o.history = 86400      // one day of series before `fleet.at`
///     o.faults = 3
///     let sim = FleetSimulator(options: o)
public struct SimulationOptions: Sendable {
    /// The static fleet (apps, environments, clusters, workloads, DAGs, seed, and the time `at`).
    public var fleet = FleetOptions()
    /// History generated before `fleet.at` (86400 for `--history 1d`).
    public var history: TimeInterval = 0
    /// Simulation step: the spacing of regular series.
    public var step: TimeInterval = 300
    /// How many faults to inject.
    public var faults: Int = 0
    /// Faults start within `[at, at + faultWindow)`, or, with `faultsInHistory`, within the last
    /// `faultWindow` of the history.
    public var faultWindow: TimeInterval = 86400
    /// Values per series included in a snapshot (the most recent ones). Also the ring size kept in memory.
    public var seriesWindow: Int = 60
    /// Place faults inside the history, starting within `[at - faultWindow, at)` (clamped to the history),
    /// so that a snapshot taken at `at` already shows them. This is what `meow fleet --faults` uses.
    public var faultsInHistory = false
    /// Force the kinds of the injected faults, in order, cycling (tests, demos). Empty: drawn at random.
    public var faultKinds: [FaultKind] = []
    public init() {}
}
