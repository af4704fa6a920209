-- queue-latency: an anomaly rule on a metric series. The series is attached to the entity it
-- describes (its `subject`): here a workload's `queue_latency`, read as w.series.queue_latency.
anomaly {
  id = "queue-latency",
  description = "Queue latency far above its recent level",
  severity = "warning",
  match = { kind = "workload", environment = "prod" },
  series = function(w) return w.series.queue_latency end,
  detector = detect.robust_z { window = 30, threshold = 5, direction = "up" },
  sustained = 2,
}
