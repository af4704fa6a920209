import Dispatch

/// Where the doubles' servers run: threads of their own rather than Swift's cooperative pool. In a test
/// process the pool's threads (one per core) can all be busy with long synchronous tests, and a double
/// that answers only when one frees up looks like a dead server to the meow under test (seen on a
/// 2-core CI machine: "no answer within 10s").
final class DoubleExecutor: TaskExecutor, @unchecked Sendable {
    static let shared = DoubleExecutor()
    private let queue = DispatchQueue(label: "meow-doubles", qos: .userInitiated, attributes: .concurrent)

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        queue.async { unowned.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
