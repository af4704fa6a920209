test "a run three times longer than usual is an anomaly" {
  entities = {
    dag { name = "etl" },
    series { id = "series/dag_duration/etl", metric = "dag_duration", subject = "dag/test/etl",
             values = { 600, 620, 580, 610, 590, 605, 615, 600, 595, 1900 } },
  },
  expect = { { type = "anomaly", subject = "etl", message = "dag_duration 1900" } },
}

test "usual durations are quiet" {
  entities = {
    dag { name = "etl" },
    series { id = "series/dag_duration/etl", metric = "dag_duration", subject = "dag/test/etl",
             values = { 600, 620, 580, 610, 590, 605, 615, 600, 595, 640 } },
  },
  expect = {},
}
