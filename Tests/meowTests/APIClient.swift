import AsyncHTTPClient
import Foundation
import MeowModel
import MeowTesting
import NIOCore
import NIOHTTP1
import Testing

/// Calls a running `meow serve` over real HTTP (loopback), and records every answer with its route
/// template for the OpenAPI check (`scripts/openapi-check.py`).
final class APIClient: @unchecked Sendable {
    struct Answer {
        var status: Int
        var headers: HTTPHeaders
        var body: Data
        var json: Value? { try? JSONDecoder().decode(Value.self, from: body) }
        var contentType: String { headers.first(name: "content-type") ?? "" }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    let base: String
    let client = HTTPClient(eventLoopGroupProvider: .singleton)
    private let lock = NSLock()
    private var recorded: [Value] = []

    init(base: String) { self.base = base }

    deinit { try? client.syncShutdown() }

    /// `template` is the OpenAPI path the call exercises (`/v1/applications/{id}`); `path` the real one.
    @discardableResult
    func call(
        _ method: HTTPMethod = .GET, _ template: String, path: String? = nil, token: String? = nil, body: Data? = nil,
        contentType: String? = "application/json", headers: [String: String] = [:], record: Bool = true
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: base + (path ?? template))
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        if let body {
            if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await client.execute(request, timeout: .seconds(60))
        let buffer = try await response.body.collect(upTo: 64 << 20)
        let answer = Answer(status: Int(response.status.code), headers: response.headers, body: Data(buffer: buffer))
        let isJSON = answer.contentType.contains("json")
        guard record else { return answer }
        lock.withLock {
            recorded.append(
                [
                    "method": .string(method.rawValue), "path": .string(template), "status": .int(Int64(answer.status)),
                    "content_type": .string(answer.contentType), "body": isJSON ? (answer.json ?? .null) : .null,
                ])
        }
        return answer
    }

    func json(_ method: HTTPMethod = .POST, _ template: String, path: String? = nil, token: String?, _ body: Value) async throws
        -> Answer
    {
        try await call(method, template, path: path, token: token, body: Data(body.jsonString().utf8))
    }

    /// Writes what was recorded as the checker's input.
    func writeRecorded(to url: URL) throws {
        try Data(Value.array(lock.withLock { recorded }).jsonString().utf8).write(to: url)
    }

    var recordedCount: Int { lock.withLock { recorded.count } }

    /// Reads a server-sent event stream until `count` events (not comments) arrived or `timeout` passed.
    func events(
        path: String = "/v1/events", token: String?, lastEventID: String? = nil, count: Int, timeout: TimeInterval
    ) async throws -> (status: Int, contentType: String, events: [(id: String, type: String, data: Value?)]) {
        var request = HTTPClientRequest(url: base + path)
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let lastEventID { request.headers.add(name: "Last-Event-ID", value: lastEventID) }
        let response = try await client.execute(request, timeout: .seconds(Int64(timeout) + 5))
        let status = Int(response.status.code)
        let type = response.headers.first(name: "content-type") ?? ""
        var events: [(id: String, type: String, data: Value?)] = []
        let body = response.body
        try await withThrowingTaskGroup(of: Void.self) { group in
            let collected = Collected()
            group.addTask {
                var text = ""
                for try await chunk in body {
                    text += String(buffer: chunk)
                    while let end = text.range(of: "\n\n") {
                        let block = String(text[..<end.lowerBound])
                        text = String(text[end.upperBound...])
                        var id = "", type = "message", data = ""
                        for line in block.split(separator: "\n") {
                            if line.hasPrefix("id: ") { id = String(line.dropFirst(4)) }
                            if line.hasPrefix("event: ") { type = String(line.dropFirst(7)) }
                            if line.hasPrefix("data: ") { data = String(line.dropFirst(6)) }
                        }
                        if !id.isEmpty {
                            collected.append((id, type, try? JSONDecoder().decode(Value.self, from: Data(data.utf8))))
                        }
                        if collected.count >= count { return }
                    }
                }
            }
            group.addTask { try await Task.sleep(for: .seconds(timeout)) }
            _ = try await group.next()
            group.cancelAll()
            events = collected.all
        }
        return (status, type, events)
    }

    final class Collected: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [(id: String, type: String, data: Value?)] = []
        func append(_ e: (String, String, Value?)) { lock.withLock { items.append(e) } }
        var count: Int { lock.withLock { items.count } }
        var all: [(id: String, type: String, data: Value?)] { lock.withLock { items } }
    }
}

/// Waits until `check` is true (every 0.2 s, at most `timeout` seconds); records `what` and throws when it
/// never is.
func eventually(_ what: @autoclosure () -> String, timeout: TimeInterval = 120, _ check: () async throws -> Bool) async throws {
    if try await MeowTesting.eventually(timeout, every: 0.2, check) { return }
    Issue.record("timed out after \(Int(timeout))s waiting for: \(what())")
    throw CancellationError()
}
