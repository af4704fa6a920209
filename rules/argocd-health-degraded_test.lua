test "a Degraded health from a customization is a violation" {
  entities = {
    workload { name = "api", conditions = {
      { type = "ArgoCDHealth", status = "Degraded", reason = "apps/Deployment/health.lua", message = "Deployment exceeded its progress deadline" },
    } },
  },
  expect = { { rule = "argocd-health-degraded", subject = "api",
               message = "Degraded by apps/Deployment/health.lua: Deployment exceeded its progress deadline" } },
}

test "Healthy, Progressing and workloads without the condition pass" {
  entities = {
    workload { name = "ok", conditions = { { type = "ArgoCDHealth", status = "Healthy", reason = "apps/Deployment/health.lua" } } },
    workload { name = "rolling", conditions = { { type = "ArgoCDHealth", status = "Progressing", reason = "x", message = "2 of 3" } } },
    workload { name = "bare" },
  },
  expect = {},
}
