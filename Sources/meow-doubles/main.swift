import ArgumentParser
import Foundation
import MeowDoubles
import MeowModel

/// Test doubles of services that cannot run on a developer machine, for trying meow by hand:
///
///     meow-doubles argocd --port 18080 --environment prod &
///     ARGOCD_TOKEN=test-token meow run --config examples/meow.yaml --once
@main
struct MeowDoubles: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meow-doubles",
        abstract: "Faithful test doubles of external APIs (Argo CD, PagerDuty, Opsgenie, Slack), on 127.0.0.1.",
        subcommands: [ArgoCD.self, PagerDuty.self, Opsgenie.self, Slack.self, Webhook.self])
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
        await untilInterrupted()
        await double.stop()
    }
}

/// Returns on SIGINT or SIGTERM.
func untilInterrupted() async {
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
}

func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

struct PagerDuty: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pagerduty", abstract: "Serve PagerDuty's Events API v2 (POST /v2/enqueue) and GET /incidents.")

    @Option(help: "Port on 127.0.0.1 (0: any free port, printed).")
    var port: Int = 18081

    @Option(help: "Accepted routing key (repeat for several).")
    var routingKey: [String] = ["meow-routing-key"]

    @Option(help: "Accepted REST API token, sent as `Authorization: Token token=<token>` (repeat for several).")
    var apiToken: [String] = ["test-token"]

    func run() async throws {
        let double = PagerDutyDouble(routingKeys: Set(routingKey), apiTokens: Set(apiToken))
        let bound = try await double.start(port: port)
        say("pagerduty double on http://127.0.0.1:\(bound) (routing keys \(routingKey.joined(separator: ", "))); Ctrl-C stops")
        await untilInterrupted()
        await double.stop()
    }
}

struct Opsgenie: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "opsgenie", abstract: "Serve Opsgenie's Alert API (/v2/alerts).")

    @Option(help: "Port on 127.0.0.1 (0: any free port, printed).")
    var port: Int = 18082

    @Option(help: "Accepted API key, sent as `Authorization: GenieKey <key>` (repeat for several).")
    var apiKey: [String] = ["test-key"]

    func run() async throws {
        let double = OpsgenieDouble(apiKeys: Set(apiKey))
        let bound = try await double.start(port: port)
        say("opsgenie double on http://127.0.0.1:\(bound) (keys \(apiKey.joined(separator: ", "))); Ctrl-C stops")
        await untilInterrupted()
        await double.stop()
    }
}

struct Slack: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slack", abstract: "Serve one Slack incoming webhook.")

    @Option(help: "Port on 127.0.0.1 (0: any free port, printed).")
    var port: Int = 18083

    @Option(help: "The webhook's path.")
    var path: String = "/services/T000/B000/XXXX"

    func run() async throws {
        let double = SlackDouble(path: path)
        _ = try await double.start(port: port)
        say("slack webhook double at \(await double.url); Ctrl-C stops")
        await untilInterrupted()
        await double.stop()
    }
}

struct Webhook: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook", abstract: "Receive webhooks: answer 200 and print each POST as one JSON line.")

    @Option(help: "Port on 127.0.0.1 (0: any free port, printed).")
    var port: Int = 18080

    func run() async throws {
        let receiver = WebhookReceiver()
        let bound = try await receiver.start(port: port)
        say("webhook receiver on http://127.0.0.1:\(bound); Ctrl-C stops")
        let printer = Task {
            var printed = 0
            while !Task.isCancelled {
                let all = await receiver.deliveries
                for d in all.dropFirst(printed) {
                    let headers = Value.object(
                        Dictionary(d.headers.map { ($0.0, Value.string($0.1)) }, uniquingKeysWith: { a, _ in a }))
                    let body = d.json ?? .string(String(decoding: d.body, as: UTF8.self))
                    say(Value.object(["path": .string(d.path), "headers": headers, "body": body]).jsonString())
                }
                printed = all.count
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        await untilInterrupted()
        printer.cancel()
        await receiver.stop()
    }
}
