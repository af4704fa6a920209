-- workload-cpu-spike: a workload's cpu jumps far above its recent level and stays there.
--
-- Why: traffic spikes and noisy neighbours show first as cpu; caught early, a scale-up or a throttle
-- beats an outage. Robust z-score against the median/MAD of the last 30 points (outliers in the history
-- don't inflate the baseline), upward only, at least 50% above the median (a quiet workload's daily ramp
-- has a tiny MAD, and must not fire), two points in a row. Category: anomaly. Severity: warning.
anomaly {
  id = "workload-cpu-spike",
  description = "Workload cpu far above its recent level",
  severity = "warning",
  tags = { "anomaly", "capacity" },
  match = { kind = "workload" },
  series = function(w) return w.series.cpu end,
  detector = detect.robust_z { window = 30, threshold = 5, direction = "up", min_change = 0.5 },
  sustained = 2,
}
