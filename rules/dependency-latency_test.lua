local base = { 0.05, 0.06, 0.05, 0.04, 0.05, 0.06, 0.05, 0.05, 0.04, 0.06 }

local function plus(a, b)
  local t = {}
  for _, v in ipairs(base) do t[#t + 1] = v end
  t[#t + 1] = a
  t[#t + 1] = b
  return t
end

test "s3 latency five times the usual, twice, is an anomaly" {
  entities = {
    series { id = "series/s3_latency/prod", metric = "s3_latency", subject = "dependency/prod/s3", values = plus(0.3, 0.35) },
  },
  expect = { { type = "anomaly", subject = "series/s3_latency/prod", severity = "high" } },
}

test "other metrics and normal latency are quiet" {
  entities = {
    series { id = "series/db_latency/prod", metric = "db_latency", subject = "dependency/prod/db", values = plus(0.05, 0.06) },
    series { id = "series/cpu/x", metric = "cpu", subject = "workload/x", values = plus(9, 9) },
  },
  expect = {},
}
