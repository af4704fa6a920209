-- prod-min-replicas: production Deployments and StatefulSets run at least two replicas.
--
-- Why: one replica means every node drain, eviction or rollout is an outage. DaemonSets are exempt.
-- Category: reliability. Severity: high.
policy {
  id = "prod-min-replicas",
  description = "Production workloads run at least 2 replicas",
  severity = "high",
  tags = { "reliability" },
  match = { kind = "workload", environment = "prod", workload_kind = { "Deployment", "StatefulSet" } },
  check = function(w)
    local desired = w.replicas and w.replicas.desired or 0
    if desired < 2 then
      return deny(("runs %d replica%s; prod needs at least 2"):format(desired, desired == 1 and "" or "s"),
        { desired = desired })
    end
  end,
}
