local MiB = 1048576

test "a leak climbing for several points is an anomaly" {
  entities = {
    workload { name = "api" },
    series { id = "series/memory/api", metric = "memory", subject = "workload/test/api", values = {
      500 * MiB, 502 * MiB, 498 * MiB, 501 * MiB, 499 * MiB, 500 * MiB, 503 * MiB, 497 * MiB, 500 * MiB, 501 * MiB,
      600 * MiB, 700 * MiB, 820 * MiB, 950 * MiB } },
  },
  expect = { { type = "anomaly", subject = "api", message = "for 3 points" } },
}

test "steady memory is quiet" {
  entities = {
    workload { name = "api" },
    series { id = "series/memory/api", metric = "memory", subject = "workload/test/api", values = {
      500 * MiB, 502 * MiB, 498 * MiB, 501 * MiB, 499 * MiB, 500 * MiB, 503 * MiB, 497 * MiB, 500 * MiB, 501 * MiB, 502 * MiB } },
  },
  expect = {},
}
