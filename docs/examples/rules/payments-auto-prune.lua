-- payments-auto-prune: the payments team's automated apps in staging and prod also prune.
-- Shows match on a list ("any of") and on nested tables (labels, sync_policy).
policy {
  id = "payments-auto-prune",
  description = "Automated payments apps in staging and prod prune removed resources",
  severity = "low",
  match = {
    kind = "application",                     -- required: one entity kind
    environment = { "staging", "prod" },      -- a list: any of these values
    labels = { team = "payments" },           -- a nested table: fields of a nested object
    sync_policy = { automated = true },
  },
  check = function(app)
    if not app.sync_policy.prune then
      return deny("automated sync does not prune")
    end
  end,
}
