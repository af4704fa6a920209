-- pods-crash-looping: a workload's containers keep crashing or cannot start.
--
-- Why: CrashLoopBackOff (the container exits again and again), OOMKilled (it outgrew its memory limit)
-- and ImagePullBackOff / ErrImagePull (the image can't be pulled) each leave the workload short of
-- replicas while Kubernetes just keeps retrying. The kubernetes provider reports them as workload
-- conditions (type PodWaiting / PodTerminated, reason = Kubernetes' reason). Category: reliability.
-- Severity: high.
local bad = {
  CrashLoopBackOff = "crash-looping", OOMKilled = "killed for memory (OOMKilled)",
  ImagePullBackOff = "unable to pull its image", ErrImagePull = "unable to pull its image",
  CreateContainerConfigError = "misconfigured (CreateContainerConfigError)",
}

policy {
  id = "pods-crash-looping",
  description = "Workload containers run instead of crashing or failing to start",
  severity = "high",
  tags = { "reliability", "kubernetes" },
  match = { kind = "workload" },
  check = function(w)
    local found, seen = {}, {}
    for _, c in ipairs(w.conditions or {}) do
      local what = bad[c.reason or ""]
      if what and (c.type == "PodWaiting" or c.type == "PodTerminated") and not seen[what] then
        seen[what] = true
        found[#found + 1] = what
      end
    end
    if #found > 0 then
      table.sort(found)
      return deny(("pods %s (%d restarts)"):format(table.concat(found, ", "), w.restarts or 0),
        { reasons = found, restarts = w.restarts })
    end
  end,
}
