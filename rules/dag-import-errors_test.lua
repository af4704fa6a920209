test "an import error is a violation" {
  entities = {
    event { name = "e1", type = "import_error", source = "airflow-prod",
            message = "dags/report.py: ModuleNotFoundError: No module named 'pandas_gbq'",
            details = { file = "dags/report.py" } },
  },
  expect = { { rule = "dag-import-errors", subject = "e1",
               message = "DAG file does not import: dags/report.py: ModuleNotFoundError: No module named 'pandas_gbq'" } },
}

test "other events pass" {
  entities = { event { name = "d1", type = "deploy", message = "deployed abc" } },
  expect = {},
}
