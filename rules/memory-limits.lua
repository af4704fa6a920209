-- memory-limits: containers in staging and prod set a memory limit.
--
-- Why: a leak without a limit takes the node down with it instead of one pod restarting.
-- Category: reliability / cost. Severity: medium.
policy {
  id = "memory-limits",
  description = "Containers in staging and prod set a memory limit",
  severity = "medium",
  tags = { "reliability", "cost" },
  match = { kind = "workload", environment = { "staging", "prod" } },
  check = function(w)
    local out = {}
    for _, c in ipairs(w.containers or {}) do
      if c.limits == nil or c.limits.memory == nil then
        out[#out + 1] = deny(("container %s has no memory limit"):format(c.name), { container = c.name })
      elseif c.requests and c.requests.memory and c.limits.memory < c.requests.memory then
        out[#out + 1] = deny(("container %s: memory limit below its request"):format(c.name),
          { container = c.name, request = c.requests.memory, limit = c.limits.memory })
      end
    end
    return out
  end,
}
