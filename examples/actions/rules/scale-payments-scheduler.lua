-- scale-payments-scheduler: keep the dev payments scheduler at 5 replicas (an example remediation for
-- docs/actions.md: it proposes kubernetes.scale, which the simulator runs on its simulated workload).
remediation {
  id = "scale-payments-scheduler",
  description = "Scale the payments scheduler to 5 replicas",
  match = { kind = "workload", environment = "dev" },
  where = function(w) return w.name == "payments-scheduler-0000" end,
  when = function(w)
    local n = w.replicas and w.replicas.desired or 0
    return n < 5 and ("%d replicas, 5 wanted"):format(n)
  end,
  action = "kubernetes.scale",
  params = { replicas = 5 },
  mode = "auto",
  cooldown = "1h",
}
