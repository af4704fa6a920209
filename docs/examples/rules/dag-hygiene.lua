-- dag-hygiene: active Airflow DAGs import cleanly and carry at least one tag.
-- One decision per problem: check returns a list of deny(...).
policy {
  id = "dag-hygiene",
  description = "Active DAGs import cleanly and are tagged",
  severity = "medium",
  tags = { "airflow" },
  match = { kind = "dag" },
  where = function(dag) return not dag.paused end,   -- paused DAGs are skipped
  check = function(dag)
    local out = {}
    for i, err in ipairs(dag.import_errors or {}) do
      out[#out + 1] = deny(("import error %d: %s"):format(i, err), { import_error = err })
    end
    if dag.tags == nil or #dag.tags == 0 then
      out[#out + 1] = deny("no tags")
    end
    return out   -- an empty list means the DAG passes
  end,
}
