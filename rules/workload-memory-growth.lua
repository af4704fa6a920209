-- workload-memory-growth: a workload's memory climbs well above its smoothed level for several points:
-- the shape of a leak before the OOM kills start.
--
-- Robust z-score against the last 60 points (a long window: a leak ramps for hours), upward, three
-- points in a row. (An EWMA baseline follows a ramp too quickly to keep flagging it.)
-- Category: anomaly. Severity: warning.
anomaly {
  id = "workload-memory-growth",
  description = "Workload memory climbing far above its usual level",
  severity = "warning",
  tags = { "anomaly", "reliability" },
  match = { kind = "workload" },
  series = function(w) return w.series.memory end,
  detector = detect.robust_z { window = 60, threshold = 6, direction = "up", min_change = 0.2 },
  sustained = 3,
}
