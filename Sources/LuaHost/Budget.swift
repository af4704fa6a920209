import LuaShim

/// Limits on one evaluation of Lua code (DESIGN.md §3). Exceeding any one ends that evaluation with an
/// error; the state and every other rule go on.
///
/// ```swift
/// var budget = Budget.default
/// budget.instructions = 1_000_000
/// ```
public struct Budget: Sendable, Hashable {
    /// Lua VM instructions (counted by a hook every 1,000 instructions).
    public var instructions: UInt64
    /// Bytes the evaluation may add to the Lua heap (capped allocator).
    public var memoryBytes: Int
    /// Wall-clock time, checked by the hook and by the pattern matcher.
    public var wallTimeSeconds: Double
    /// Steps of the pattern matcher (string.find/match/gmatch/gsub run in C, where the hook can't reach).
    public var patternSteps: UInt64
    /// Largest string `string.rep` may build.
    public var maxStringBytes: Int

    public init(instructions: UInt64, memoryBytes: Int, wallTimeSeconds: Double, patternSteps: UInt64, maxStringBytes: Int) {
        self.instructions = instructions
        self.memoryBytes = memoryBytes
        self.wallTimeSeconds = wallTimeSeconds
        self.patternSteps = patternSteps
        self.maxStringBytes = maxStringBytes
    }

    /// For one rule on one entity: generous for real rules, small enough that a runaway one costs little.
    public static let `default` = Budget(
        instructions: 10_000_000, memoryBytes: 64 << 20, wallTimeSeconds: 1.0, patternSteps: 20_000_000,
        maxStringBytes: 16 << 20)

    /// For running a file's top level (declaring rules, building tables).
    public static let load = Budget(
        instructions: 50_000_000, memoryBytes: 128 << 20, wallTimeSeconds: 5.0, patternSteps: 50_000_000,
        maxStringBytes: 16 << 20)

    var c: meow_budget {
        meow_budget(
            instructions: instructions, memory: memoryBytes, wall_ns: UInt64(max(0, wallTimeSeconds) * 1e9),
            pattern_steps: patternSteps, max_string: maxStringBytes)
    }
}

/// Which budget stopped an evaluation.
public enum BudgetTrip: String, Sendable, Hashable {
    case instructions, memory, time, pattern

    init?(_ code: Int32) {
        switch code {
        case Int32(MEOW_TRIP_INSTRUCTIONS): self = .instructions
        case Int32(MEOW_TRIP_MEMORY): self = .memory
        case Int32(MEOW_TRIP_TIME): self = .time
        case Int32(MEOW_TRIP_PATTERN): self = .pattern
        default: return nil
        }
    }
}

/// What an evaluation used.
public struct BudgetUsage: Sendable, Hashable {
    public var instructions: UInt64
    public var memoryPeakBytes: Int
    public var elapsedSeconds: Double
    public var patternSteps: UInt64
    public var trip: BudgetTrip?
}
