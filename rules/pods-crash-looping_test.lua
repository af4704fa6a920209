test "crash-looping and OOMKilled pods are a violation" {
  entities = {
    workload { name = "api", restarts = 7, conditions = {
      { type = "Available", status = "True" },
      { type = "PodWaiting", status = "True", reason = "CrashLoopBackOff", message = "pod api-1" },
      { type = "PodTerminated", status = "True", reason = "OOMKilled", message = "pod api-1" },
      { type = "PodWaiting", status = "True", reason = "CrashLoopBackOff", message = "pod api-2" },
    } },
  },
  expect = { { rule = "pods-crash-looping", subject = "api",
               message = "pods crash-looping, killed for memory (OOMKilled) (7 restarts)" } },
}

test "an image that can't be pulled is a violation" {
  entities = { workload { name = "web", conditions = { { type = "PodWaiting", status = "True", reason = "ImagePullBackOff" } } } },
  expect = { { rule = "pods-crash-looping", subject = "web", message = "pods unable to pull its image (0 restarts)" } },
}

test "healthy workloads and other conditions pass" {
  entities = {
    workload { name = "ok", restarts = 0, conditions = { { type = "Available", status = "True", reason = "MinimumReplicasAvailable" } } },
    workload { name = "starting", conditions = { { type = "PodWaiting", status = "True", reason = "ContainerCreating" } } },
    workload { name = "bare" },
  },
  expect = {},
}
