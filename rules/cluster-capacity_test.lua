test "90% of cpu requested is a violation" {
  entities = { cluster { name = "prod-1", capacity = { cpu_allocatable = 100, cpu_requested = 90, memory_allocatable = 100, memory_requested = 10 } } },
  expect = { { subject = "prod-1", message = "cpu requests at 90%" } },
}

test "headroom passes, unknown capacity is skipped" {
  entities = {
    cluster { name = "a", capacity = { cpu_allocatable = 100, cpu_requested = 50 } },
    cluster { name = "b" },
  },
  expect = {},
}
