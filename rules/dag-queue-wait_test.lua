test "a queue wait ten times the usual is an anomaly" {
  entities = {
    dag { name = "etl" },
    series { id = "series/queue_wait/etl", metric = "queue_wait", subject = "dag/test/etl",
             values = { 5, 6, 4, 5, 7, 5, 6, 5, 4, 60 } },
  },
  expect = { { type = "anomaly", subject = "etl" } },
}

test "usual waits are quiet" {
  entities = {
    dag { name = "etl" },
    series { id = "series/queue_wait/etl", metric = "queue_wait", subject = "dag/test/etl", values = { 5, 6, 4, 5, 7, 5, 6, 5, 4, 6 } },
  },
  expect = {},
}
