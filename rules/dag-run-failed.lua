-- dag-run-failed: a DAG run failed. One violation per failed run in the snapshot's recent runs.
--
-- Why: the run's data is missing downstream until someone retries it (clear-failed-dag-run proposes
-- that). Category: reliability. Severity: medium.
policy {
  id = "dag-run-failed",
  description = "DAG runs succeed",
  severity = "medium",
  tags = { "reliability", "airflow" },
  match = { kind = "dag_run", state = "failed" },
  check = function(run)
    return deny(("run %s of %s failed"):format(run.run_id or "?", run.dag_id or "?"),
      { dag = run.dag, run_id = run.run_id, duration_seconds = run.duration_seconds })
  end,
}
