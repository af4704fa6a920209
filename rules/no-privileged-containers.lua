-- no-privileged-containers: no container runs privileged, in any environment.
--
-- Why: a privileged container is root on the node: one compromised pod owns the cluster.
-- Category: security. Severity: critical.
policy {
  id = "no-privileged-containers",
  description = "No container runs privileged",
  severity = "critical",
  tags = { "security" },
  match = { kind = "workload" },
  check = function(w)
    local out = {}
    for _, c in ipairs(w.containers or {}) do
      if c.privileged then
        out[#out + 1] = deny(("container %s runs privileged"):format(c.name), { container = c.name, image = c.image })
      end
    end
    return out
  end,
}
