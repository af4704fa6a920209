-- dag-owner: Airflow DAGs name a real owner, not Airflow's default "airflow".
--
-- Why: a failing DAG whose owner is "airflow" pages nobody. Category: compliance. Severity: low.
policy {
  id = "dag-owner",
  description = "DAGs have an owner other than the default 'airflow'",
  severity = "low",
  tags = { "compliance", "airflow" },
  match = { kind = "dag" },
  check = function(dag)
    for _, owner in ipairs(dag.owners or {}) do
      if owner ~= "airflow" and owner ~= "" then return nil end
    end
    return deny("no owner besides the default 'airflow'", { owners = dag.owners })
  end,
}
