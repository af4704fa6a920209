import Foundation
import MeowPlugins
import Testing

@testable import MeowServer

/// Bearer tokens, roles, and the `server:` section's checks.
struct AuthenticatorTests {
    let auth = Authenticator(
        tokens: [
            .init(name: "dash", role: .viewer, secret: "dash-0123456789abcdef"),
            .init(name: "bob", role: .approver, secret: "bob-0123456789abcdef"),
        ], anonymous: nil)

    @Test func tokensGiveTheirNameAndRole() throws {
        #expect(try auth.caller(authorization: "Bearer bob-0123456789abcdef") == Caller(name: "bob", role: .approver))
        #expect(try auth.caller(authorization: "bearer dash-0123456789abcdef") == Caller(name: "dash", role: .viewer))
        #expect(try auth.caller(authorization: nil) == Caller(name: "anonymous", role: nil))
    }

    @Test func badHeadersAreRefusedWith401() {
        for header in ["Bearer nope", "Basic Ym9iOng=", "Bearer", "bob-0123456789abcdef", "Bearer bob-0123456789abcdeF"] {
            #expect(throws: Problem.self, "\(header)") { try auth.caller(authorization: header) }
            do {
                _ = try auth.caller(authorization: header)
            } catch {
                #expect(error.status == 401 && error.headers["WWW-Authenticate"]?.hasPrefix("Bearer realm") == true)
            }
        }
    }

    @Test func rolesAreOrdered() throws {
        try Authenticator.require(.viewer, Caller(name: "bob", role: .approver))
        try Authenticator.require(.approver, Caller(name: "bob", role: .approver))
        do {
            try Authenticator.require(.admin, Caller(name: "bob", role: .approver))
            Issue.record("an approver is not an admin")
        } catch {
            #expect(error.status == 403 && error.detail.contains("needs admin"))
        }
        do {
            try Authenticator.require(.viewer, Caller.anonymous)
            Issue.record("anonymous without a role")
        } catch {
            #expect(error.status == 401)
        }
    }

    @Test func listenAddresses() {
        #expect(ServerSettings.Listen.parse("127.0.0.1:7070") == .tcp(host: "127.0.0.1", port: 7070))
        #expect(ServerSettings.Listen.parse(":8080") == .tcp(host: "127.0.0.1", port: 8080))
        #expect(ServerSettings.Listen.parse("[::1]:7070") == .tcp(host: "::1", port: 7070))
        #expect(ServerSettings.Listen.parse("unix:/run/meow.sock") == .unix(path: "/run/meow.sock"))
        #expect(ServerSettings.Listen.parse("localhost") == nil)
        #expect(ServerSettings.Listen.parse("host:99999") == nil)
        #expect(ServerSettings.Listen.parse("unix:") == nil)
        #expect(ServerSettings.Listen.parse("[::1]:7070")?.isLoopback == true)
        #expect(ServerSettings.Listen.parse("0.0.0.0:7070")?.isLoopback == false)
    }

    func load(_ server: String, env: [String: String] = [:]) throws -> MeowConfig {
        try MeowConfig.parse(
            "providers: [{name: sim, plugin: simulator}]\nserver:\n" + server, file: "/tmp/meow.yaml", environment: env)
    }

    @Test func theServerSectionIsCheckedBeforeStart() throws {
        let ok = try load(
            "  listen: 0.0.0.0:7070\n  tokens:\n    - {name: a, role: admin, token_env: T_A}\n",
            env: ["T_A": "0123456789abcdef0123"])
        #expect(
            ok.server.anonymous == nil && ok.server.tokens == [.init(name: "a", role: .admin, secret: "0123456789abcdef0123")])
        #expect(try load("  listen: 127.0.0.1:7071\n").server.anonymous == .viewer)
        func problems(_ text: String, env: [String: String] = [:]) -> String {
            do {
                _ = try load(text, env: env)
                return ""
            } catch {
                return "\(error)"
            }
        }
        #expect(problems("  listen: 0.0.0.0:7070\n").contains("server.listen: 0.0.0.0:7070 is not a loopback address"))
        #expect(problems("  listen: nowhere\n").contains("/tmp/meow.yaml:3: server.listen: expected HOST:PORT"))
        #expect(problems("  tokens:\n    - {name: a, role: admin, token_env: T_A}\n").contains("T_A is not set"))
        #expect(
            problems("  tokens:\n    - {name: a, role: admin, token_env: T_A}\n", env: ["T_A": "short"]).contains(
                "use at least 16"))
        #expect(
            problems("  tokens:\n    - {name: a, role: boss, token_env: T_A}\n", env: ["T_A": "0123456789abcdef"]).contains(
                "role"))
        let same = "  tokens:\n    - {name: a, role: admin, token_env: T_A}\n    - {name: b, role: viewer, token_env: T_B}\n"
        #expect(problems(same, env: ["T_A": "0123456789abcdef", "T_B": "0123456789abcdef"]).contains("same secret as token a"))
    }
}
