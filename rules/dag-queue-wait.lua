-- dag-queue-wait: tasks of a DAG wait in the queue far longer than usual: workers, pools or the cluster
-- are saturated (resource contention), and durations will follow. Category: anomaly. Severity: warning.
anomaly {
  id = "dag-queue-wait",
  description = "DAG tasks queue far longer than usual",
  severity = "warning",
  tags = { "anomaly", "airflow", "capacity" },
  match = { kind = "dag" },
  series = function(dag) return dag.series.queue_wait end,
  detector = detect.robust_z { window = 20, threshold = 5, direction = "up", min_change = 0.5 },
}
