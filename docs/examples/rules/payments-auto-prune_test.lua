test "an automated payments app without prune is a violation" {
  entities = {
    application { name = "pay", environment = "prod", labels = { team = "payments" },
                  sync_policy = { automated = true, prune = false } },
  },
  expect = { { subject = "pay", message = "does not prune" } },
}

test "other teams, dev, and manual sync are not matched" {
  entities = {
    application { name = "web", environment = "prod", labels = { team = "web" },
                  sync_policy = { automated = true } },
    application { name = "pay-dev", environment = "dev", labels = { team = "payments" },
                  sync_policy = { automated = true } },
    application { name = "pay-manual", environment = "staging", labels = { team = "payments" } },
  },
  expect = {},
}
