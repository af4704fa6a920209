import Foundation
import Metrics
import Prometheus

/// The process's metrics registry: swift-metrics bootstrapped once with swift-prometheus, so the
/// runtime's metrics (evaluation, rule errors, polls, actions) and Hummingbird's HTTP metrics all render at
/// `/metrics`.
public final class ServerMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry

    /// Bootstraps swift-metrics the first time it is used (a process can bootstrap only once).
    public static let shared: ServerMetrics = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
        ]
        MetricsSystem.bootstrap(factory)
        return ServerMetrics(registry: registry)
    }()

    init(registry: PrometheusCollectorRegistry) { self.registry = registry }

    public func render() -> String { registry.emitToString() }
}
