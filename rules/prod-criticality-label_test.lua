test "a missing or unknown criticality is a violation" {
  entities = {
    application { name = "a", environment = "prod" },
    application { name = "b", environment = "prod", labels = { ["meow.io/criticality"] = "urgent" } },
  },
  expect = { { subject = "a", message = "no meow.io/criticality" }, { subject = "b", message = '"urgent"' } },
}

test "a known level passes" {
  entities = { application { name = "a", environment = "prod", labels = { ["meow.io/criticality"] = "high" } } },
  expect = {},
}
