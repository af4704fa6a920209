test "HEAD, main and an unset revision are violations" {
  entities = {
    application { name = "a", environment = "prod", target_revision = "HEAD" },
    application { name = "b", environment = "prod", target_revision = "main" },
    application { name = "c", environment = "prod" },
  },
  expect = {
    { subject = "a", message = '"HEAD"' },
    { subject = "b", message = '"main"' },
    { subject = "c", message = '"HEAD"' },
  },
}

test "tags and commits pass" {
  entities = {
    application { name = "a", environment = "prod", target_revision = "v1.4.2" },
    application { name = "b", environment = "prod", target_revision = "3f2a9c1d" },
    application { name = "c", environment = "staging", target_revision = "main" },
  },
  expect = {},
}
