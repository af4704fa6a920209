import Foundation

/// Waits until `condition` holds, checking every `every` seconds, for at most `limit` seconds; the last
/// check's answer. Tests wait for outcomes rather than for fixed times, so a loaded machine makes them
/// slower, not flaky.
public func eventually(
    _ limit: TimeInterval = 60, every: TimeInterval = 0.05, _ condition: () async throws -> Bool
) async throws -> Bool {
    let deadline = Date().addingTimeInterval(limit)
    while Date() < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(Int(every * 1000)))
    }
    return try await condition()
}
