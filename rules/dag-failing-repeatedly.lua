-- dag-failing-repeatedly: the latest runs of a DAG failed one after another.
--
-- Why: one failed run is noise that a retry fixes (dag-run-failed, clear-failed-dag-run); three in a
-- row is a broken DAG, a broken dependency or bad data, and retries will not fix it: page the owner.
-- The airflow provider counts `failures_in_a_row` back from the newest finished run.
-- Category: reliability. Severity: high.
policy {
  id = "dag-failing-repeatedly",
  description = "DAGs do not fail run after run",
  severity = "high",
  tags = { "reliability", "airflow" },
  match = { kind = "dag", paused = false },
  check = function(dag)
    local n = dag.failures_in_a_row or 0
    if n >= 3 then
      return deny(("the last %d runs of %s failed"):format(n, dag.dag_id or dag.name),
        { failures_in_a_row = n, recent_run_states = dag.recent_run_states })
    end
  end,
}
