local normal = { 0.20, 0.22, 0.19, 0.21, 0.20, 0.18, 0.21, 0.20 }

local function then_(a, b)
  local t = {}
  for _, v in ipairs(normal) do t[#t + 1] = v end
  t[#t + 1] = a
  t[#t + 1] = b
  return t
end

test "two slow points in a row fire" {
  entities = {
    workload { name = "orders", environment = "prod" },
    series { id = "series/queue_latency/orders", metric = "queue_latency", subject = "workload/test/orders",
             start = "2026-01-01T00:00:00Z", step_seconds = 60, values = then_(1.5, 1.7) },
  },
  expect = { { type = "anomaly", subject = "orders", message = "queue_latency 1.7 outside the expected" } },
}

test "one slow point does not (sustained = 2)" {
  entities = {
    workload { name = "orders", environment = "prod" },
    series { id = "series/queue_latency/orders", metric = "queue_latency", subject = "workload/test/orders",
             values = then_(1.5, 0.2) },
  },
  expect = {},
}
