test "a failed run is a violation" {
  entities = { dag_run { name = "r1", dag_id = "etl", run_id = "scheduled__1", state = "failed" } },
  expect = { { subject = "r1", message = "run scheduled__1 of etl failed" } },
}

test "other states pass" {
  entities = {
    dag_run { name = "r1", state = "success" },
    dag_run { name = "r2", state = "running" },
  },
  expect = {},
}
