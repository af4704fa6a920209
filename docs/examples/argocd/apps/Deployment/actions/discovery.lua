local actions = {}
actions["restart"] = {["displayName"] = "Restart Pods"}
actions["scale"] = {["params"] = {{["name"] = "replicas", ["default"] = tostring(obj.spec.replicas)}}}
return actions
