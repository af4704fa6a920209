/// Statuses a double answers instead of serving, one request each, in the order they were queued
/// (`failNext(2, status: 429)` then `failNext(1, status: 502)`: 429, 429, 502, then normal service).
struct FailureQueue: Sendable {
    private var statuses: [Int] = []

    mutating func add(_ count: Int, status: Int) {
        statuses += Array(repeating: status, count: max(0, count))
    }

    mutating func next() -> Int? { statuses.isEmpty ? nil : statuses.removeFirst() }
}
