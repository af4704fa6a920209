import ArgumentParser
import Foundation
import MeowModel
import MeowPlugins

struct FleetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet",
        abstract: "Write a deterministic generated fleet snapshot that `meow simulate` reads.",
        discussion: """
            Applications are spread over the environments and their clusters, each with workloads; Airflow DAGs
            too. A few percent carry realistic policy problems. The same options give the same bytes.

              meow fleet --apps 10000 --seed 7 > fleet.json
            """
    )

    @Option(help: "Number of Argo CD applications.") var apps: Int = 100
    @Option(help: "Workloads per application.") var workloadsPerApp: Int = 5
    @Option(help: "Clusters per environment.") var clusters: Int = 2
    @Option(help: "Comma-separated environments, in promotion order.") var envs: String = "dev,staging,prod"
    @Option(help: "Airflow DAGs (default: one per five apps).") var dags: Int?
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Option(help: "Snapshot time (RFC 3339).") var at: String = "2026-01-01T00:00:00Z"
    @Option(help: "Output format: json (the snapshot) is the only format.") var output: String = "json"
    @Flag(help: "Indent the JSON.") var pretty = false
    @Option(name: .shortAndLong, help: "Write to this file instead of standard output.") var file: String?

    func validate() throws {
        guard apps >= 0, apps <= 1_000_000 else { throw ValidationError("--apps must be between 0 and 1000000") }
        guard workloadsPerApp >= 0, workloadsPerApp <= 100 else { throw ValidationError("--workloads-per-app must be between 0 and 100") }
        guard clusters >= 1, clusters <= 100 else { throw ValidationError("--clusters must be between 1 and 100") }
        guard output == "json" else { throw ValidationError("--output: only json is supported for a snapshot") }
        guard Timestamp.parse(at) != nil else { throw ValidationError("--at \(at): expected an RFC 3339 time like 2026-01-01T00:00:00Z") }
        guard !envs.split(separator: ",").isEmpty else { throw ValidationError("--envs needs at least one environment") }
    }

    func run() throws {
        var options = FleetOptions()
        options.apps = apps
        options.workloadsPerApp = workloadsPerApp
        options.clustersPerEnvironment = clusters
        options.environments = envs.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        options.dags = dags
        options.seed = seed
        options.at = Timestamp.parse(at)!
        var data = try FleetGenerator(options: options).generate().jsonData(pretty: pretty)
        data.append(UInt8(ascii: "\n"))
        if let file {
            guard FileManager.default.createFile(atPath: file, contents: data) else { throw InputError("cannot write \(file)") }
        } else {
            FileHandle.standardOutput.write(data)
        }
    }
}
