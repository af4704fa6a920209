-- restart-crashlooping: a remediation rule proposes an action; it never runs one here.
-- `when` returns true (or a reason string) to propose; `params` may be a table or a function.
remediation {
  id = "restart-crashlooping",
  description = "Roll out a restart of a crash-looping deployment",
  match = { kind = "workload", workload_kind = "Deployment" },
  when = function(w)
    if (w.restarts or 0) >= 10 then return ("%d restarts"):format(w.restarts) end
    return false
  end,
  action = "kubernetes.rollout_restart",
  params = function(w) return { namespace = w.namespace, name = w.name } end,
  mode = "approve",
  cooldown = "1h",
}
