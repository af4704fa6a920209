import Foundation
import MeowModel

/// A time-stepped fleet: the static fleet of `FleetGenerator` plus evolving signals (workload cpu, memory
/// and restarts, DAG runs and their durations, S3/DB latency per environment), deployments with their Git
/// changes, and labelled faults that alter those signals between a start and an end.
///
///     var o = SimulationOptions()
///     o.fleet.apps = 300; o.history = 86400; o.faults = 3
///     let sim = FleetSimulator(options: o)   // history generated, now == o.fleet.at
///     sim.advance(by: 3600)                   // twelve 5-minute steps
///     let snapshot = sim.snapshot()           // state at sim.now
///     let truth = sim.faults                  // never in the snapshot
///
/// Every signal is a pure function of the seed, the entity and the time (`SignalNoise`), faults are planned
/// before any step, and entities are built only in `snapshot()`: same options ⇒ same snapshots, byte for byte.
public final class FleetSimulator {
    public let options: SimulationOptions
    /// The current time: `fleet.at` after init, then moved by `advance(by:)`.
    public private(set) var now: Date
    /// Ground truth of the injected faults, in start order. Never visible in snapshots.
    public internal(set) var faults: [InjectedFault] = []

    // The static fleet and what the simulation needs of it, as compact arrays.
    let base: Snapshot
    var workloads: [WorkloadInfo] = []
    var signals: [WorkloadSignal] = []  // parallel to `workloads`: plain numbers, no references to count
    var apps: [AppState] = []
    var dags: [DAGState] = []
    let environments: [String]
    var clusters: [String] = []  // cluster ids, environment-major
    let seed: UInt64
    let step: Double
    let origin: Double  // time of the first history step (Unix seconds)
    var stepsTaken = 0  // steps after `fleet.at`
    var ring: SeriesRing
    var lastStepTime: Double
    private var carry: Double = 0

    // Fault effects, planned in init.
    var seriesEffects: [SeriesEffect] = []
    var dagEffects: [Int: [DAGEffect]] = [:]
    var appEffects: [Int: [AppEffect]] = [:]
    /// What executed actions changed (FleetSimulator+Actions.swift).
    var effects = SimulatedActionEffects()

    static let workloadMetrics = 3  // cpu, memory, restarts
    static let dependencyMetrics = 4  // s3_latency, s3 error_rate, db_latency, db error_rate

    public init(options: SimulationOptions) {
        self.options = options
        step = max(1, options.step)
        seed = options.fleet.seed
        environments = options.fleet.environments
        base = FleetGenerator(options: options.fleet).generate()
        let at = options.fleet.at.timeIntervalSince1970
        let historySteps = Int((max(0, options.history) / step).rounded(.down))
        origin = at - Double(historySteps) * step
        now = options.fleet.at
        lastStepTime = origin - step
        ring = SeriesRing(seriesCount: 0, capacity: 1)
        indexFleet()
        ring = SeriesRing(
            seriesCount: workloads.count * Self.workloadMetrics + environments.count * Self.dependencyMetrics,
            capacity: max(1, options.seriesWindow))
        planFaults()
        for k in 0...historySteps { computeStep(at: origin + Double(k) * step) }
    }

    /// Moves time forward in `step` increments (a remainder carries over to the next call), computing one
    /// value per regular series per step. Each step increases the snapshot revision by one.
    public func advance(by interval: TimeInterval) {
        let total = interval + carry
        let n = Int((total / step).rounded(.down))
        carry = total - Double(n) * step
        guard n > 0 else { return }
        for _ in 0..<n {
            computeStep(at: lastStepTime + step)
            stepsTaken += 1
        }
        now = Date(timeIntervalSince1970: lastStepTime)
    }

    /// How many entities `snapshot()` returns now.
    public var entityCount: Int { snapshot().entities.count }

    /// The key of a series for `SignalNoise` and the ring.
    @inline(__always) func workloadSeries(_ w: Int, _ metric: Int) -> Int { w * Self.workloadMetrics + metric }
    @inline(__always) func dependencySeries(_ env: Int, _ metric: Int) -> Int {
        workloads.count * Self.workloadMetrics + env * Self.dependencyMetrics + metric
    }

    private func computeStep(at t: Double) {
        lastStepTime = t
        let ti = Int64(t)
        let day = 2 * Double.pi * (t.truncatingRemainder(dividingBy: 86400)) / 86400
        let sinT = sin(day), cosT = cos(day)
        let days = (t - options.fleet.at.timeIntervalSince1970) / 86400
        let seed = seed
        let workloadSeriesCount = workloads.count * Self.workloadMetrics
        let environmentCount = environments.count
        signals.withUnsafeBufferPointer { signals in
            ring.step { slot, capacity, out in
                for w in 0..<signals.count {
                    let s = signals[w]
                    // Daily seasonality with a per-workload phase: sin(day + phase) = sin·cos + cos·sin.
                    let season = sinT * s.cosPhase + cosT * s.sinPhase
                    let trend = max(0.2, 1 + s.trendPerDay * days)
                    let cpu =
                        s.cpu * (1 + s.amplitude * season) * trend * (1 + 0.08 * SignalNoise.symmetric(seed, UInt64(w * 3), ti))
                    let mem =
                        s.memory * (1 + 0.1 * s.amplitude * season)
                        * (1 + 0.02 * SignalNoise.symmetric(seed, UInt64(w * 3 + 1), ti))
                    let base = w * Self.workloadMetrics * capacity + slot
                    out[base] = Float(max(0.001, cpu))
                    out[base + capacity] = Float(mem)
                    out[base + 2 * capacity] = Float(s.restarts)
                }
                let busy = 1 + 0.3 * sinT
                for e in 0..<environmentCount {
                    let k = UInt64(workloadSeriesCount + e * Self.dependencyMetrics)
                    let base = (workloadSeriesCount + e * Self.dependencyMetrics) * capacity + slot
                    out[base] = Float(0.045 * busy * (1 + 0.15 * SignalNoise.symmetric(seed, k, ti)))
                    out[base + capacity] = Float(0.001 * (1 + 0.5 * SignalNoise.symmetric(seed, k + 1, ti)))
                    out[base + 2 * capacity] = Float(0.008 * busy * (1 + 0.15 * SignalNoise.symmetric(seed, k + 2, ti)))
                    out[base + 3 * capacity] = Float(0.0005 * (1 + 0.5 * SignalNoise.symmetric(seed, k + 3, ti)))
                }
                for e in seriesEffects where t >= e.start && (t < e.end || e.cumulative) {
                    out[e.series * capacity + slot] = e.apply(out[e.series * capacity + slot], at: t)
                }
            }
        }
    }
}
