/// The kinds of fault the simulator injects. docs/simulator.md describes the cause, effects and signals of each.
public enum FaultKind: String, Codable, Sendable, CaseIterable {
    /// A Git change breaks the sync: the application goes Degraded, its operation Failed, the main workload crash-loops.
    case badConfigChange = "bad_config_change"
    /// A new revision with an image that cannot be pulled: replicas not ready, application Degraded.
    case imagePullError = "image_pull_error"
    /// The memory series ramps up, then OOM kills restart the pods (the restarts series jumps).
    case memoryLeak = "memory_leak"
    /// The cpu series of one workload spikes (x3..x6).
    case trafficSpike = "traffic_spike"
    /// Cluster contention: DAG task queue_wait and dag_duration grow.
    case nodePressure = "node_pressure"
    /// s3_latency up: dependent DAGs run long, later runs fail.
    case s3Latency = "s3_latency"
    /// db_latency up: dependent DAGs slow down.
    case dbLatency = "db_latency"
    /// One workload's cpu up, its co-located workloads' cpu up a bit.
    case noisyNeighbour = "noisy_neighbour"
    /// A DAG's runs wait for data that does not arrive, then fail.
    case upstreamDataDelay = "upstream_data_delay"
}
