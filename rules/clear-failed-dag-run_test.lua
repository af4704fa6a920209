test "a failed run gets a clear proposal" {
  entities = {
    dag { name = "etl", dag_id = "etl" },
    dag_run { name = "r1", dag = "dag/test/etl", dag_id = "etl", run_id = "scheduled__2026-01-01", state = "failed" },
  },
  expect = { { type = "action_proposed", subject = "r1", message = "airflow.clear_failed" } },
}

test "successful runs and paused DAGs get nothing" {
  entities = {
    dag { name = "etl", dag_id = "etl", paused = true },
    dag_run { name = "r1", dag = "dag/test/etl", dag_id = "etl", run_id = "a", state = "failed" },
    dag_run { name = "r2", dag = "dag/test/other", dag_id = "other", run_id = "b", state = "success" },
  },
  expect = {},
}
