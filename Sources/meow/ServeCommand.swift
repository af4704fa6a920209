import ArgumentParser
import Foundation
import Hummingbird
import Logging
import MeowPlugins
import MeowRuntime
import MeowServer
import ServiceLifecycle

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run meow (as `meow run` does) and serve its HTTP API for the dashboard (docs/api.md).",
        discussion: """
            Binds 127.0.0.1:7070 by default (server.listen in meow.yaml, or
            --listen; unix:/path for a Unix socket next to a sidecar). Routes
            are under /v1, described by /openapi.json; /healthz, /readyz and
            /metrics need no token. Tokens and roles: server.tokens (docs/api.md).

              meow serve --config examples/api/meow.yaml
              curl -s -H "Authorization: Bearer $MEOW_TOKEN_DASHBOARD" \\
                'localhost:7070/v1/applications?limit=5' | jq '.items[].id'
              curl -sN -H "Authorization: Bearer $MEOW_TOKEN_DASHBOARD" \\
                localhost:7070/v1/events

            The first line on stderr says where it listens:
              meow serve: listening on http://127.0.0.1:7070 (...)
            SIGTERM or SIGINT stops cleanly. Exit 2: a bad config, or another
            runner holds the store.
            """)

    @Option(name: .long, help: "The config file (docs/configuration.md).")
    var config: String = "meow.yaml"

    @Option(name: .long, help: "Override server.listen: HOST:PORT (port 0 picks a free one) or unix:/path.")
    var listen: String?

    @Option(name: .long, help: "Override rules.dir of the config.")
    var rules: String?

    @Option(name: .long, help: "Override store.path of the config.")
    var store: String?

    @Option(name: .long, help: "The event log on stdout: text or json (JSON lines).")
    var output: OutputFormat = .text

    func run() async throws {
        // before the runtime exists: its metrics bind to the backend when created
        _ = ServerMetrics.shared
        let hub = EventHub()
        let printer = EventPrinter(output: output, quietPolls: false)
        let (loaded, runtime, display) = try await RunCommand.start(
            config: config, rules: rules, store: store,
            sink: { e in
                printer.handle(e)
                hub.publish(e)
            })
        var cfg = loaded
        if let listen {
            guard let l = ServerSettings.Listen.parse(listen) else {
                await runtime.shutdown()
                throw InputError("--listen \(listen): expected HOST:PORT (127.0.0.1:7070) or unix:/path/to/socket")
            }
            if !cfg.server.allows(l) {
                await runtime.shutdown()
                throw InputError(
                    "--listen \(listen): not a loopback address; configure server.tokens and server.anonymous: none first")
            }
            cfg.server.listen = l
        }
        if case .unix(let path) = cfg.server.listen, FileManager.default.fileExists(atPath: path) {
            // a socket left by a process that died; a live one would still hold the store's lease
            try? FileManager.default.removeItem(atPath: path)
        }
        let api = API(runtime: runtime, config: cfg, store: runtime.store, hub: hub)
        let listenText = cfg.server.listen
        let summary =
            "\(cfg.providers.filter(\.enabled).count) provider instances, actions \(cfg.actions.mode.rawValue), \(cfg.server.tokens.count) tokens"
        let app = HTTPServer.application(
            api,
            onServerRunning: { channel in
                let shown: String
                if case .tcp(let host, _) = listenText, let port = channel.localAddress?.port {
                    shown = "http://\(host.contains(":") ? "[\(host)]" : host):\(port)"
                } else {
                    shown = "\(listenText)"
                }
                Console.progress(
                    "meow serve: listening on \(shown) (\(await runtime.ruleCount) rules from \(display), \(summary)). SIGINT/SIGTERM stops."
                )
            })
        var logger = Logger(label: "meow", factory: { StreamLogHandler.standardError(label: $0) })
        logger.logLevel = .warning
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: RuntimeService(runtime: runtime)), .init(service: app),
                    .init(service: EventStreamCloser(hub: hub)),
                ], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            await runtime.shutdown()
            throw InputError("meow serve: \(error) (is \(cfg.server.listen) in use?)")
        }
        Console.progress("meow serve: stopped")
    }
}

/// Ends the open event streams first on shutdown, so that the HTTP server's graceful stop does not wait
/// on clients that never hang up.
struct EventStreamCloser: Service {
    let hub: EventHub
    func run() async throws {
        try? await gracefulShutdown()
        hub.closeAll()
    }
}
