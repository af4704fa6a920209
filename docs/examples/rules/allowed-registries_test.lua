test "images from Docker Hub are violations, one per image" {
  entities = {
    application { name = "pay", environment = "prod", images = {
      "registry.example.com/pay/api:v1.2.0",
      "nginx:1.27",
      "bitnami/redis:7.2",
    } },
  },
  expect = {
    { subject = "pay", message = "image nginx:1.27 comes from docker.io" },
    { subject = "pay", message = "image bitnami/redis:7.2 comes from docker.io" },
  },
}

test "approved registries pass; dev is not checked" {
  entities = {
    application { name = "pay", environment = "prod", images = { "ghcr.io/example/pay:v1" } },
    application { name = "web", environment = "dev", images = { "nginx:latest" } },
  },
  expect = {},
}
