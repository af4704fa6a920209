test "a single prod replica is a violation" {
  entities = { workload { name = "api", environment = "prod", workload_kind = "Deployment", replicas = { desired = 1, ready = 1 } } },
  expect = { { subject = "api", message = "runs 1 replica;" } },
}

test "two replicas pass; DaemonSets and dev are exempt" {
  entities = {
    workload { name = "a", environment = "prod", workload_kind = "Deployment", replicas = { desired = 2 } },
    workload { name = "b", environment = "prod", workload_kind = "DaemonSet", replicas = { desired = 1 } },
    workload { name = "c", environment = "dev", workload_kind = "Deployment", replicas = { desired = 1 } },
  },
  expect = {},
}
