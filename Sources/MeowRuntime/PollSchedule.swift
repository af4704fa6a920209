import Foundation

/// When to poll an instance next: the interval with jitter while it is healthy, exponential backoff
/// after failures (interval × 2^failures, capped at `backoffMax`), and a circuit breaker that stops
/// polling after `breakerFailures` consecutive failures for `breakerCooldown`, then lets one trial
/// poll through (half-open): success closes it, failure opens it again.
public struct PollSchedule: Sendable, Equatable {
    public enum Breaker: Sendable, Equatable, Codable {
        case closed
        case open(until: Date)
        case halfOpen

        public var name: String {
            switch self {
            case .closed: "closed"
            case .open: "open"
            case .halfOpen: "half-open"
            }
        }
    }

    public var interval: TimeInterval
    public var jitter: Double
    public var backoffMax: TimeInterval
    public var breakerFailures: Int
    public var breakerCooldown: TimeInterval

    public private(set) var consecutiveFailures = 0
    public private(set) var breaker: Breaker = .closed

    public init(
        interval: TimeInterval, jitter: Double, backoffMax: TimeInterval, breakerFailures: Int, breakerCooldown: TimeInterval
    ) {
        self.interval = interval
        self.jitter = jitter
        self.backoffMax = backoffMax
        self.breakerFailures = max(1, breakerFailures)
        self.breakerCooldown = breakerCooldown
    }

    /// Records a successful poll: failures reset, the breaker closes.
    public mutating func succeeded() {
        consecutiveFailures = 0
        breaker = .closed
    }

    /// Records a failed poll at `now`; the breaker opens after `breakerFailures` in a row, or at once when
    /// a half-open trial fails.
    public mutating func failed(at now: Date) {
        consecutiveFailures += 1
        if breaker == .halfOpen || consecutiveFailures >= breakerFailures {
            breaker = .open(until: now.addingTimeInterval(breakerCooldown))
        }
    }

    /// The un-jittered wait before the next poll.
    public var baseDelay: TimeInterval {
        if case .open = breaker { return breakerCooldown }
        guard consecutiveFailures > 0 else { return interval }
        let exponent = Double(min(consecutiveFailures, 30))
        return min(backoffMax, max(interval, interval * pow(2, exponent)))
    }

    /// The wait before the next poll, with `random` in [0, 1) spreading it by ±jitter.
    public func delay(random: Double) -> TimeInterval {
        let base = baseDelay
        return max(0.01, base * (1 + jitter * (2 * random - 1)))
    }

    /// Whether a poll may run at `now`; moves an expired open breaker to half-open.
    public mutating func mayPoll(at now: Date) -> Bool {
        switch breaker {
        case .closed, .halfOpen:
            return true
        case .open(let until):
            guard now >= until else { return false }
            breaker = .halfOpen
            return true
        }
    }
}
