test "no memory limit in prod is a violation" {
  entities = { workload { name = "api", environment = "prod", containers = { { name = "main", image = "x:1" } } } },
  expect = { { subject = "api", message = "no memory limit" } },
}

test "a limit below the request is a violation" {
  entities = { workload { name = "api", environment = "staging", containers = {
    { name = "main", image = "x:1", requests = { memory = 512 }, limits = { memory = 256 } } } } },
  expect = { { subject = "api", message = "below its request" } },
}

test "limits set pass, dev is not checked" {
  entities = {
    workload { name = "a", environment = "prod", containers = { { name = "main", image = "x:1", limits = { memory = 1024 } } } },
    workload { name = "b", environment = "dev", containers = { { name = "main", image = "x:1" } } },
  },
  expect = {},
}
