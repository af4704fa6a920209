import AsyncHTTPClient
import Foundation
import MeowModel
import NIOCore

/// Keeps a local copy of one resource (all Deployments, all Pods, ...) the way Kubernetes clients do:
/// LIST (paged with `limit`/`continue`), then WATCH from the list's resourceVersion, applying
/// ADDED/MODIFIED/DELETED and following BOOKMARKs; a watch that ends is resumed from the last
/// resourceVersion; `410 Gone` (the version was compacted away) means LIST again. Errors back off
/// (1 s doubling to 30 s) and are kept for the provider to report.
actor KubernetesInformer {
    let resource: String
    let http: ProviderHTTPClient
    let headers: @Sendable () throws -> [(String, String)]
    let watchTimeout: Int
    private(set) var objects: [String: Value] = [:]
    private(set) var resourceVersion: String?
    private(set) var synced = false
    private(set) var lastError: ProviderError?
    private(set) var lists = 0
    private(set) var watches = 0
    var task: Task<Void, Never>?
    var waiters: [CheckedContinuation<Void, Never>] = []

    init(
        resource: String, http: ProviderHTTPClient, watchTimeout: Int,
        headers: @escaping @Sendable () throws -> [(String, String)]
    ) {
        self.resource = resource
        self.http = http
        self.watchTimeout = watchTimeout
        self.headers = headers
    }

    func start() {
        guard task == nil else { return }
        task = Task { await self.run() }
    }

    func stop() {
        task?.cancel()
        task = nil
        for w in waiters { w.resume() }
        waiters.removeAll()
    }

    /// Waits until the first LIST has completed (or failed).
    func waitForFirstAttempt() async {
        if synced || lastError != nil { return }
        await withCheckedContinuation { waiters.append($0) }
    }

    private func settle() {
        for w in waiters { w.resume() }
        waiters.removeAll()
    }

    static func key(_ o: Value) -> String {
        "\(o["metadata"]?["namespace"]?.stringValue ?? "")/\(o["metadata"]?["name"]?.stringValue ?? "")"
    }

    private func run() async {
        var backoff = 1.0
        var needList = true
        while !Task.isCancelled {
            do {
                if needList {
                    try await list()
                    needList = false
                }
                let gone = try await watch()
                if gone { needList = true }
                backoff = 1
            } catch is CancellationError {
                return
            } catch {
                lastError = (error as? ProviderError) ?? ProviderError(.unavailable, "\(resource): \(error)")
                settle()
                needList = true
                try? await Task.sleep(for: .seconds(backoff))
                backoff = min(30, backoff * 2)
            }
        }
    }

    private func list() async throws {
        var items: [String: Value] = [:]
        var cont: String?
        var version: String?
        repeat {
            var query = [("limit", "500")]
            if let cont { query.append(("continue", cont)) }
            let r = try await http.send(.GET, resource, query: query, headers: try headers())
            try KubernetesProvider.check(r, "GET \(resource)", base: http.baseURL)
            guard let v = try? JSONDecoder().decode(Value.self, from: r.body), let list = v["items"]?.arrayValue else {
                throw ProviderError(.malformed, "GET \(resource): not a Kubernetes list from \(http.baseURL)")
            }
            for o in list { items[Self.key(o)] = o }
            version = v["metadata"]?["resourceVersion"]?.stringValue
            cont = v["metadata"]?["continue"]?.stringValue
            if cont == "" { cont = nil }
        } while cont != nil
        objects = items
        resourceVersion = version
        synced = true
        lastError = nil
        lists += 1
        settle()
    }

    /// One watch request; returns true when the server said 410 Gone.
    private func watch() async throws -> Bool {
        watches += 1
        var request = HTTPClientRequest(
            url: http.baseURL + resource
                + ProviderHTTPClient.queryString([
                    ("watch", "true"), ("resourceVersion", resourceVersion ?? "0"), ("allowWatchBookmarks", "true"),
                    ("timeoutSeconds", String(watchTimeout)),
                ]))
        for (k, v) in try headers() { request.headers.add(name: k, value: v) }
        let response = try await http.client.execute(request, timeout: .seconds(Int64(watchTimeout + 30)))
        guard response.status.code == 200 else {
            let body = try await response.body.collect(upTo: 1 << 20)
            let r = ProviderHTTPClient.Response(
                status: Int(response.status.code), body: Data(body.readableBytesView), headers: [])
            try KubernetesProvider.check(r, "GET \(resource)?watch", base: http.baseURL)
            return false
        }
        var buffer = Data()
        for try await chunk in response.body {
            buffer.append(contentsOf: chunk.readableBytesView)
            while let nl = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[buffer.startIndex..<nl]
                buffer.removeSubrange(buffer.startIndex...nl)
                guard !line.isEmpty, let event = try? JSONDecoder().decode(Value.self, from: Data(line)) else { continue }
                if apply(event) { return true }
            }
        }
        return false
    }

    /// Applies one watch event; true for 410 Gone.
    private func apply(_ event: Value) -> Bool {
        guard let type = event["type"]?.stringValue, let object = event["object"] else { return false }
        switch type {
        case "ADDED", "MODIFIED": objects[Self.key(object)] = object
        case "DELETED": objects[Self.key(object)] = nil
        case "BOOKMARK": break
        case "ERROR": return object["code"]?.intValue == 410
        default: return false
        }
        if let v = object["metadata"]?["resourceVersion"]?.stringValue { resourceVersion = v }
        return false
    }

    var snapshot: (objects: [Value], synced: Bool, error: ProviderError?) {
        (objects.sorted { $0.key < $1.key }.map(\.value), synced, lastError)
    }
}
