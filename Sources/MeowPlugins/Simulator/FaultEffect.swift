/// How a fault alters one regular series between `start` and `end` (Unix seconds).
struct SeriesEffect {
    enum Change {
        /// value × factor (traffic spike, noisy neighbour, latency, image pull error on cpu).
        case scale(Float)
        /// Memory leak: value × (1 + rate × hours since start), reset every `cycleHours` by an OOM kill.
        case leak(ratePerHour: Double, cycleHours: Double)
        /// Counter: + one restart per OOM kill of the leak.
        case oomRestarts(cycleHours: Double)
        /// Counter: + `perHour` restarts per hour (crash loop).
        case crashLoop(perHour: Double)
    }

    var series: Int
    var start: Double
    var end: Double
    var change: Change

    /// Counters keep what the fault added after it ends (restarts never go down).
    var cumulative: Bool {
        switch change {
        case .oomRestarts, .crashLoop: return true
        case .scale, .leak: return false
        }
    }

    func apply(_ v: Float, at t: Double) -> Float {
        let hours = (min(t, end) - start) / 3600
        switch change {
        case .scale(let f): return v * f
        case .leak(let rate, let cycle): return Float(Double(v) * (1 + rate * hours.truncatingRemainder(dividingBy: cycle)))
        case .oomRestarts(let cycle): return v + Float((hours / cycle).rounded(.down))
        case .crashLoop(let perHour): return v + Float((hours * perHour).rounded(.down))
        }
    }
}

/// How a fault alters the runs of one DAG that are scheduled in `[start, end)`.
struct DAGEffect {
    var start: Double
    var end: Double
    var durationFactor: Double = 1
    var queueWaitAdd: Double = 0
    /// Runs scheduled at or after this time (and before `end`) fail.
    var failFrom: Double? = nil
}

/// How a fault alters an application (and its main workload) between `start` and `end`.
struct AppEffect {
    var kind: FaultKind
    var start: Double
    var end: Double
    var revision: String
    var workload: Int?
    var message: String
}
