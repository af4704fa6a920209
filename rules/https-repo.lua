-- https-repo: applications pull from Git over HTTPS or SSH.
--
-- Why: plain http lets anyone on the path change what gets deployed. Category: security. Severity: high.
policy {
  id = "https-repo",
  description = "Application sources use https:// or ssh",
  severity = "high",
  tags = { "security", "argocd" },
  match = { kind = "application" },
  where = function(app) return app.repo ~= nil end,
  check = function(app)
    local repo = app.repo
    if repo:match("^https://") or repo:match("^ssh://") or repo:match("^git@") then return nil end
    return deny(("source repository %s is not fetched over https or ssh"):format(repo), { repo = repo })
  end,
}
