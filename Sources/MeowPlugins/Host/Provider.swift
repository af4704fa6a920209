import Foundation
import Logging
import MeowModel

/// One configured instance of a plugin: `argocd-prod`, `argocd-staging`, `simulator`.
///
/// Providers observe; they never decide (DESIGN §1). `observe()` returns everything the instance sees
/// now; the runtime calls it on a jittered interval, under a timeout, with backoff and a circuit breaker,
/// and stamps nothing itself: entities carry `provider` (the instance name) and `observed_at`.
public protocol Provider: Sendable {
    /// The instance name from meow.yaml (`providers[].name`).
    var name: String { get }
    /// The plugin's manifest.
    var manifest: PluginManifest { get }
    /// One observation of everything this instance sees. Throwing marks its entities stale.
    func observe() async throws -> Observation
    /// Runs one of the manifest's actions on a subject (an entity id). The action pipeline calls this.
    func perform(_ request: ActionRequest) async throws -> ActionOutcome
    /// After a crash between "executing" and the recorded result: did this request take effect? The
    /// pipeline asks instead of repeating the call blindly. The default cannot tell (`unknown`), which
    /// leaves the action for a person to check.
    func reconcile(_ request: ActionRequest) async -> ReconcileVerdict
    /// A quick check that the instance answers and the credentials work (`meow config validate
    /// --connect`). The default runs one observation.
    func checkHealth() async -> ProviderHealth
    /// Releases connections. Called once when the runtime stops.
    func shutdown() async
}

extension Provider {
    public func shutdown() async {}

    public func reconcile(_ request: ActionRequest) async -> ReconcileVerdict {
        .unknown("\(manifest.name) cannot tell whether \(request.action) on \(request.subject) took effect; check it by hand")
    }

    public func checkHealth() async -> ProviderHealth {
        do {
            let o = try await observe()
            return ProviderHealth(ok: true, message: "observed \(o.entities.count) entities")
        } catch {
            return ProviderHealth(ok: false, message: "\(error)")
        }
    }
}

/// The answer of `checkHealth()`.
public struct ProviderHealth: Sendable, Codable, Equatable {
    public var ok: Bool
    public var message: String

    public init(ok: Bool, message: String) {
        self.ok = ok
        self.message = message
    }
}

/// What one `observe()` returned.
public struct Observation: Sendable {
    public var entities: [Entity]
    /// Things the user should know that did not fail the observation (a revision whose metadata could
    /// not be read, a truncated page, ...).
    public var warnings: [String]

    public init(entities: [Entity], warnings: [String] = []) {
        self.entities = entities
        self.warnings = warnings
    }
}

/// An action to run through a provider: the name from the manifest, its subject and parameters.
public struct ActionRequest: Sendable, Codable, Equatable {
    public var action: String
    /// Entity id: `application/argocd-prod/payments-api`.
    public var subject: String
    public var params: [String: Value]
    /// The pipeline's idempotency key, when the action pipeline sends it (providers that can attach it to
    /// the call, or record it, use it to answer `reconcile`).
    public var key: String?
    /// When the pipeline started the execution (recorded before the call).
    public var startedAt: Date?

    public init(action: String, subject: String, params: [String: Value] = [:], key: String? = nil, startedAt: Date? = nil) {
        self.action = action
        self.subject = subject
        self.params = params
        self.key = key
        self.startedAt = startedAt
    }
}

extension ActionRequest {
    /// A name derived from the idempotency key (`meow__` and 16 hex digits of its FNV-1a hash), for
    /// providers that can name what they create (an Airflow run id): the same action, the same name.
    public var keyName: String? {
        guard let key else { return nil }
        return "meow__" + FNV1a.hex(key)
    }
}

/// The answer of `Provider.reconcile`.
public enum ReconcileVerdict: Sendable, Equatable {
    /// It took effect (with what shows it).
    case done(String)
    /// It did not: executing it now is not a repetition.
    case notDone(String)
    /// The provider cannot tell.
    case unknown(String)
}

/// What an action did, as the provider reported it.
public struct ActionOutcome: Sendable, Codable, Equatable {
    public var ok: Bool
    public var message: String
    /// The provider's response, trimmed to what matters (operation phase, revision, ...).
    public var details: Value

    public init(ok: Bool, message: String, details: Value = .object([:])) {
        self.ok = ok
        self.message = message
        self.details = details
    }
}

/// A provider failure, with what to tell the user.
public struct ProviderError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable, Codable {
        /// 401: the credentials were refused.
        case unauthorized
        /// 403: the credentials may not do this.
        case forbidden
        /// 404.
        case notFound = "not_found"
        /// 5xx, connection refused, reset.
        case unavailable
        /// The call took longer than the timeout.
        case timeout
        /// The response could not be understood.
        case malformed
        /// The request was wrong (4xx other than the above), or an unknown action or parameter.
        case invalid
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// The error for a non-2xx HTTP answer (nil for 2xx), shared by the HTTP providers: 401 unauthorized,
    /// 403 forbidden, 404 not found, 408/429/5xx unavailable, other 4xx invalid. `said` is the server's own
    /// message; the hints say what to check.
    public static func forStatus(
        _ status: Int, _ label: String, base: String, said: String?, unauthorizedHint: String, forbiddenHint: String
    ) -> ProviderError? {
        guard !(200..<300).contains(status) else { return nil }
        let text = said.map { $0.isEmpty ? "" : ": \($0)" } ?? ""
        switch status {
        case 401: return ProviderError(.unauthorized, "\(label): 401 Unauthorized from \(base)\(text) (\(unauthorizedHint))")
        case 403: return ProviderError(.forbidden, "\(label): 403 Forbidden from \(base)\(text) (\(forbiddenHint))")
        case 404: return ProviderError(.notFound, "\(label): 404 Not Found\(text)")
        case 408, 429, 500...599: return ProviderError(.unavailable, "\(label): \(status) from \(base)\(text)")
        default: return ProviderError(.invalid, "\(label): \(status) from \(base)\(text)")
        }
    }

    /// Where a JSON answer did not have the expected shape: `at items[3].status: expected String`.
    public static func describeDecoding(_ error: Error) -> String {
        func path(_ keys: [CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingPrefix(".").description
        }
        switch error {
        case DecodingError.typeMismatch(let type, let c):
            return "at \(path(c.codingPath)): expected \(type)"
        case DecodingError.dataCorrupted(let c):
            return c.codingPath.isEmpty
                ? "not JSON (\(c.underlyingError.map { "\($0)" } ?? c.debugDescription))"
                : "at \(path(c.codingPath)): \(c.debugDescription)"
        case DecodingError.valueNotFound(_, let c):
            return "at \(path(c.codingPath)): unexpected null"
        case DecodingError.keyNotFound(let k, let c):
            return "at \(path(c.codingPath)): missing \(k.stringValue)"
        default:
            return "\(error)"
        }
    }

    /// Worth retrying soon (5xx, timeouts, connection failures); 401/403/malformed are not.
    public var isTransient: Bool { kind == .unavailable || kind == .timeout }
}

/// What a plugin's factory gets to build an instance.
public struct ProviderContext: Sendable {
    /// Instance name.
    public var name: String
    /// Default environment of its entities (`providers[].environment`), if set.
    public var environment: String?
    /// The instance's validated settings (the plugin's config schema, defaults filled in, durations in
    /// seconds, paths absolute).
    public var settings: [String: Value]
    /// Per-request timeout.
    public var timeout: TimeInterval
    /// Environment names in promotion order, from meow.yaml.
    public var environments: [String]
    public var logger: Logger
    /// Where the config file is (paths in settings are already resolved against it).
    public var configFile: String

    public init(
        name: String, environment: String? = nil, settings: [String: Value] = [:], timeout: TimeInterval = 10,
        environments: [String] = [], logger: Logger = Logger(label: "meow"), configFile: String = "meow.yaml"
    ) {
        self.name = name
        self.environment = environment
        self.settings = settings
        self.timeout = timeout
        self.environments = environments
        self.logger = logger
        self.configFile = configFile
    }

    public func string(_ key: String) -> String? { settings[key]?.stringValue }
    public func bool(_ key: String) -> Bool? { settings[key]?.boolValue }
    public func int(_ key: String) -> Int? { settings[key]?.intValue.map { Int($0) } }
    public func double(_ key: String) -> Double? { settings[key]?.doubleValue }
    public func strings(_ key: String) -> [String] { settings[key]?.arrayValue?.compactMap(\.stringValue) ?? [] }

    /// A secret named by an `…_env` or `…_file` setting (`token_env`/`token_file`), read now so that a
    /// rotated file is picked up; nil when neither is set.
    public func secret(env envKey: String, file fileKey: String, what: String) throws -> String? {
        if let variable = string(envKey) {
            guard let value = ProcessInfo.processInfo.environment[variable], !value.isEmpty else {
                throw ProviderError(.unauthorized, "environment variable \(variable) (\(envKey)) is not set")
            }
            return value
        }
        if let file = string(fileKey) {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ProviderError(.unauthorized, "cannot read the \(what) file \(file) (\(fileKey))")
            }
            return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return nil
    }
}
