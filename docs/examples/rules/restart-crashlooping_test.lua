test "many restarts propose a rollout restart" {
  entities = { workload { name = "api", namespace = "shop", workload_kind = "Deployment", restarts = 14 } },
  expect = { { type = "action_proposed", subject = "api", message = "propose kubernetes.rollout_restart (14 restarts)" } },
}

test "a few restarts propose nothing" {
  entities = { workload { name = "api", namespace = "shop", workload_kind = "Deployment", restarts = 2 } },
  expect = {},
}
