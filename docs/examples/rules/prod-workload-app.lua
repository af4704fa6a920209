-- prod-workload-app: production workloads are managed by an Argo CD application that is in the
-- snapshot and deploys to the same environment. Looks the application up with state.get.
policy {
  id = "prod-workload-app",
  description = "Production workloads belong to a known prod Argo CD application",
  severity = "medium",
  tags = { "argocd", "compliance" },
  match = { kind = "workload", environment = "prod" },
  check = function(w)
    if w.application == nil then
      return deny("not managed by an Argo CD application")
    end
    local app = state.get(w.application)
    if app == nil then
      return deny(("owning application %s is not in the snapshot"):format(w.application),
        { application = w.application })
    end
    if app.environment ~= w.environment then
      return deny(("owning application %s deploys to %s"):format(tostring(app), app.environment or "?"),
        { application = w.application, application_environment = app.environment })
    end
  end,
}
