test "a saturated deployment gets a scale proposal" {
  entities = {
    workload { name = "api", workload_kind = "Deployment", replicas = { desired = 3 },
               containers = { { name = "main", image = "x:1", requests = { cpu = 1 } } } },
    series { id = "series/cpu/api", metric = "cpu", subject = "workload/test/api", values = { 0.5, 1.3, 1.4, 1.6 } },
  },
  expect = { { type = "action_proposed", subject = "api", message = "propose kubernetes.scale (cpu 1.60 of 1.00 requested)" } },
}

test "a short burst is not sustained saturation" {
  entities = {
    workload { name = "api", workload_kind = "Deployment", containers = { { name = "main", image = "x:1", requests = { cpu = 1 } } } },
    series { id = "series/cpu/api", metric = "cpu", subject = "workload/test/api", values = { 0.5, 1.5, 0.8, 1.6 } },
  },
  expect = {},
}

test "headroom, no requests or no series: nothing proposed" {
  entities = {
    workload { name = "a", workload_kind = "Deployment", containers = { { name = "main", image = "x:1", requests = { cpu = 1 } } } },
    series { id = "series/cpu/a", metric = "cpu", subject = "workload/test/a", values = { 0.5 } },
    workload { name = "b", workload_kind = "Deployment", containers = { { name = "main", image = "x:1" } } },
    series { id = "series/cpu/b", metric = "cpu", subject = "workload/test/b", values = { 5 } },
    workload { name = "c", workload_kind = "Deployment" },
  },
  expect = {},
}
