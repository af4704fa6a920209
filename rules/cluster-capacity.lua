-- cluster-capacity: clusters keep headroom for rollouts and failover: requested cpu and memory stay
-- under 85% of allocatable.
--
-- Why: a rolling update needs room for surge pods; a node loss needs room to reschedule.
-- Category: reliability / cost. Severity: warning.
local THRESHOLD = 0.85

policy {
  id = "cluster-capacity",
  description = "Clusters keep 15% cpu and memory headroom",
  severity = "warning",
  tags = { "reliability", "capacity" },
  match = { kind = "cluster" },
  where = function(c) return c.capacity ~= nil end,
  check = function(c)
    local cap, out = c.capacity, {}
    for _, r in ipairs({ "cpu", "memory" }) do
      local alloc, req = cap[r .. "_allocatable"], cap[r .. "_requested"]
      if alloc and req and alloc > 0 and req / alloc > THRESHOLD then
        out[#out + 1] = deny(("%s requests at %.0f%% of allocatable"):format(r, 100 * req / alloc),
          { resource = r, requested = req, allocatable = alloc })
      end
    end
    return out
  end,
}
