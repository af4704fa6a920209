import Foundation
import MeowModel

/// The `incidents:` section: which decisions become incidents, where they go, how they are grouped and
/// when they resolve (docs/incidents.md).
public struct IncidentSettings: Sendable, Equatable {
    /// One route: decisions it matches go to its outputs (instances of the `incident` plugin).
    public struct Route: Sendable, Equatable {
        public var name: String
        public var environments: Set<String>
        public var teams: Set<String>
        public var rules: Set<String>
        public var types: Set<String>
        public var minSeverity: Severity
        public var outputs: [String]
        /// Go on to the next routes after this one matched (as in Alertmanager).
        public var `continue`: Bool

        public init(
            name: String, environments: Set<String> = [], teams: Set<String> = [], rules: Set<String> = [],
            types: Set<String> = [], minSeverity: Severity = .warning, outputs: [String], continue: Bool = false
        ) {
            self.name = name
            self.environments = environments
            self.teams = teams
            self.rules = rules
            self.types = types
            self.minSeverity = minSeverity
            self.outputs = outputs
            self.continue = `continue`
        }

        /// Whether a decision about an entity of this environment and team goes this way.
        public func matches(type: String, rule: String, severity: Severity?, environment: String?, team: String?) -> Bool {
            guard (severity ?? .info) >= minSeverity else { return false }
            if !types.isEmpty, !types.contains(type) { return false }
            if !rules.isEmpty, !rules.contains(rule) { return false }
            if !environments.isEmpty, !environments.contains(environment ?? "") { return false }
            if !teams.isEmpty, !teams.contains(team ?? "") { return false }
            return true
        }
    }

    public enum GroupBy: String, Sendable, Equatable {
        /// One incident per rule and application: the workloads of one app that the rule flags are one cause.
        case application
        /// One incident per rule and subject.
        case subject
    }

    /// dry-run (the default: the ledger says what would have been sent), approve or auto.
    public var mode: MeowConfig.ActionMode = .dryRun
    public var groupBy: GroupBy = .application
    /// The cause must have been gone this long before the incident resolves.
    public var resolveAfter: TimeInterval = 0
    /// Deliveries per output instance per hour.
    public var perHour = 60
    /// Base URLs for links: Argo CD's UI, Airflow's UI (version 2 or 3 paths), and meow's own.
    public var argocdURL: String?
    public var airflowURL: String?
    public var airflowVersion = 3
    public var runbookURL: String?
    public var routes: [Route] = []

    public init() {}

    /// Whether incidents are configured at all.
    public var enabled: Bool { !routes.isEmpty }

    /// The routes a decision takes, in order (stops at the first that matches unless it says `continue`).
    public func routes(type: String, rule: String, severity: Severity?, environment: String?, team: String?) -> [Route] {
        var out: [Route] = []
        for r in routes where r.matches(type: type, rule: rule, severity: severity, environment: environment, team: team) {
            out.append(r)
            if !r.continue { break }
        }
        return out
    }

    static let schemaText = """
        type: object
        description: "incident routing: which decisions open incidents and where they go (docs/incidents.md)"
        properties:
          mode: {type: string, enum: [dry-run, approve, auto], default: dry-run, description: "mode of the notifications (pages, messages), separate from actions.mode"}
          group_by: {type: string, enum: [application, subject], default: application, description: "one incident per rule and application, or per rule and subject"}
          resolve_after: {type: duration, minimum: 0, default: 0s, description: "the condition must be gone this long before the incident resolves"}
          rate_limit:
            type: object
            properties:
              per_hour: {type: integer, minimum: 1, default: 60, description: "deliveries per output per hour"}
          links:
            type: object
            properties:
              argocd: {type: string, format: url, description: "Argo CD UI, e.g. https://argocd.example.com"}
              airflow: {type: string, format: url, description: "Airflow UI, e.g. https://airflow.example.com"}
              airflow_version: {type: integer, minimum: 2, maximum: 3, default: 3, description: "Airflow's UI paths: 2 (/dags/<id>/grid) or 3 (/dags/<id>/runs/<run>)"}
              runbooks: {type: string, format: url, description: "runbook base URL; the rule's name is appended when the rule gives no runbook"}
          routes:
            type: array
            description: "evaluated in order; the first that matches wins unless it says continue"
            items:
              type: object
              required: [outputs]
              properties:
                name: {type: string, description: "route name (in the ledger and the message)"}
                environments: {type: array, items: {type: string}, description: "only these environments (default all)"}
                teams: {type: array, items: {type: string}, description: "only these owners/teams (the team label or owner of the subject or its application)"}
                rules: {type: array, items: {type: string}, description: "only these rules"}
                types: {type: array, items: {type: string, enum: [violation, anomaly, rule_error]}, description: "only these decision types"}
                min_severity: {type: string, enum: [info, low, medium, warning, high, critical], default: warning, description: "lowest severity routed"}
                outputs: {type: array, items: {type: string}, description: "names of provider instances of the incident plugin"}
                continue: {type: boolean, default: false, description: "also try the next routes"}
        """

    static let schema: ConfigSchema = {
        try! ConfigSchema.parse(try! ConfigNode.parse(schemaText, file: "incidents schema"), file: "schema", path: "incidents")
    }()

    /// From the validated `incidents` value; route outputs must be instances of the `incident` plugin.
    static func parse(
        _ v: Value?, node: ConfigNode?, file: String, instances: [MeowConfig.ProviderInstance], environments: [String]
    )
        -> (IncidentSettings, [ConfigError])
    {
        var s = IncidentSettings()
        guard let v else { return (s, []) }
        var errors: [ConfigError] = []
        s.mode = v["mode"]?.stringValue.flatMap(MeowConfig.ActionMode.init) ?? .dryRun
        s.groupBy = v["group_by"]?.stringValue.flatMap(GroupBy.init) ?? .application
        s.resolveAfter = v["resolve_after"]?.doubleValue ?? 0
        s.perHour = Int(v["rate_limit"]?["per_hour"]?.intValue ?? 60)
        s.argocdURL = v["links"]?["argocd"]?.stringValue
        s.airflowURL = v["links"]?["airflow"]?.stringValue
        s.airflowVersion = Int(v["links"]?["airflow_version"]?.intValue ?? 3)
        s.runbookURL = v["links"]?["runbooks"]?.stringValue
        let outputs = Set(instances.filter { $0.plugin == "incident" }.map(\.name))
        let routeNodes: [ConfigNode] = {
            if let n = node?["routes"], case .sequence(let items) = n.content { return items }
            return []
        }()
        for (i, r) in (v["routes"]?.arrayValue ?? []).enumerated() {
            let path = "incidents.routes[\(i)]"
            let rn = i < routeNodes.count ? routeNodes[i] : nil
            func strings(_ k: String) -> [String] { r[k]?.arrayValue?.compactMap(\.stringValue) ?? [] }
            let names = strings("outputs")
            if names.isEmpty {
                errors.append(
                    ConfigError(file: file, line: rn?.line, path: "\(path).outputs", message: "a route needs at least one output")
                )
            }
            for (j, o) in names.enumerated() where !outputs.contains(o) {
                let line: Int? = {
                    if let n = rn?["outputs"], case .sequence(let items) = n.content, j < items.count { return items[j].line }
                    return rn?.line
                }()
                errors.append(
                    ConfigError(
                        file: file, line: line, path: "\(path).outputs[\(j)]",
                        message:
                            "\"\(o)\" is not a provider instance of the incident plugin (instances: \(outputs.isEmpty ? "none" : outputs.sorted().joined(separator: ", ")))"
                    ))
            }
            for (j, e) in strings("environments").enumerated() where !environments.isEmpty && !environments.contains(e) {
                errors.append(
                    ConfigError(
                        file: file, line: rn?["environments"]?.line ?? rn?.line, path: "\(path).environments[\(j)]",
                        message: "unknown environment \"\(e)\" (declared: \(environments.joined(separator: ", ")))"))
            }
            s.routes.append(
                Route(
                    name: r["name"]?.stringValue ?? "route-\(i + 1)", environments: Set(strings("environments")),
                    teams: Set(strings("teams")), rules: Set(strings("rules")), types: Set(strings("types")),
                    minSeverity: r["min_severity"]?.stringValue.flatMap(Severity.init) ?? .warning, outputs: names,
                    continue: r["continue"]?.boolValue ?? false))
        }
        return (s, errors)
    }
}
