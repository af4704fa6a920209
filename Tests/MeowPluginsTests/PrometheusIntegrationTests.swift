import Foundation
import MeowModel
import MeowTesting
import Testing

@testable import MeowPlugins

/// The Prometheus provider against a **real Prometheus** that `make test` starts on 127.0.0.1
/// (scripts/prometheus-test.sh), scraping a static exporter (Tests/fixtures/prometheus/exporter/metrics)
/// every second. `make test` sets MEOW_REQUIRE_PROMETHEUS=1: there a missing Prometheus fails the suite.
@Suite(.enabled(if: RealPrometheus.url != nil || RealPrometheus.required))
struct PrometheusIntegrationTests {
    func provider(_ series: [[String: Value]], url: String? = nil, timeout: TimeInterval = 10) throws -> PrometheusProvider {
        let base = try #require(url ?? RealPrometheus.url, "make test starts Prometheus and sets MEOW_PROMETHEUS_URL")
        let manifest = try #require(PluginRegistry.builtin.plugin("prometheus")?.manifest)
        return try PrometheusProvider(
            manifest: manifest,
            context: ProviderContext(
                name: "prom", settings: ["url": .string(base), "series": .array(series.map { .object($0) })], timeout: timeout))
    }

    func series(_ o: Observation) -> [String: Series] {
        Dictionary(
            o.entities.compactMap { e -> (String, Series)? in if case .series(let s) = e { (s.id, s) } else { nil } },
            uniquingKeysWith: { a, _ in a })
    }

    static let s3: [String: Value] = [
        "name": .string("s3_latency"), "query": .string("meow_dependency_latency_seconds{dependency=\"s3\"}"),
        "subject": .string("environment/{env}"), "unit": .string("seconds"),
    ]

    @Test func instantQueriesBecomeSeriesOfTheEntitiesTheirLabelsName() async throws {
        let p = try provider([Self.s3])
        defer { Task { await p.shutdown() } }
        let o = try await p.observe()
        let s = series(o)
        #expect(s.keys.sorted() == ["series/s3_latency/environment/prod", "series/s3_latency/environment/staging"])
        let prod = try #require(s["series/s3_latency/environment/prod"])
        #expect(
            prod.values == [0.25] && prod.subject == "environment/prod" && prod.metric == "s3_latency" && prod.unit == "seconds")
        #expect(prod.labels?["dependency"] == "s3" && prod.labels?["job"] == "meow-test" && prod.provider == "prom")
        #expect(prod.times?.count == 1)
        #expect(o.warnings.isEmpty)
    }

    @Test func rangeQueriesGiveTheHistory() async throws {
        try await Task.sleep(for: .seconds(3))  // a few scrapes, one per second
        var cpu: [String: Value] = [
            "name": .string("cpu"), "query": .string("meow_workload_cpu_cores"),
            "subject": .string("workload/{cluster}/{namespace}/{deployment}"), "range": .double(60), "step": .double(1),
        ]
        cpu["unit"] = .string("cores")
        let p = try provider([cpu])
        defer { Task { await p.shutdown() } }
        let s = series(try await p.observe())
        let api = try #require(s["series/cpu/workload/prod-1/payments/api"])
        #expect((api.values?.count ?? 0) >= 2, "\(api.values ?? [])")
        #expect(api.values?.allSatisfy { $0 == 1.5 } == true)
        let times = try #require(api.times)
        #expect(zip(times, times.dropFirst()).allSatisfy { $1.timeIntervalSince($0) == 1 })  // the step
        #expect(s["series/cpu/workload/prod-1/search/indexer"]?.values?.last == 0.4)
    }

    @Test func aBadQueryIsAWarningAndTheOthersStillCount() async throws {
        let bad: [String: Value] = [
            "name": .string("broken"), "query": .string("sum(rate(x[5m]"), "subject": .string("environment/{env}"),
        ]
        let unlabelled: [String: Value] = [
            "name": .string("total"), "query": .string("sum(meow_dependency_latency_seconds)"),
            "subject": .string("environment/{env}"),
        ]
        let p = try provider([bad, Self.s3, unlabelled])
        defer { Task { await p.shutdown() } }
        let o = try await p.observe()
        #expect(series(o).count == 2)
        #expect(o.warnings.contains { $0.hasPrefix("series broken: POST /api/v1/query: bad_data:") }, "\(o.warnings)")
        #expect(o.warnings.contains { $0.hasPrefix("series total: a result lacks a label of subject environment/{env}") })
    }

    @Test func healthAndUnreachableServers() async throws {
        let p = try provider([Self.s3])
        #expect(await p.checkHealth().ok)
        await p.shutdown()
        let dead = try provider([Self.s3], url: "http://127.0.0.1:9", timeout: 2)
        defer { Task { await dead.shutdown() } }
        do {
            _ = try await dead.observe()
            Issue.record("observed a server that is not there")
        } catch let e as ProviderError {
            #expect(e.kind == .unavailable || e.kind == .timeout)
        }
    }
}

/// Where the real Prometheus of `make test` is.
enum RealPrometheus {
    static let url = ProcessInfo.processInfo.environment["MEOW_PROMETHEUS_URL"]
    static let required = ProcessInfo.processInfo.environment["MEOW_REQUIRE_PROMETHEUS"] == "1"
}
