-- resource-requests: every container requests cpu and memory.
--
-- Why: without requests the scheduler packs pods blindly, capacity checks before a deploy mean nothing,
-- and the pod is first to be evicted under pressure. Category: cost / reliability. Severity: medium.
policy {
  id = "resource-requests",
  description = "Containers set cpu and memory requests",
  severity = "medium",
  tags = { "cost", "reliability" },
  match = { kind = "workload" },
  check = function(w)
    local out = {}
    for _, c in ipairs(w.containers or {}) do
      local r = c.requests
      local missing = {}
      if r == nil or r.cpu == nil then missing[#missing + 1] = "cpu" end
      if r == nil or r.memory == nil then missing[#missing + 1] = "memory" end
      if #missing > 0 then
        out[#out + 1] = deny(("container %s has no %s request"):format(c.name, table.concat(missing, " or ")),
          { container = c.name, missing = missing })
      end
    end
    return out
  end,
}
