-- prod-pinned-revision: production applications deploy a tag or a commit, not a moving branch.
--
-- Why: with `HEAD` or `main` as target revision, any merge ships to prod, skipping the promotion path
-- dev → staging → prod. Category: compliance. Severity: medium.
local MOVING = { HEAD = true, main = true, master = true, [""] = true }

policy {
  id = "prod-pinned-revision",
  description = "Production apps target a tag or commit, not a branch",
  severity = "medium",
  tags = { "compliance", "argocd" },
  match = { kind = "application", environment = "prod" },
  check = function(app)
    local rev = app.target_revision or "HEAD"
    if MOVING[rev] then
      return deny(("targets the moving revision %q"):format(rev), { target_revision = rev })
    end
  end,
}
