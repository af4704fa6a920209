import Foundation
import MeowModel

/// A stand-in for a Kubernetes API server with the list/watch semantics of the documented API (no
/// kube-apiserver can run here): objects per resource with a global `resourceVersion`; LIST with
/// `limit`/`continue`; WATCH (`?watch=true&resourceVersion=RV`) streaming newline-delimited
/// `{"type": ADDED|MODIFIED|DELETED|BOOKMARK|ERROR, "object": ...}` from RV on, with bookmarks when asked
/// (`allowWatchBookmarks`), ending after `timeoutSeconds`; a resourceVersion older than the compacted
/// history gets `ERROR` with a `Status` of code 410 (Gone), as etcd compaction causes. Bearer-token auth.
public actor KubernetesDouble {
    struct Stored {
        var object: Value
        var rv: Int
    }

    struct Change {
        var resource: String
        var type: String
        var object: Value
        var rv: Int
    }

    /// Objects by resource path (`/apis/apps/v1/deployments`) then `namespace/name`.
    var store: [String: [String: Stored]] = [:]
    var log: [Change] = []
    var rv = 100
    /// Changes at or below this resourceVersion are forgotten (a watch from before it gets 410).
    var compactedTo = 0
    var watchers: [UUID: (resource: String, continuation: AsyncStream<String>.Continuation)] = [:]
    public var tokens: Set<String>
    public private(set) var requests: [DoubleRequest] = []
    var server: LoopbackServer?
    public var bookmarkInterval: Double = 1

    public init(tokens: Set<String> = ["k8s-token"]) { self.tokens = tokens }

    public func start(port: Int = 0) async throws -> Int {
        let s = try await LoopbackServer.start(port: port, tls: nil) { [self] r in await self.respond(r) }
        server = s
        return s.port
    }

    public func stop() async {
        for (_, w) in watchers { w.continuation.finish() }
        watchers.removeAll()
        await server?.stop()
        server = nil
    }

    public var baseURL: String { server?.baseURL ?? "" }
    public var resourceVersion: Int { rv }
    public var openWatches: Int { watchers.count }

    /// The resource path of a kind: `Deployment` → `/apis/apps/v1/deployments`.
    public static func path(of kind: String) -> String {
        switch kind {
        case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet": "/apis/apps/v1/\(kind.lowercased())s"
        case "HorizontalPodAutoscaler": "/apis/autoscaling/v2/horizontalpodautoscalers"
        case "PodMetrics": "/apis/metrics.k8s.io/v1beta1/pods"
        case "Pod", "Node", "Namespace", "Event": "/api/v1/\(kind.lowercased())s"
        default: "/api/v1/\(kind.lowercased())s"
        }
    }

    /// Creates or replaces an object (by kind, namespace, name), bumping resourceVersion and telling
    /// watchers.
    public func apply(_ object: Value) {
        guard case .object(var o) = object, let kind = o["kind"]?.stringValue, case .object(var meta)? = o["metadata"] else {
            return
        }
        let resource = Self.path(of: kind)
        let key = "\(meta["namespace"]?.stringValue ?? "")/\(meta["name"]?.stringValue ?? "")"
        rv += 1
        let existed = store[resource]?[key] != nil
        meta["resourceVersion"] = .string(String(rv))
        if meta["uid"] == nil { meta["uid"] = .string(UUID().uuidString.lowercased()) }
        o["metadata"] = .object(meta)
        store[resource, default: [:]][key] = Stored(object: .object(o), rv: rv)
        emit(Change(resource: resource, type: existed ? "MODIFIED" : "ADDED", object: .object(o), rv: rv))
    }

    public func delete(kind: String, namespace: String?, name: String) {
        let resource = Self.path(of: kind)
        let key = "\(namespace ?? "")/\(name)"
        guard var stored = store[resource]?[key] else { return }
        rv += 1
        store[resource]![key] = nil
        if case .object(var o) = stored.object, case .object(var meta)? = o["metadata"] {
            meta["resourceVersion"] = .string(String(rv))
            o["metadata"] = .object(meta)
            stored.object = .object(o)
        }
        emit(Change(resource: resource, type: "DELETED", object: stored.object, rv: rv))
    }

    public func object(kind: String, namespace: String?, name: String) -> Value? {
        store[Self.path(of: kind)]?["\(namespace ?? "")/\(name)"]?.object
    }

    /// Forgets the change history (etcd compaction): watches from an older resourceVersion get 410.
    public func compact() {
        compactedTo = rv
        log.removeAll()
    }

    /// Ends every open watch (an API server restart, a load balancer timeout): clients must re-watch.
    public func dropWatches() {
        for (_, w) in watchers { w.continuation.finish() }
        watchers.removeAll()
    }

    /// While partitioned, watchers receive nothing (the network between client and server is down).
    public func partition(_ on: Bool) { partitioned = on }
    var partitioned = false

    func emit(_ c: Change) {
        log.append(c)
        if partitioned { return }
        let line = Value.object(["type": .string(c.type), "object": c.object]).jsonString() + "\n"
        for (_, w) in watchers where w.resource == c.resource { w.continuation.yield(line) }
    }

    func removeWatcher(_ id: UUID) { watchers[id] = nil }

    static func status(_ code: Int, _ reason: String, _ message: String) -> DoubleResponse {
        .json(
            .object([
                "kind": .string("Status"), "apiVersion": .string("v1"), "metadata": .object([:]), "status": .string("Failure"),
                "message": .string(message), "reason": .string(reason), "code": .int(Int64(code)),
            ]), status: code)
    }

    func respond(_ r: DoubleRequest) async -> DoubleResponse {
        requests.append(r)
        if r.path == "/version" {
            return .json(.object(["major": .string("1"), "minor": .string("30"), "gitVersion": .string("v1.30.4")]))
        }
        guard let auth = r.authorization, auth.hasPrefix("Bearer "), tokens.contains(String(auth.dropFirst(7))) else {
            return Self.status(401, "Unauthorized", "Unauthorized")
        }
        // /api/v1/namespaces/{ns}/{resource}/{name}[/scale] or /apis/{group}/{version}/namespaces/...
        var parts = r.path.split(separator: "/").map(String.init)
        let prefixCount = parts.first == "api" ? 2 : 3
        guard parts.count > prefixCount else {
            return Self.status(404, "NotFound", "the server could not find the requested resource")
        }
        let prefix = "/" + parts[0..<prefixCount].joined(separator: "/")
        parts.removeFirst(prefixCount)
        var namespace: String?
        if parts.count >= 3, parts[0] == "namespaces" {
            namespace = parts[1]
            parts.removeFirst(2)
        }
        let resource = "\(prefix)/\(parts[0])"
        if resource.hasPrefix("/apis/metrics.k8s.io/"), (store[resource] ?? [:]).isEmpty {
            return Self.status(404, "NotFound", "the server could not find the requested resource")  // no metrics-server
        }
        if parts.count == 1 && r.method == "GET" {
            var items = (store[resource] ?? [:]).sorted { $0.key < $1.key }.map(\.value)
            if let namespace { items = items.filter { $0.object["metadata"]?["namespace"]?.stringValue == namespace } }
            if ["true", "1"].contains(r.parameter("watch") ?? "") { return watch(resource, r) }
            let offset = Int(r.parameter("continue") ?? "") ?? 0
            let limit = Int(r.parameter("limit") ?? "") ?? 0
            let page = limit > 0 ? Array(items.dropFirst(offset).prefix(limit)) : items
            var meta: [String: Value] = ["resourceVersion": .string(String(rv))]
            if limit > 0, offset + page.count < items.count {
                meta["continue"] = .string(String(offset + page.count))
                meta["remainingItemCount"] = .int(Int64(items.count - offset - page.count))
            }
            return .json(
                .object([
                    "kind": .string("List"), "apiVersion": .string("v1"), "metadata": .object(meta),
                    "items": .array(page.map(\.object)),
                ]))
        }
        guard parts.count >= 2, let namespace else {
            return Self.status(404, "NotFound", "the server could not find the requested resource")
        }
        let key = "\(namespace)/\(parts[1])"
        guard let stored = store[resource]?[key] else {
            return Self.status(404, "NotFound", "\(parts[0]).\(prefix.contains("apps") ? "apps" : "") \"\(parts[1])\" not found")
        }
        guard r.method == "PATCH" else { return .json(stored.object) }
        guard let patch = try? JSONDecoder().decode(Value.self, from: r.body) else {
            return Self.status(400, "BadRequest", "the body of the request was in an unknown format")
        }
        // merge-patch (RFC 7386) of the object, or of its /scale subresource (spec.replicas)
        var merged = Self.merge(stored.object, patch)
        if parts.count == 3 && parts[2] == "scale" {
            guard let replicas = patch["spec"]?["replicas"] else {
                return Self.status(422, "Invalid", "spec.replicas is required")
            }
            merged = Self.merge(stored.object, .object(["spec": .object(["replicas": replicas])]))
        }
        apply(merged)
        return .json(object(kind: merged["kind"]?.stringValue ?? "", namespace: namespace, name: parts[1]) ?? merged)
    }

    /// RFC 7386 JSON merge patch.
    public static func merge(_ target: Value, _ patch: Value) -> Value {
        guard case .object(let p) = patch else { return patch }
        var t = target.objectValue ?? [:]
        for (k, v) in p {
            if v == .null { t[k] = nil } else { t[k] = merge(t[k] ?? .null, v) }
        }
        return .object(t)
    }

    func watch(_ resource: String, _ r: DoubleRequest) -> DoubleResponse {
        let from = Int(r.parameter("resourceVersion") ?? "") ?? rv
        let timeout = Double(r.parameter("timeoutSeconds") ?? "") ?? 30
        let (stream, continuation) = AsyncStream.makeStream(of: String.self)
        if from < compactedTo {
            let gone = Value.object([
                "type": .string("ERROR"),
                "object": .object([
                    "kind": .string("Status"), "apiVersion": .string("v1"), "status": .string("Failure"),
                    "message": .string("too old resource version: \(from) (\(compactedTo))"), "reason": .string("Expired"),
                    "code": .int(410),
                ]),
            ])
            continuation.yield(gone.jsonString() + "\n")
            continuation.finish()
            return DoubleResponse(status: 200, body: "", stream: stream)
        }
        for c in log where c.resource == resource && c.rv > from {
            continuation.yield(Value.object(["type": .string(c.type), "object": c.object]).jsonString() + "\n")
        }
        let id = UUID()
        watchers[id] = (resource, continuation)
        let bookmarks = ["true", "1"].contains(r.parameter("allowWatchBookmarks") ?? "")
        let interval = bookmarkInterval
        Task { [weak self] in
            let end = Date().addingTimeInterval(timeout)
            while Date() < end {
                try? await Task.sleep(for: .seconds(min(interval, max(0.01, end.timeIntervalSinceNow))))
                guard let self, await self.watchers[id] != nil else { return }
                if bookmarks, let current = await Optional(self.rv) {
                    continuation.yield(
                        Value.object([
                            "type": .string("BOOKMARK"),
                            "object": .object([
                                "kind": .string("Bookmark"), "metadata": .object(["resourceVersion": .string(String(current))]),
                            ]),
                        ]).jsonString() + "\n")
                }
            }
            continuation.finish()
            await self?.removeWatcher(id)
        }
        return DoubleResponse(status: 200, body: "", stream: stream)
    }
}
