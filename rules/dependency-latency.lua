-- dependency-latency: latency of an external dependency (S3, a database) far above its recent level.
--
-- Why: DAGs and services that depend on it will run long, then fail; this names the cause early.
-- The series itself is the entity here (its subject is the dependency). Category: anomaly.
-- Severity: high.
anomaly {
  id = "dependency-latency",
  description = "External dependency latency far above normal",
  severity = "high",
  tags = { "anomaly", "dependencies" },
  match = { kind = "series", metric = { "s3_latency", "db_latency" } },
  series = function(s) return s end,
  detector = detect.robust_z { window = 30, threshold = 6, direction = "up", min_change = 0.5 },
  sustained = 2,
}
