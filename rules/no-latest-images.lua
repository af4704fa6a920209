-- no-latest-images: containers in staging and prod run pinned images (a tag other than `latest`, or a
-- digest).
--
-- Why: `:latest` (or no tag) makes a rollback impossible to reason about and lets a registry push change
-- what runs without a Git change. Category: security / compliance. Severity: high.
local images = require("lib.images")

policy {
  id = "no-latest-images",
  description = "Images in staging and prod are pinned to a tag or digest",
  severity = "high",
  tags = { "security", "compliance" },
  match = { kind = "workload", environment = { "staging", "prod" } },
  check = function(w)
    local out = {}
    for _, c in ipairs(w.containers or {}) do
      if c.image and not images.pinned(c.image) then
        out[#out + 1] = deny(("container %s runs unpinned image %s"):format(c.name, c.image), { container = c.name, image = c.image })
      end
    end
    return out
  end,
}
