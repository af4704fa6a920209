test "2 cores requested, 0.1 used is a violation" {
  entities = { workload { name = "api", usage = { cpu = 0.1 }, containers = {
    { name = "main", image = "x:1", requests = { cpu = 1.5 } }, { name = "side", image = "y:1", requests = { cpu = 0.5 } } } } },
  expect = { { subject = "api", message = "requests 2.00 cores but uses 0.10 (20×)" } },
}

test "small requests, busy workloads and unknown usage pass" {
  entities = {
    workload { name = "a", usage = { cpu = 0.01 }, containers = { { name = "main", image = "x:1", requests = { cpu = 0.5 } } } },
    workload { name = "b", usage = { cpu = 1.2 }, containers = { { name = "main", image = "x:1", requests = { cpu = 2 } } } },
    workload { name = "c", containers = { { name = "main", image = "x:1", requests = { cpu = 8 } } } },
  },
  expect = {},
}
