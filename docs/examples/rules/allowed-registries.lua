-- allowed-registries: applications deploy images only from approved registries.
local registries = require("lib.registries")

policy {
  id = "allowed-registries",
  description = "Applications deploy images from approved registries",
  severity = "high",
  tags = { "security" },
  match = { kind = "application", environment = { "staging", "prod" } },
  check = function(app)
    local out = {}
    for _, image in ipairs(app.images or {}) do
      if not registries.allowed(image) then
        out[#out + 1] = deny(("image %s comes from %s"):format(image, registries.registry(image)),
          { image = image, registry = registries.registry(image) })
      end
    end
    return out
  end,
}
