-- dag-duration-long: the latest run of a DAG took far longer than its recent runs.
--
-- Why: a run that drags is the early sign of an upstream delay, slow S3/DB, or resource contention, and
-- often ends in a failure or a missed SLA. Robust z over the last 20 runs, upward. Category: anomaly.
-- Severity: warning.
anomaly {
  id = "dag-duration-long",
  description = "DAG run much longer than its recent runs",
  severity = "warning",
  tags = { "anomaly", "airflow" },
  match = { kind = "dag" },
  series = function(dag) return dag.series.dag_duration end,
  detector = detect.robust_z { window = 20, threshold = 4, direction = "up", min_change = 0.3 },
}
