-- app-degraded: an application in staging or prod is Degraded or Missing in Argo CD.
--
-- Why: a failed rollout (bad config, an image that can't be pulled) shows first as Argo CD health.
-- Category: reliability. Severity: high in prod, medium in staging.
policy {
  id = "app-degraded",
  description = "Applications in staging and prod are healthy",
  severity = "high",
  tags = { "reliability", "argocd" },
  match = { kind = "application", environment = { "staging", "prod" }, health = { "Degraded", "Missing" } },
  check = function(app)
    local last = app.history and app.history[#app.history]
    local evidence = { health = app.health, message = app.health_message,
                       last_revision = last and last.revision, last_outcome = last and last.outcome }
    return deny(("health is %s%s"):format(app.health, app.health_message and (": " .. app.health_message) or ""), evidence)
  end,
}
