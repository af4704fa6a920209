import Foundation
import MeowModel

/// The `server:` section: where `meow serve` listens, its limits and its bearer tokens (docs/api.md).
public struct ServerSettings: Sendable, Equatable {
    /// What a token may do; each role may do what the ones before it may.
    public enum Role: String, Sendable, CaseIterable, Comparable, Codable {
        /// Reads, and dry-runs (validate a rule file, simulate).
        case viewer
        /// Propose actions, reload the rules.
        case `operator`
        /// Approve and reject actions.
        case approver
        /// Pause and resume all actions.
        case admin

        var rank: Int { Self.allCases.firstIndex(of: self)! }
        public static func < (a: Role, b: Role) -> Bool { a.rank < b.rank }
    }

    /// A bearer token: its name is the identity recorded in the ledger (approvals, requests).
    public struct Token: Sendable, Equatable {
        public var name: String
        public var role: Role
        public var secret: String
        public init(name: String, role: Role, secret: String) {
            self.name = name
            self.role = role
            self.secret = secret
        }
    }

    public enum Listen: Sendable, Equatable, CustomStringConvertible {
        case tcp(host: String, port: Int)
        case unix(path: String)

        public var description: String {
            switch self {
            case .tcp(let h, let p): h.contains(":") ? "[\(h)]:\(p)" : "\(h):\(p)"
            case .unix(let path): "unix:\(path)"
            }
        }

        public var isLoopback: Bool {
            switch self {
            case .tcp(let h, _): h == "127.0.0.1" || h == "::1" || h == "localhost" || h.hasPrefix("127.")
            case .unix: true
            }
        }

        /// `HOST:PORT`, `[V6]:PORT`, `:PORT` (127.0.0.1) or `unix:/path`.
        public static func parse(_ text: String) -> Listen? {
            if text.hasPrefix("unix:") {
                let path = String(text.dropFirst(5))
                return path.isEmpty ? nil : .unix(path: path)
            }
            guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
                (0...65535).contains(port)
            else { return nil }
            var host = String(text[..<colon])
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            return .tcp(host: host.isEmpty ? "127.0.0.1" : host, port: port)
        }
    }

    public var listen: Listen = .tcp(host: "127.0.0.1", port: 7070)
    public var tokens: [Token] = []
    /// The role of a request without a token; nil refuses it (401).
    public var anonymous: Role? = .viewer
    public var maxBody = 1 << 20
    public var requestTimeout: TimeInterval = 30
    /// Largest page a list route returns (`limit`).
    public var maxPage = 1000

    public init() {}

    /// Whether `listen` may be used with these tokens: beyond loopback only when every request needs one.
    public func allows(_ listen: Listen) -> Bool { listen.isLoopback || (!tokens.isEmpty && anonymous == nil) }

    /// From the validated `server` value; token secrets are read from the environment variables named.
    static func parse(_ v: Value?, node: ConfigNode?, file: String, environment: [String: String], checkSecrets: Bool)
        -> (ServerSettings, [ConfigError])
    {
        var s = ServerSettings()
        var errors: [ConfigError] = []
        guard let v else { return (s, errors) }
        if let text = v["listen"]?.stringValue {
            if let l = Listen.parse(text) {
                s.listen = l
            } else {
                errors.append(
                    ConfigError(
                        file: file, line: node?["listen"]?.line, path: "server.listen",
                        message: "expected HOST:PORT (127.0.0.1:7070) or unix:/path/to/socket, got \"\(text)\""))
            }
        }
        s.maxBody = v["max_body"]?.intValue.map { Int($0) } ?? s.maxBody
        s.requestTimeout = v["request_timeout"]?.doubleValue ?? s.requestTimeout
        s.maxPage = v["max_page"]?.intValue.map { Int($0) } ?? s.maxPage
        for (i, t) in (v["tokens"]?.arrayValue ?? []).enumerated() {
            guard let name = t["name"]?.stringValue, let role = t["role"]?.stringValue.flatMap(Role.init),
                let env = t["token_env"]?.stringValue
            else { continue }
            let line: Int? = node?["tokens"].flatMap { n in
                if case .sequence(let items) = n.content, i < items.count { return items[i].line }
                return nil
            }
            if s.tokens.contains(where: { $0.name == name }) {
                errors.append(
                    ConfigError(
                        file: file, line: line, path: "server.tokens[\(i)].name", message: "duplicate token name \"\(name)\""))
            }
            let secret = environment[env] ?? ""
            if checkSecrets && secret.count < 16 && !secret.isEmpty {
                errors.append(
                    ConfigError(
                        file: file, line: line, path: "server.tokens[\(i)].token_env",
                        message: "the token in \(env) is \(secret.count) characters; use at least 16 (openssl rand -hex 24)"))
            }
            if checkSecrets, !secret.isEmpty, let other = s.tokens.first(where: { $0.secret == secret }) {
                errors.append(
                    ConfigError(
                        file: file, line: line, path: "server.tokens[\(i)].token_env",
                        message: "token \(name) has the same secret as token \(other.name); each identity needs its own"))
            }
            s.tokens.append(Token(name: name, role: role, secret: secret))
        }
        let anonymous = v["anonymous"]?.stringValue ?? (s.tokens.isEmpty ? "viewer" : "none")
        s.anonymous = Role(rawValue: anonymous)
        if !s.allows(s.listen) {
            errors.append(
                ConfigError(
                    file: file, line: node?["listen"]?.line, path: "server.listen",
                    message:
                        "\(s.listen) is not a loopback address: configure server.tokens and set server.anonymous: none before listening beyond this host"
                ))
        }
        return (s, errors)
    }
}
