test "latest tag in prod is a violation" {
  entities = {
    workload { name = "api", environment = "prod", containers = { { name = "main", image = "registry/x/api:latest" } } },
  },
  expect = { { subject = "api", message = "unpinned image registry/x/api:latest" } },
}

test "an image without a tag is a violation, one per container" {
  entities = {
    workload { name = "api", environment = "staging", containers = {
      { name = "main", image = "registry:5000/x/api" },
      { name = "sidecar", image = "envoy:latest" },
      { name = "ok", image = "envoy:1.31.2" },
    } },
  },
  expect = {
    { subject = "api", message = "container main" },
    { subject = "api", message = "container sidecar" },
  },
}

test "tags and digests pass; dev is not checked" {
  entities = {
    workload { name = "a", environment = "prod", containers = { { name = "main", image = "registry:5000/x/api:v1.2.3" } } },
    workload { name = "b", environment = "prod", containers = { { name = "main", image = "x/api@sha256:abc123" } } },
    workload { name = "c", environment = "dev", containers = { { name = "main", image = "x/api:latest" } } },
    workload { name = "d", environment = "prod" },
  },
  expect = {},
}
