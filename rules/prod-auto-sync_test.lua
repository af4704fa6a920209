test "manual sync in prod is a violation" {
  entities = {
    application { name = "pay", environment = "prod" },
  },
  expect = { { rule = "prod-auto-sync", subject = "application/test/pay", message = "automated sync is off" } },
}

test "automated without self-heal is a violation" {
  entities = {
    application { name = "pay", environment = "prod", sync_policy = { automated = true, self_heal = false } },
  },
  expect = { { subject = "pay", message = "self-heal is off" } },
}

test "automated with self-heal passes" {
  entities = {
    application { name = "pay", environment = "prod", sync_policy = { automated = true, self_heal = true } },
  },
  expect = {},
}

test "other environments are not checked" {
  entities = {
    application { name = "pay", environment = "staging" },
    application { name = "web", environment = "dev", sync_policy = { automated = false } },
  },
  expect = {},
}
