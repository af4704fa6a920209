-- scale-on-cpu-saturation: propose one more replica when a workload has used more than 120% of the cpu
-- it requests for the last 3 points of its cpu series (sustained saturation, not a blip).
--
-- A proposal only: the action pipeline decides (mode approve: a human confirms). Category: self-healing.
local SATURATION = 1.2
local POINTS = 3

local function requested_cpu(w)
  local total = 0
  for _, c in ipairs(w.containers or {}) do
    if c.requests and c.requests.cpu then total = total + c.requests.cpu end
  end
  return total
end

remediation {
  id = "scale-on-cpu-saturation",
  description = "Scale out a cpu-saturated workload",
  match = { kind = "workload", workload_kind = "Deployment" },
  when = function(w)
    local cpu = w.series.cpu
    local requested = requested_cpu(w)
    if cpu == nil or #cpu.values < POINTS or requested == 0 then return false end
    local n = #cpu.values
    for i = n - POINTS + 1, n do
      if cpu.values[i] <= SATURATION * requested then return false end
    end
    return ("cpu %.2f of %.2f requested"):format(cpu.values[n], requested)
  end,
  action = "kubernetes.scale",
  params = function(w) return { replicas = (w.replicas and w.replicas.desired or 1) + 1 } end,
  mode = "approve",
  cooldown = "30m",
  limit = { per_hour = 4 },
}
