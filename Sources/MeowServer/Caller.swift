import Foundation
import MeowPlugins

/// Who is calling: the token's name and role, or anonymous.
public struct Caller: Sendable, Equatable {
    /// The identity the ledger records (the token's name); `anonymous` without a token.
    public var name: String
    public var role: ServerSettings.Role?

    public static let anonymous = Caller(name: "anonymous", role: nil)
}

/// Bearer-token authentication (RFC 6750) against the tokens of `server.tokens`.
struct Authenticator: Sendable {
    let tokens: [ServerSettings.Token]
    let anonymous: ServerSettings.Role?

    /// The caller of a request with this `Authorization` header. A header with an unknown or malformed
    /// token is refused even where anonymous access is allowed: a typo must not silently downgrade.
    func caller(authorization: String?) throws(Problem) -> Caller {
        guard let header = authorization, !header.isEmpty else {
            return Caller(name: "anonymous", role: anonymous)
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw Self.refusal("expected Authorization: Bearer <token>", error: "invalid_request")
        }
        let given = Array(parts[1].trimmingCharacters(in: .whitespaces).utf8)
        // compare every token in constant time, so the time taken tells nothing about the secret
        var found: ServerSettings.Token?
        for t in tokens where Self.constantTimeEqual(Array(t.secret.utf8), given) && !t.secret.isEmpty {
            found = t
        }
        guard let t = found else { throw Self.refusal("the bearer token is not one of server.tokens", error: "invalid_token") }
        return Caller(name: t.name, role: t.role)
    }

    /// Refuses a caller whose role is below `needed`: 401 without a token, 403 with one.
    static func require(_ needed: ServerSettings.Role, _ caller: Caller) throws(Problem) {
        guard let role = caller.role else {
            throw refusal("this route needs a bearer token with role \(needed.rawValue) or above", error: nil)
        }
        guard role >= needed else {
            throw Problem(
                403, "forbidden",
                "\(caller.name) has role \(role.rawValue); this route needs \(needed.rawValue) or above (server.tokens)")
        }
    }

    static func refusal(_ detail: String, error: String?) -> Problem {
        var p = Problem(401, "unauthorized", detail)
        p.headers["WWW-Authenticate"] = "Bearer realm=\"meow\"" + (error.map { ", error=\"\($0)\"" } ?? "")
        return p
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<max(a.count, b.count) {
            diff |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return diff == 0
    }
}
