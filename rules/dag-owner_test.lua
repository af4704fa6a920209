test "the default owner is a violation" {
  entities = {
    dag { name = "etl", owners = { "airflow" } },
    dag { name = "export" },
  },
  expect = { { subject = "etl" }, { subject = "export" } },
}

test "a team owner passes" {
  entities = { dag { name = "etl", owners = { "airflow", "data-eng" } } },
  expect = {},
}
