import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import MeowModel
import MeowPlugins
import MeowRuntime
import MeowServer
import MeowStore
import NIOCore
import NIOHTTP1
import ServiceLifecycle

/// `meow bench api`: the sidecar API under load. A simulated fleet (10k applications by default) is
/// observed and evaluated once, the server listens on 127.0.0.1, and an in-process load generator keeps
/// `--connections` requests in flight on each scenario for `--duration`, then prints latency percentiles
/// and throughput. The generator shares the machine with the server, so the numbers are a floor.
struct BenchAPICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api",
        abstract: "Load-test GET /v1/applications (and a few more reads) of meow serve on a simulated 10k-app fleet.",
        discussion: """
            Run it from a release build (make bench). Scenarios: the first page (limit 100), a filtered page, a
            large page (limit 1000), a revalidation (If-None-Match, 304), one application by id, and /healthz.
            Prints p50/p90/p99/max latency and requests per second per scenario.
            """)

    @Option(help: "Applications in the simulated fleet.") var apps: Int = 10_000
    @Option(help: "Requests in flight at once.") var connections: Int = 16
    @Option(help: "Seconds per scenario.") var duration: Double = 5
    @Option(help: "Rules directory evaluated once before the load (the published state carries the decisions).")
    var rules: String = "rules"
    @Option(help: "Output format: text or json.") var output: OutputFormat = .text

    struct Scenario: Encodable {
        var name: String
        var path: String
        var requests: Int
        var errors: Int
        var rps: Double
        var p50ms, p90ms, p99ms, maxms: Double
        var meanBytes: Int
    }

    struct Report: Encodable {
        var apps: Int
        var entities: Int
        var decisions: Int
        var connections: Int
        var secondsPerScenario: Double
        var scenarios: [Scenario]
        var maxRSSMiB: Double
    }

    func validate() throws {
        guard apps >= 1, connections >= 1, connections <= 512, duration > 0 else {
            throw ValidationError("--apps ≥ 1, --connections 1…512, --duration > 0")
        }
    }

    func run() async throws {
        _ = ServerMetrics.shared
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("meow-bench-api-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let rulesURL = URL(fileURLWithPath: rules).standardizedFileURL
        let configPath = dir.appendingPathComponent("meow.yaml").path
        try """
        environments: [{name: dev}, {name: staging}, {name: prod, protected: true}]
        rules: {dir: \(rulesURL.path), hot_reload: false}
        store: {path: \(dir.path)/meow.db}
        server: {listen: "127.0.0.1:0"}
        providers:
          - {name: sim, plugin: simulator, apps: \(apps), history: 1h, poll_interval: 1h, timeout: 10m}
        """.write(toFile: configPath, atomically: true, encoding: .utf8)
        let config: MeowConfig
        do { config = try MeowConfig.load(path: configPath) } catch let e as ConfigErrors { throw InputError(e.description) }
        Console.progress("bench api: simulating \(apps) applications and evaluating \(rules)…")
        let runtime = try Runtime(config: config, rulesDisplayPath: rules, store: try SQLiteStore(path: config.storePath))
        _ = await runtime.runOnce()
        let view = runtime.published.current
        let hub = EventHub()
        let api = API(runtime: runtime, config: config, store: runtime.store, hub: hub)
        let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
        // (quiet: cancelling the server at the end makes Hummingbird log its shutdown as errors)
        var quiet = Logger(label: "meow.bench.api")
        quiet.logLevel = .critical
        let app = HTTPServer.application(
            api, logger: quiet,
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            })
        let server = Task { try await app.runService(gracefulShutdownSignals: []) }
        var port = 0
        for await p in portStream { port = p }
        let base = "http://127.0.0.1:\(port)"
        let client = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: .init(
                connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)))

        let someApp = view.snapshot.entities.first { $0.kind == EntityKind.application }?.id ?? ""
        var etag = ""
        let first = try await client.execute(HTTPClientRequest(url: base + "/v1/applications"), timeout: .seconds(60))
        etag = first.headers.first(name: "etag") ?? ""
        _ = try await first.body.collect(upTo: 64 << 20)
        let scenarios: [(String, String, [String: String])] = [
            ("applications, first page (limit 100)", "/v1/applications", [:]),
            ("applications, prod + Degraded filter", "/v1/applications?environment=prod&health=Degraded,Progressing", [:]),
            ("applications, limit 1000", "/v1/applications?limit=1000", [:]),
            ("applications, revalidated (304)", "/v1/applications", ["If-None-Match": etag]),
            ("one application", "/v1/applications/\(someApp)", [:]),
            ("healthz", "/healthz", [:]),
        ]
        var results: [Scenario] = []
        for (name, path, headers) in scenarios {
            Console.progress("bench api: \(name) — \(connections) in flight for \(duration)s")
            results.append(try await load(client: client, name: name, url: base + path, headers: headers))
        }
        try await client.shutdown()
        server.cancel()
        _ = try? await server.value
        await runtime.shutdown()
        let report = Report(
            apps: apps, entities: view.snapshot.entities.count, decisions: view.decisions.count, connections: connections,
            secondsPerScenario: duration, scenarios: results, maxRSSMiB: ProcessStats.maxRSSMiB())
        switch output {
        case .json:
            print(try Console.json(report))
        case .text:
            print(
                "bench api: \(Console.count(report.apps)) apps, \(Console.count(report.entities)) entities, \(Console.count(report.decisions)) decisions; \(connections) requests in flight, \(Int(duration)) s per scenario, 127.0.0.1"
            )
            print("  scenario                                    req/s     p50 ms   p90 ms   p99 ms   max ms   bytes  errors")
            for s in results {
                print(
                    "  " + s.name.padding(toLength: 40, withPad: " ", startingAt: 0)
                        + String(
                            format: " %8.0f %9.2f %8.2f %8.2f %8.2f %7d %6d", s.rps, s.p50ms, s.p90ms, s.p99ms, s.maxms,
                            s.meanBytes, s.errors))
            }
            print(String(format: "  max RSS %.1f MiB (server, simulator and load generator in one process)", report.maxRSSMiB))
        }
    }

    /// Keeps `connections` requests in flight for `duration` seconds; latencies in milliseconds.
    func load(client: HTTPClient, name: String, url: String, headers: [String: String]) async throws -> Scenario {
        let clock = ContinuousClock()
        let end = clock.now + .milliseconds(Int(duration * 1000))
        let started = clock.now
        let perWorker = try await withThrowingTaskGroup(of: (latencies: [Double], errors: Int, bytes: Int).self) { group in
            for _ in 0..<connections {
                group.addTask {
                    var latencies: [Double] = []
                    var errors = 0
                    var bytes = 0
                    while clock.now < end {
                        var request = HTTPClientRequest(url: url)
                        for (k, v) in headers { request.headers.add(name: k, value: v) }
                        let t0 = clock.now
                        do {
                            let response = try await client.execute(request, timeout: .seconds(30))
                            let body = try await response.body.collect(upTo: 64 << 20)
                            latencies.append((clock.now - t0).seconds * 1000)
                            bytes += body.readableBytes
                            if response.status.code >= 400 { errors += 1 }
                        } catch {
                            errors += 1
                        }
                    }
                    return (latencies, errors, bytes)
                }
            }
            var all: [(latencies: [Double], errors: Int, bytes: Int)] = []
            for try await r in group { all.append(r) }
            return all
        }
        let elapsed = (clock.now - started).seconds
        let latencies = perWorker.flatMap(\.latencies).sorted()
        func pct(_ p: Double) -> Double {
            latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int((Double(latencies.count) * p).rounded(.down)))]
        }
        let bytes = perWorker.map(\.bytes).reduce(0, +)
        return Scenario(
            name: name, path: url, requests: latencies.count, errors: perWorker.map(\.errors).reduce(0, +),
            rps: Double(latencies.count) / elapsed, p50ms: pct(0.5), p90ms: pct(0.9), p99ms: pct(0.99),
            maxms: latencies.last ?? 0,
            meanBytes: latencies.isEmpty ? 0 : bytes / latencies.count)
    }
}
