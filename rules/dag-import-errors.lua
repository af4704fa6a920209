-- dag-import-errors: a DAG file does not import, so Airflow runs none of the DAGs in it.
--
-- Why: an import error is silent: the DAG just stops being scheduled (or never appears) while its last
-- good version is forgotten. The airflow provider reports each one as an `import_error` event (and in
-- `import_errors` of the DAG when Airflow still lists it). Category: reliability. Severity: high.
policy {
  id = "dag-import-errors",
  description = "DAG files import without errors",
  severity = "high",
  tags = { "reliability", "airflow" },
  match = { kind = "event", type = "import_error" },
  check = function(event)
    return deny(("DAG file does not import: %s"):format(event.message or "?"),
      { file = event.details and event.details.file, source = event.source })
  end,
}
