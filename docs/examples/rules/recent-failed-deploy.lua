-- recent-failed-deploy: an application whose last deployment failed within the last 24 hours.
-- now() is the evaluation time (the snapshot's observed_at, or --at), never the wall clock.
local WINDOW = 24 * 3600

policy {
  id = "recent-failed-deploy",
  description = "The last deployment did not fail in the last 24 hours",
  severity = "warning",
  tags = { "argocd", "deployments" },
  match = { kind = "application" },
  where = function(app) return app.history ~= nil and #app.history > 0 end,
  check = function(app)
    local last = app.history[#app.history]            -- history is oldest first
    local age = now() - last.deployed_at              -- both in Unix seconds
    if last.outcome == "failed" and age < WINDOW then
      return deny(("deployment of %s failed %.1f hours ago (at %s)"):format(
          last.revision, age / 3600, os.date("%Y-%m-%dT%H:%M:%SZ", last.deployed_at)),
        { revision = last.revision, deployed_at = last.deployed_at, hours_ago = age / 3600 })
    end
  end,
}
