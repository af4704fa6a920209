import Foundation

/// Name → detector factory, shared by `meow detect`, `meow bench anomaly` and the DSL's `detect.*`.
public enum DetectorRegistry {
    /// Registered names, default first.
    public static let names: [String] = [
        "default", "robust_z", "ewma", "seasonal", "cusum", "holt_winters", "windowed_gaussian", "cad", "likelihood",
    ]

    /// The single detectors whose signals the default combines (seasonal residual, context novelty).
    public static let componentNames: [String] = ["seasonal", "cad"]

    /// One-line description per name.
    public static func summary(_ name: String) -> String {
        switch name {
        case "default": return "anomaly likelihoods of the seasonal residual and context novelty, max, alert suppression"
        case "robust_z": return "sliding-window median/MAD z-score"
        case "ewma": return "exponentially weighted mean/variance"
        case "seasonal": return "daily/weekly seasonal baseline learned online"
        case "cusum": return "two-sided CUSUM level-shift detector"
        case "holt_winters": return "Holt-Winters forecast residual"
        case "windowed_gaussian": return "baseline: plain mean/std over a long window (NAB reference)"
        case "cad": return "context novelty of quantised value patterns (after CAD OSE) with a rest period"
        case "likelihood": return "HTM-style anomaly likelihood of the seasonal-baseline residual scores"
        default: return ""
        }
    }

    /// A fresh detector with default parameters, or nil for an unknown name.
    public static func make(_ name: String) -> AnyStreamingDetector? {
        switch name {
        case "default", "ensemble": return AnyStreamingDetector(EnsembleDetector())
        case "robust_z": return AnyStreamingDetector(RobustZDetector())
        case "ewma": return AnyStreamingDetector(EWMADetector())
        case "seasonal": return AnyStreamingDetector(SeasonalBaselineDetector())
        case "cusum": return AnyStreamingDetector(CUSUMDetector())
        case "holt_winters": return AnyStreamingDetector(HoltWintersDetector())
        case "windowed_gaussian": return AnyStreamingDetector(WindowedGaussianDetector())
        case "cad": return AnyStreamingDetector(ContextDetector())
        case "likelihood": return AnyStreamingDetector(LikelihoodDetector())
        default: return nil
        }
    }

    /// Runs detector `name` over a whole series.
    public static func run(_ name: String, on series: TimeSeries) -> [AnomalyScore]? {
        guard var d = make(name) else { return nil }
        return d.scores(times: series.times, values: series.values)
    }
}
