test "missing runAsNonRoot is a violation" {
  entities = { workload { name = "api", environment = "prod", containers = { { name = "main", image = "x:1" } } } },
  expect = { { subject = "api" } },
}

test "runAsNonRoot passes; dev is not checked" {
  entities = {
    workload { name = "a", environment = "prod", containers = { { name = "main", image = "x:1", run_as_non_root = true } } },
    workload { name = "b", environment = "dev", containers = { { name = "main", image = "x:1" } } },
  },
  expect = {},
}
