test "a privileged container is a violation" {
  entities = { workload { name = "agent", containers = { { name = "main", image = "x:1", privileged = true } } } },
  expect = { { subject = "agent", severity = "critical", message = "container main runs privileged" } },
}

test "unprivileged containers pass" {
  entities = { workload { name = "api", containers = { { name = "main", image = "x:1", privileged = false }, { name = "b", image = "y:1" } } } },
  expect = {},
}
