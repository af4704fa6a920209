import Foundation

/// Runs async work under a time limit. Shared by the observe loop, `meow config validate --connect` and
/// the action pipeline, so that "no answer in time" means the same everywhere.
public enum Deadline {
    /// The result of `body`, or `ProviderError(.timeout, message)` once `seconds` have passed (the body is
    /// cancelled then). Other errors from the body are passed on; a cancellation is a timeout.
    public static func run<T: Sendable>(
        seconds: TimeInterval, message: String, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        do {
            return try await withThrowingTaskGroup(of: T.self) { group in
                group.addTask { try await body() }
                group.addTask {
                    try await Task.sleep(for: .seconds(seconds))
                    throw ProviderError(.timeout, message)
                }
                defer { group.cancelAll() }
                return try await group.next()!
            }
        } catch is CancellationError {
            throw ProviderError(.timeout, message)
        }
    }
}
