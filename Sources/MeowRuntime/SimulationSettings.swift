import Foundation
import MeowModel
import MeowPlugins

/// Checks the settings of a simulated fleet run (`meow simulate --fleet`, `meow demo`, `POST /v1/simulate`).
public enum SimulationSettings {
    public struct Problem: Error, Sendable, CustomStringConvertible {
        /// The setting: apps, duration, step, history, faults.
        public var field: String
        /// The message, naming the setting with the caller's prefix (`--duration`, `fleet.duration`).
        public var message: String
        public var description: String { message }
    }

    /// Options for `FleetSimulator`, the duration and the step; `prefix` goes before setting names in messages.
    public static func parse(
        apps: Int, seed: UInt64, faults: Int, duration: String, step: String, history: String, prefix: String = "",
        maxApps: Int = 100_000, maxSteps: Int = 100_000
    ) throws -> (SimulationOptions, duration: TimeInterval, step: TimeInterval) {
        func fail(_ field: String, _ message: String) -> Problem {
            Problem(field: field, message: "\(prefix)\(field) \(message)")
        }
        guard let d = Timestamp.parseDuration(duration), d > 0 else {
            throw fail("duration", "\(duration): expected a duration like 24h")
        }
        guard let s = Timestamp.parseDuration(step), s > 0 else { throw fail("step", "\(step): expected a duration like 10m") }
        guard let h = Timestamp.parseDuration(history) else { throw fail("history", "\(history): expected a duration like 6h") }
        guard d / s <= Double(maxSteps) else {
            throw fail("duration", "/ \(prefix)step is more than \(maxSteps) steps")
        }
        guard (1...maxApps).contains(apps) else { throw fail("apps", "must be between 1 and \(maxApps)") }
        guard faults >= 0 else { throw fail("faults", "must not be negative") }
        var options = SimulationOptions()
        options.fleet.apps = apps
        options.fleet.seed = seed
        options.history = h
        options.step = s
        options.faults = faults
        options.faultWindow = d
        return (options, d, s)
    }
}
