-- owner-label: every application names its owning team (label `owner` or `meow.io/owner`).
--
-- Why: at 3 a.m. the page must reach someone; incidents route by owner. Category: compliance.
-- Severity: low.
policy {
  id = "owner-label",
  description = "Applications carry an owner label",
  severity = "low",
  tags = { "compliance" },
  match = { kind = "application" },
  check = function(app)
    local owner = app.labels.owner or app.labels["meow.io/owner"] or app.owner
    if owner == nil or owner == "" then
      return deny("no owner label (set labels.owner or meow.io/owner)")
    end
  end,
}
