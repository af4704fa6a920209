-- argocd-health-degraded: a workload that Argo CD's own health check (a Lua customization, run by meow
-- unchanged) calls Degraded or Missing.
--
-- Why: teams encode what "healthy" means for their kinds in Argo CD health.lua customizations; with
-- `customizations:` on a kubernetes provider instance, meow runs them on the live objects and reports
-- the result as a workload condition (type ArgoCDHealth, reason = the script, docs/argocd-lua.md), so
-- the same definition of health drives meow's rules. Category: reliability. Severity: high.
policy {
  id = "argocd-health-degraded",
  description = "Workloads are not Degraded or Missing by their Argo CD health check",
  severity = "high",
  tags = { "reliability", "argocd" },
  match = { kind = "workload" },
  check = function(w)
    for _, c in ipairs(w.conditions or {}) do
      if c.type == "ArgoCDHealth" and (c.status == "Degraded" or c.status == "Missing") then
        local msg = c.message ~= nil and c.message ~= "" and (": " .. c.message) or ""
        return deny(("%s by %s%s"):format(c.status, c.reason or "its health check", msg),
          { status = c.status, script = c.reason, message = c.message })
      end
    end
  end,
}
