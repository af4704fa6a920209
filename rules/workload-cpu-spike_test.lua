local flat = { 1.0, 1.1, 0.9, 1.0, 1.05, 0.95, 1.0, 1.1, 0.9, 1.0 }

local function with(...)
  local t = {}
  for _, v in ipairs(flat) do t[#t + 1] = v end
  for _, v in ipairs({ ... }) do t[#t + 1] = v end
  return t
end

test "a sustained spike is an anomaly" {
  entities = {
    workload { name = "api" },
    series { id = "series/cpu/api", metric = "cpu", subject = "workload/test/api", start = "2026-01-01T00:00:00Z", step_seconds = 300, values = with(4.0, 4.2) },
  },
  expect = { { type = "anomaly", subject = "api", message = "cpu 4.2 outside the expected" } },
}

test "a single blip is not (sustained = 2)" {
  entities = {
    workload { name = "api" },
    series { id = "series/cpu/api", metric = "cpu", subject = "workload/test/api", values = with(4.0, 1.0) },
  },
  expect = {},
}

test "a drop is not a spike, and no series means nothing to judge" {
  entities = {
    workload { name = "api" },
    workload { name = "idle" },
    series { id = "series/cpu/api", metric = "cpu", subject = "workload/test/api", values = with(0.1, 0.1) },
  },
  expect = {},
}
