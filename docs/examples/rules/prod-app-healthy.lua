-- prod-app-healthy: production Argo CD applications report health "Healthy".
policy {
  id = "prod-app-healthy",
  description = "Production applications are Healthy",
  severity = "high",
  tags = { "reliability", "argocd" },
  runbook = "https://wiki.example.com/runbooks/argocd-unhealthy",
  match = { kind = "application", environment = "prod" },
  check = function(app)
    if app.health ~= "Healthy" then
      return deny(("health is %s"):format(app.health or "unknown"),
        { health = app.health, message = app.health_message })
    end
  end,
}
