-- clear-failed-dag-run: propose clearing the failed tasks of a failed DAG run ("revert a failed run to
-- its last good state": clear from the first failed task, downstream included), unless it failed on
-- a retry already. Category: self-healing.
remediation {
  id = "clear-failed-dag-run",
  description = "Retry a failed DAG run from its first failed task",
  match = { kind = "dag_run", state = "failed" },
  when = function(run)
    local dag = state.get(run.dag or "")
    if dag and dag.paused then return false end
    return true
  end,
  action = "airflow.clear_failed",
  params = { include_downstream = true },
  mode = "approve",
  cooldown = "1h",
}
