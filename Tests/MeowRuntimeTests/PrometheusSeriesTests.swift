import Foundation
import MeowModel
import MeowPlugins
import MeowTesting
import Testing

@testable import MeowRuntime

/// Real Prometheus series reach rules as entity series (the Prometheus of `make test`).
@Suite(
    .enabled(
        if: ProcessInfo.processInfo.environment["MEOW_PROMETHEUS_URL"] != nil
            || ProcessInfo.processInfo.environment["MEOW_REQUIRE_PROMETHEUS"] == "1"))
struct PrometheusSeriesTests {
    @Test func rulesSeeTheSeriesOnTheirEntities() async throws {
        let url = try #require(
            ProcessInfo.processInfo.environment["MEOW_PROMETHEUS_URL"], "make test starts Prometheus and sets MEOW_PROMETHEUS_URL"
        )
        let rules = try TempRules([
            "s3.lua": """
            policy { id = "s3-slow", severity = "high", match = { kind = "environment" },
              check = function(env)
                local s = env.series.s3_latency
                if s and s.values[#s.values] > 0.2 then
                  return deny(("s3 p99 %.2fs in %s"):format(s.values[#s.values], env.name))
                end
              end }
            """
        ])
        let config = try MeowConfig.parse(
            """
            environments: [{name: staging}, {name: prod}]
            rules: {dir: \(rules.url.path)}
            providers:
              - name: prom
                plugin: prometheus
                url: \(url)
                series:
                  - {name: s3_latency, query: 'meow_dependency_latency_seconds{dependency="s3"}', subject: 'environment/{env}'}
            """, file: rules.url.appendingPathComponent("meow.yaml").path)
        let runtime = try Runtime(config: config)
        let report = await runtime.runOnce().evaluation.decisions
        await runtime.shutdown()
        #expect(
            report.map { "\($0.rule) \($0.subject ?? "") \($0.message)" } == ["s3-slow environment/prod s3 p99 0.25s in prod"])
    }

}
