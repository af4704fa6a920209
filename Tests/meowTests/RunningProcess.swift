import Foundation
import MeowTesting

/// A `meow` process that keeps running (`meow run`): its output is read line by line as it comes.
final class RunningProcess: @unchecked Sendable {
    let process = Process()
    private var lines: [String] = []
    private var errText = ""
    private let lock = NSLock()
    private var partial = ""

    init(_ args: [String], env extra: [String: String]) throws {
        process.executableURL = CLI.binary
        process.arguments = args
        process.currentDirectoryURL = PackageRoot.url()
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        for (k, v) in extra { env[k] = v }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        out.fileHandleForReading.readabilityHandler = { [weak self] h in
            let data = h.availableData
            guard let self, !data.isEmpty else { return }
            self.lock.withLock {
                self.partial += String(decoding: data, as: UTF8.self)
                while let nl = self.partial.firstIndex(of: "\n") {
                    self.lines.append(String(self.partial[..<nl]))
                    self.partial = String(self.partial[self.partial.index(after: nl)...])
                }
            }
        }
        err.fileHandleForReading.readabilityHandler = { [weak self] h in
            let data = h.availableData
            guard let self, !data.isEmpty else { return }
            self.lock.withLock { self.errText += String(decoding: data, as: UTF8.self) }
        }
        try process.run()
    }

    /// The first line (from the start) that satisfies `match`, waiting up to `timeout` seconds.
    func waitForLine(timeout: Double, _ match: (String) -> Bool) async throws -> String {
        var found: String?
        if try await eventually(
            timeout,
            {
                found = lock.withLock { lines.first(where: match) }; return found != nil
            }), let found
        {
            return found
        }
        struct Timeout: Error, CustomStringConvertible {
            var description: String
        }
        throw Timeout(description: "no matching line within \(timeout)s; stdout: \(lock.withLock { lines }), stderr: \(stderr())")
    }

    func stderr() -> String { lock.withLock { errText } }

    func terminate() { process.terminate() }  // SIGTERM

    /// Waits for the exit status, killing the process after `timeout` seconds.
    func wait(timeout: Double) async throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return -1
        }
        return process.terminationStatus
    }
}

extension CLI {
    static func start(_ args: [String], env: [String: String] = [:]) throws -> RunningProcess {
        try RunningProcess(args, env: env)
    }
}
