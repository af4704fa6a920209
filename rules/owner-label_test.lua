test "an application without owner is a violation" {
  entities = { application { name = "pay", labels = { team = "payments" } } },
  expect = { { subject = "pay" } },
}

test "an empty owner is a violation" {
  entities = { application { name = "pay", labels = { owner = "" } } },
  expect = { { subject = "pay" } },
}

test "owner or meow.io/owner passes" {
  entities = {
    application { name = "a", labels = { owner = "payments" } },
    application { name = "b", labels = { ["meow.io/owner"] = "search" } },
  },
  expect = {},
}
