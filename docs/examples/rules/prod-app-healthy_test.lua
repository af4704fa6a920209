test "a degraded prod app is a violation" {
  entities = {
    application { name = "pay", environment = "prod", health = "Degraded" },
  },
  expect = {
    { rule = "prod-app-healthy", subject = "application/test/pay", severity = "high",
      message = "health is Degraded" },
  },
}

test "a healthy prod app passes" {
  entities = {
    application { name = "pay", environment = "prod", health = "Healthy" },
  },
  expect = {},
}

test "staging is not checked" {
  entities = {
    application { name = "pay", environment = "staging", health = "Degraded" },
  },
  expect = {},
}
