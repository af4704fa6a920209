-- prod-auto-sync: production Argo CD applications sync automatically, with self-heal.
--
-- Why: a prod app on manual sync drifts from Git silently; without self-heal, a `kubectl edit` in prod
-- stays until someone notices. Category: compliance. Severity: high.
policy {
  id = "prod-auto-sync",
  description = "Production apps sync automatically with self-heal",
  severity = "high",
  tags = { "compliance", "argocd" },
  match = { kind = "application", environment = "prod" },
  check = function(app)
    local p = app.sync_policy
    if p == nil or not p.automated then
      return deny("automated sync is off", { sync_policy = p })
    end
    if not p.self_heal then
      return deny("automated sync is on but self-heal is off", { sync_policy = p })
    end
  end,
}
