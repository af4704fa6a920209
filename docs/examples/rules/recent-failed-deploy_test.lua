test "a deployment that failed 2 hours ago is a violation" {
  now = "2026-01-01T12:00:00Z",
  entities = {
    application { name = "pay", history = {
      { id = 1, revision = "a1b2c3", deployed_at = "2025-12-30T10:00:00Z", outcome = "succeeded" },
      { id = 2, revision = "d4e5f6", deployed_at = "2026-01-01T10:00:00Z", outcome = "failed" },
    } },
  },
  expect = {
    { rule = "recent-failed-deploy", subject = "pay", severity = "warning",
      message = "deployment of d4e5f6 failed 2.0 hours ago (at 2026-01-01T10:00:00Z)" },
  },
}

test "a failure older than 24 hours passes" {
  now = "2026-01-03T12:00:00Z",
  entities = {
    application { name = "pay", history = {
      { id = 2, revision = "d4e5f6", deployed_at = "2026-01-01T10:00:00Z", outcome = "failed" },
    } },
  },
  expect = {},
}

test "a later successful deployment passes" {
  now = 1767268800,  -- Unix seconds: 2026-01-01T12:00:00Z
  entities = {
    application { name = "pay", history = {
      { id = 2, revision = "d4e5f6", deployed_at = "2026-01-01T10:00:00Z", outcome = "failed" },
      { id = 3, revision = "0a9b8c", deployed_at = "2026-01-01T11:00:00Z", outcome = "succeeded" },
    } },
  },
  expect = {},
}

test "only the rules named in rules = {...} run" {
  now = "2026-01-01T12:00:00Z",
  rules = { "recent-failed-deploy", "prod-app-healthy" },
  entities = {
    application { name = "pay", environment = "prod", health = "Degraded", history = {
      { id = 2, revision = "d4e5f6", deployed_at = "2026-01-01T10:00:00Z", outcome = "failed" },
    } },
  },
  expect = {
    { rule = "recent-failed-deploy", subject = "pay" },
    { rule = "prod-app-healthy", subject = "pay" },
  },
}
