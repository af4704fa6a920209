test "a container without requests is a violation" {
  entities = {
    workload { name = "api", containers = { { name = "main", image = "x:1" } } },
  },
  expect = { { subject = "api", message = "container main has no cpu or memory request" } },
}

test "a missing memory request is named" {
  entities = {
    workload { name = "api", containers = { { name = "main", image = "x:1", requests = { cpu = 0.5 } } } },
  },
  expect = { { subject = "api", message = "no memory request" } },
}

test "complete requests pass" {
  entities = {
    workload { name = "api", containers = { { name = "main", image = "x:1", requests = { cpu = 0.25, memory = 268435456 } } } },
  },
  expect = {},
}
