-- prod-criticality-label: production applications declare their criticality
-- (label `meow.io/criticality`: low, medium, high or critical).
--
-- Why: deployment advice (canary vs rolling) and paging urgency depend on it. Category: compliance.
-- Severity: low.
local LEVELS = { low = true, medium = true, high = true, critical = true }

policy {
  id = "prod-criticality-label",
  description = "Production apps declare meow.io/criticality",
  severity = "low",
  tags = { "compliance" },
  match = { kind = "application", environment = "prod" },
  check = function(app)
    local c = app.labels["meow.io/criticality"] or app.criticality
    if c == nil then return deny("no meow.io/criticality label") end
    if not LEVELS[c] then
      return deny(("criticality %q is not one of low, medium, high, critical"):format(c), { criticality = c })
    end
  end,
}
