import ArgumentParser
import Foundation
import MeowDoubles

/// Test doubles of services that cannot run on a developer machine, for trying meow by hand:
///
///     meow-doubles argocd --port 18080 --environment prod &
///     ARGOCD_TOKEN=test-token meow run --config examples/meow.yaml --once
@main
struct MeowDoubles: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meow-doubles",
        abstract: "Faithful test doubles of external APIs (Argo CD), on 127.0.0.1.",
        subcommands: [ArgoCD.self])
}

struct ArgoCD: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "argocd", abstract: "Serve Argo CD's REST API (/api/v1) from a fixture or a generated sample.")

    @Option(help: "Port on 127.0.0.1 (0: any free port, printed).")
    var port: Int = 18080

    @Option(help: "Environment of the generated sample (application names end with it).")
    var environment: String = "prod"

    @Option(help: "Applications in the generated sample.")
    var apps: Int = 8

    @Option(help: "Serve this fixture JSON instead ({\"applications\": [...], \"clusters\": [...], \"revisions\": {...}}).")
    var fixture: String?

    @Option(help: "Accepted bearer token (repeat for several).")
    var token: [String] = ["test-token"]

    @Flag(help: "Ignore offset/limit, as Argo CD servers without pagination do.")
    var noPagination = false

    @Option(help: "Write the generated sample fixture to this file and exit.")
    var writeFixture: String?

    func run() async throws {
        let data = try fixture.map { try ArgoCDDouble.Fixture.load(path: $0) } ?? .sample(environment: environment, apps: apps)
        if let writeFixture {
            FileManager.default.createFile(atPath: writeFixture, contents: Data(data.json.jsonString(pretty: true).utf8))
            return
        }
        let double = ArgoCDDouble(fixture: data, tokens: Set(token))
        await double.setPagination(!noPagination)
        let bound = try await double.start(port: port)
        let line =
            "argocd double on http://127.0.0.1:\(bound) (\(data.applications.count) applications, token \(token.joined(separator: ", "))); Ctrl-C stops\n"
        FileHandle.standardOutput.write(Data(line.utf8))
        let (stream, cont) = AsyncStream.makeStream(of: Void.self)
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let sources = [SIGINT, SIGTERM].map { sig -> DispatchSourceSignal in
            let s = DispatchSource.makeSignalSource(signal: sig)
            s.setEventHandler { cont.finish() }
            s.resume()
            return s
        }
        for await _ in stream {}
        _ = sources
        await double.stop()
    }
}
