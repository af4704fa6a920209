import Foundation
import MeowModel

/// An RFC 9457 problem: every error the API returns, as `application/problem+json`.
///
///     {"type": "urn:meow:problem:not-found", "title": "Not Found", "status": 404,
///      "detail": "no application application/sim/nope", "instance": "/v1/applications/application/sim/nope"}
public struct Problem: Error, Sendable, Equatable {
    public var status: Int
    /// A short slug: `not-found`, `unauthorized`, `four-eyes`, ... (the type is `urn:meow:problem:<slug>`).
    public var slug: String
    public var detail: String
    /// Field-level problems of a request body or query (`field`, `message`).
    public var errors: [[String: String]] = []
    /// Extra headers (`WWW-Authenticate`, `Retry-After`).
    public var headers: [String: String] = [:]

    public init(_ status: Int, _ slug: String, _ detail: String, errors: [[String: String]] = []) {
        self.status = status
        self.slug = slug
        self.detail = detail
        self.errors = errors
    }

    public static func badRequest(_ detail: String, field: String? = nil) -> Problem {
        Problem(400, "bad-request", detail, errors: field.map { [["field": $0, "message": detail]] } ?? [])
    }
    public static func notFound(_ detail: String) -> Problem { Problem(404, "not-found", detail) }
    public static func unprocessable(_ detail: String, field: String? = nil) -> Problem {
        Problem(422, "invalid", detail, errors: field.map { [["field": $0, "message": detail]] } ?? [])
    }

    public static let titles: [Int: String] = [
        400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
        409: "Conflict", 413: "Content Too Large", 415: "Unsupported Media Type", 422: "Unprocessable Content",
        500: "Internal Server Error", 503: "Service Unavailable", 504: "Gateway Timeout",
    ]

    public func body(instance: String) -> Value {
        var o: [String: Value] = [
            "type": .string("urn:meow:problem:\(slug)"), "title": .string(Self.titles[status] ?? "Error"),
            "status": .int(Int64(status)), "detail": .string(detail), "instance": .string(instance),
        ]
        if !errors.isEmpty {
            o["errors"] = .array(errors.map { .object($0.mapValues { .string($0) }) })
        }
        return .object(o)
    }
}

extension Value {
    /// Compact JSON with sorted keys through `JSONWriter` (Foundation's encoder is several times slower).
    var compactJSON: String {
        var w = JSONWriter(capacity: 1024)
        w.value(self)
        return String(decoding: w.bytes, as: UTF8.self)
    }
}
