import Foundation
import MeowRules
import Metrics

/// The runtime's metrics through swift-metrics: whatever backend the process bootstraps (`meow serve`
/// bootstraps Prometheus and serves them at `/metrics`); without one they cost nothing.
struct RuntimeMetrics: Sendable {
    let evaluation = Metrics.Timer(label: "meow_evaluation_duration_seconds", preferredDisplayUnit: .seconds)
    let evaluations = Counter(label: "meow_evaluations_total")
    let decisions = Gauge(label: "meow_decisions")

    func evaluated(_ stats: EvaluationStats) {
        evaluation.recordSeconds(stats.seconds)
        evaluations.increment()
        decisions.record(stats.violations + stats.anomalies + stats.proposals + stats.ruleErrors)
        if stats.ruleErrors > 0 { Counter(label: "meow_rule_errors_total").increment(by: stats.ruleErrors) }
    }

    func polled(provider: String, seconds: TimeInterval, error: String?) {
        Metrics.Timer(label: "meow_provider_poll_duration_seconds", dimensions: [("provider", provider)]).recordSeconds(seconds)
        if let error {
            Counter(label: "meow_provider_poll_errors_total", dimensions: [("provider", provider), ("kind", error)]).increment()
        }
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let e) = self { return e }
        return nil
    }
}
