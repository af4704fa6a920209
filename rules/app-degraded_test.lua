test "a degraded prod app is a violation" {
  entities = { application { name = "pay", environment = "prod", health = "Degraded", health_message = "ImagePullBackOff" } },
  expect = { { subject = "pay", message = "health is Degraded: ImagePullBackOff" } },
}

test "healthy apps and dev are fine" {
  entities = {
    application { name = "a", environment = "prod", health = "Healthy" },
    application { name = "b", environment = "dev", health = "Degraded" },
  },
  expect = {},
}
