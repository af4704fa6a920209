local replicas = tonumber(actionParams["replicas"])
if replicas == nil then error("replicas parameter is required", 0) end
if replicas < 0 then error("invalid number: " .. actionParams["replicas"] .. " (must be >= 0)", 0) end
obj.spec.replicas = replicas
return obj
