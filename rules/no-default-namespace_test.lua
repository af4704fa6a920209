test "a workload in default is a violation" {
  entities = { workload { name = "api", namespace = "default" } },
  expect = { { subject = "api" } },
}

test "other namespaces pass" {
  entities = { workload { name = "api", namespace = "payments" } },
  expect = {},
}
