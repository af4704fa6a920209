-- no-default-namespace: workloads live in a namespace of their own, not `default`.
--
-- Why: `default` gets no quotas, network policies or RBAC of its own; everything there shares fate.
-- Category: security / compliance. Severity: low.
policy {
  id = "no-default-namespace",
  description = "Workloads do not run in the default namespace",
  severity = "low",
  tags = { "security" },
  match = { kind = "workload", namespace = "default" },
  check = function(w)
    return deny("runs in the default namespace", { namespace = w.namespace })
  end,
}
