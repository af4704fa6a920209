import Foundation

/// The parts of a kubeconfig meow uses, read the way `kubectl` reads them: a context (the current one
/// unless named) picks a cluster (server, CA file or data, insecure flag) and a user (token, token file,
/// client certificate and key, files or data). Exec credential plugins are refused with a clear message.
struct KubeConfig {
    var server: String
    var caPEM: [UInt8]?
    var insecure: Bool
    var token: String?
    var tokenFile: String?
    var clientCertificatePEM: [UInt8]?
    var clientKeyPEM: [UInt8]?
    var context: String

    static func load(path: String, context wanted: String?) throws -> KubeConfig {
        let root = try ConfigNode.load(path: path)
        let base = URL(fileURLWithPath: path).deletingLastPathComponent()
        func named(_ list: String, _ name: String) -> ConfigNode? {
            guard case .sequence(let items)? = root[list]?.content else { return nil }
            return items.first { $0["name"]?.string == name }
        }
        func bytes(_ node: ConfigNode?, file: String, data: String) throws -> [UInt8]? {
            if let d = node?[data]?.string {
                guard let decoded = Data(base64Encoded: d) else {
                    throw ConfigError(file: path, line: node?[data]?.line, path: data, message: "not base64")
                }
                return Array(decoded)
            }
            if let f = node?[file]?.string {
                let full = f.hasPrefix("/") ? f : base.appendingPathComponent(f).path
                guard let d = FileManager.default.contents(atPath: full) else {
                    throw ConfigError(file: path, line: node?[file]?.line, path: file, message: "cannot read \(full)")
                }
                return Array(d)
            }
            return nil
        }
        guard let name = wanted ?? root["current-context"]?.string else {
            throw ConfigError(
                file: path, line: nil, path: "current-context", message: "no current-context and no context named in meow.yaml")
        }
        guard let context = named("contexts", name)?["context"] else {
            throw ConfigError(file: path, line: nil, path: "contexts", message: "no context named \"\(name)\"")
        }
        guard let clusterName = context["cluster"]?.string, let cluster = named("clusters", clusterName)?["cluster"],
            let server = cluster["server"]?.string
        else {
            throw ConfigError(
                file: path, line: context.line, path: "contexts[\(name)].cluster", message: "its cluster or server is missing")
        }
        let user = context["user"]?.string.flatMap { named("users", $0)?["user"] }
        if user?["exec"] != nil {
            throw ConfigError(
                file: path, line: user?["exec"]?.line, path: "users.user.exec",
                message:
                    "exec credential plugins are not supported yet: give meow a token (token or tokenFile) or a client certificate"
            )
        }
        return KubeConfig(
            server: server, caPEM: try bytes(cluster, file: "certificate-authority", data: "certificate-authority-data"),
            insecure: cluster["insecure-skip-tls-verify"].map { ConfigSchema.plain($0) == .bool(true) } ?? false,
            token: user?["token"]?.string, tokenFile: user?["tokenFile"]?.string,
            clientCertificatePEM: try bytes(user, file: "client-certificate", data: "client-certificate-data"),
            clientKeyPEM: try bytes(user, file: "client-key", data: "client-key-data"), context: name)
    }

    /// The service account of the pod meow runs in.
    static func inCluster() throws -> KubeConfig {
        let env = ProcessInfo.processInfo.environment
        guard let host = env["KUBERNETES_SERVICE_HOST"], let port = env["KUBERNETES_SERVICE_PORT"] else {
            throw ProviderError(.invalid, "in_cluster: KUBERNETES_SERVICE_HOST/PORT are not set (not running in a pod?)")
        }
        let dir = "/var/run/secrets/kubernetes.io/serviceaccount"
        return KubeConfig(
            server: "https://\(host.contains(":") ? "[\(host)]" : host):\(port)",
            caPEM: FileManager.default.contents(atPath: "\(dir)/ca.crt").map { Array($0) }, insecure: false, token: nil,
            tokenFile: "\(dir)/token", context: "in-cluster")
    }
}
