test "each import error and a missing tag list are separate violations" {
  entities = {
    dag { name = "etl", paused = false, import_errors = { "ModuleNotFoundError: pandas", "SyntaxError: line 3" } },
  },
  expect = {
    { subject = "dag/test/etl", message = "import error 1: ModuleNotFoundError" },
    { subject = "dag/test/etl", message = "import error 2: SyntaxError" },
    { subject = "dag/test/etl", message = "no tags" },
  },
}

test "a paused DAG is skipped by where" {
  entities = {
    dag { name = "old", paused = true, import_errors = { "SyntaxError: line 3" } },
  },
  expect = {},
}

test "a clean, tagged DAG passes" {
  entities = {
    dag { name = "etl", paused = false, tags = { "finance" } },
  },
  expect = {},
}
