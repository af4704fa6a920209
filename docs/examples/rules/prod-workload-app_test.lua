test "a workload without an application is a violation" {
  entities = {
    workload { name = "api", environment = "prod" },
  },
  expect = { { subject = "workload/test/api", message = "not managed" } },
}

test "an application missing from the snapshot is a violation" {
  entities = {
    workload { name = "api", environment = "prod", application = "application/test/gone" },
  },
  expect = { { subject = "api", message = "application/test/gone is not in the snapshot" } },
}

test "an application of another environment is a violation" {
  entities = {
    application { name = "pay", environment = "staging" },
    workload { name = "api", environment = "prod", application = "application/test/pay" },
  },
  expect = { { subject = "api", message = "deploys to staging" } },
}

test "a workload of a prod application passes" {
  entities = {
    application { name = "pay", environment = "prod" },
    workload { name = "api", environment = "prod", application = "application/test/pay" },
  },
  expect = {},
}
