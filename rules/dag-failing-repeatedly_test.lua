test "three failed runs in a row is a violation" {
  entities = { dag { name = "ingest", dag_id = "ingest", paused = false, failures_in_a_row = 3,
                     recent_run_states = { "success", "failed", "failed", "failed" } } },
  expect = { { rule = "dag-failing-repeatedly", subject = "ingest", message = "the last 3 runs of ingest failed" } },
}

test "two failures, a paused DAG, or no runs pass" {
  entities = {
    dag { name = "flaky", paused = false, failures_in_a_row = 2 },
    dag { name = "parked", paused = true, failures_in_a_row = 9 },
    dag { name = "new", paused = false },
  },
  expect = {},
}
