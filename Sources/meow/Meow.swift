import ArgumentParser
import Foundation

/// `meow`: policy and anomaly rules for Argo CD and Airflow fleets. Commands are thin: parse, call the
/// libraries, render.
///
/// Exit codes (every command): 0 clean, 1 findings (violations, rule errors, failed tests), 2 bad input or
/// usage.
@main
struct Meow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meow",
        abstract: "Evaluate sandboxed Lua rules against the state of Argo CD and Airflow fleets.",
        discussion: """
            Exit codes: 0 clean, 1 findings (violations, rule errors or failed tests), 2 bad input or usage.
            Every command that prints results takes --output text|json.

            Start with:  meow fleet --apps 300 > fleet.json
                         meow simulate --rules rules --state fleet.json
            """,
        version: "0.1.0",
        subcommands: [
            CheckCommand.self, SimulateCommand.self, TestCommand.self, FleetCommand.self, DemoCommand.self,
            DetectCommand.self, BenchCommand.self, RunCommand.self, ConfigCommand.self, PluginsCommand.self, ActionsCommand.self,
            LuaCommand.self, ServeCommand.self, IncidentsCommand.self,
        ]
    )

    static func main() async {
        do {
            var command = try parseAsRoot()
            if var async = command as? AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            if let e = error as? ExitCode { Foundation.exit(e.rawValue) }
            let message = fullMessage(for: error)
            if !message.isEmpty { Console.error(message) }
            // Usage problems and bad input share exit code 2 (ArgumentParser's default would be 64).
            Foundation.exit(2)
        }
    }
}

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks that print numbers (make bench runs them in a release build).",
        subcommands: [BenchEvalCommand.self, BenchAnomalyCommand.self, BenchFleetCommand.self, BenchAPICommand.self]
    )
}
