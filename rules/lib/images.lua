-- lib/images.lua: helpers for container image references (a module: `require("lib.images")`).
local M = {}

-- The tag of an image reference, or nil when it has none ("repo/x@sha256:..." has a digest instead).
function M.tag(image)
  if image:find("@sha256:", 1, true) then return nil end
  local last = image:match("[^/]+$") or image
  return last:match(":([^:]+)$")
end

-- Pinned: a digest, or a tag that is not "latest".
function M.pinned(image)
  if image:find("@sha256:", 1, true) then return true end
  local tag = M.tag(image)
  return tag ~= nil and tag ~= "latest"
end

return M
