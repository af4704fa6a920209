-- run-as-non-root: containers in staging and prod declare runAsNonRoot.
--
-- Why: a process running as root in a container is one kernel bug away from root on the node.
-- Category: security. Severity: medium.
policy {
  id = "run-as-non-root",
  description = "Containers in staging and prod set runAsNonRoot",
  severity = "medium",
  tags = { "security" },
  match = { kind = "workload", environment = { "staging", "prod" } },
  check = function(w)
    local out = {}
    for _, c in ipairs(w.containers or {}) do
      if c.run_as_non_root ~= true then
        out[#out + 1] = deny(("container %s does not set runAsNonRoot"):format(c.name), { container = c.name })
      end
    end
    return out
  end,
}
