-- A health check in Argo CD's style: Progressing until every updated replica is available.
local hs = {}
if obj.metadata.generation ~= nil and obj.status.observedGeneration ~= nil
    and obj.metadata.generation > obj.status.observedGeneration then
  hs.status = "Progressing"
  hs.message = "Waiting for rollout to finish: observed deployment generation less than desired generation"
  return hs
end
local available = obj.status.availableReplicas or 0
if available < obj.spec.replicas then
  hs.status = "Progressing"
  hs.message = "Waiting for rollout to finish: " .. tostring(available) .. " of " .. tostring(obj.spec.replicas) .. " updated replicas are available..."
  return hs
end
hs.status = "Healthy"
hs.message = ""
return hs
