-- lib/registries.lua: image registry helpers, loaded with require("lib.registries").
local M = {}

M.ALLOWED = { ["registry.example.com"] = true, ["ghcr.io"] = true }

-- The registry host of an image reference; "docker.io" when the first path part is not a host.
function M.registry(image)
  local first = image:match("^([^/]+)/")
  if first and (first:find(".", 1, true) or first:find(":", 1, true) or first == "localhost") then
    return first
  end
  return "docker.io"
end

function M.allowed(image)
  return M.ALLOWED[M.registry(image)] == true
end

return M
