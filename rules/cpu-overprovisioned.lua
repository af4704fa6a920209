-- cpu-overprovisioned: a workload that requests a core or more but uses under a quarter of it.
--
-- Why: requested cpu is paid for whether used or not, and it blocks other pods from scheduling.
-- Category: cost. Severity: low.
local MIN_REQUEST = 1.0   -- cores: small requests are not worth the noise
local MAX_RATIO = 4       -- requested / used

policy {
  id = "cpu-overprovisioned",
  description = "Workloads do not request far more cpu than they use",
  severity = "low",
  tags = { "cost" },
  match = { kind = "workload" },
  where = function(w) return w.usage ~= nil and w.usage.cpu ~= nil end,
  check = function(w)
    local requested = 0
    for _, c in ipairs(w.containers or {}) do
      if c.requests and c.requests.cpu then requested = requested + c.requests.cpu end
    end
    local used = math.max(w.usage.cpu, 0.001)
    if requested >= MIN_REQUEST and requested / used > MAX_RATIO then
      return deny(("requests %.2f cores but uses %.2f (%.0f×)"):format(requested, used, requested / used),
        { requested_cpu = requested, used_cpu = w.usage.cpu })
    end
  end,
}
