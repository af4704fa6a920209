import Foundation
import MeowModel

/// Runs Argo CD resource customization scripts (`health.lua`, `actions/discovery.lua`,
/// `actions/<name>/action.lua`) unchanged, the way Argo CD does (docs/argocd-lua.md).
///
/// Argo CD runs them in gopher-lua (Lua 5.1, every number a float64); meow embeds Lua 5.4 in its
/// sandbox. The compatibility profile bridges what scripts can see:
/// - `obj` is the resource as plain tables: JSON `null` is an absent key, nulls inside arrays are
///   dropped, whole numbers are Lua integers (so `tostring(n)` reads `2`, as gopher-lua prints it);
///   health scripts do not see `metadata.managedFields` nor the last-applied-configuration annotation;
/// - `actionParams` is a table of name → string (empty for health and discovery);
/// - undefined globals are nil (no strict mode); `unpack`, `table.getn`, `table.maxn`, `math.pow`,
///   `loadstring` exist; `os` has only `time` and `date`, also through `require("os")`;
/// - the chunk is named `<string>`, so errors read `<string>:LINE: message`;
/// - the script's **last** return value is the result;
/// - the result is encoded as gopher-json does: an empty table is `[]`, arrays must be 1..n, keys
///   must not mix, whole numbers are integers; in a patched object, an empty table where the input had
///   a map becomes `{}` again.
/// Every run is under meow's budgets, with Argo CD's 1 s limit on the wall time.
public enum ArgoCDScript {
    /// Argo CD stops a script after one second.
    public static let budget = Budget(
        instructions: 200_000_000, memoryBytes: 256 << 20, wallTimeSeconds: 1.0, patternSteps: 50_000_000,
        maxStringBytes: 16 << 20)

    /// A health assessment, as Argo CD's `HealthStatus` (`status` empty when the script returned nothing).
    public struct Health: Sendable, Codable, Equatable {
        public var status: String
        public var message: String

        public init(status: String, message: String) {
            self.status = status
            self.message = message
        }

        public static let validStatuses = ["Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown"]
        /// Argo CD's message for a status that is not one of `validStatuses`.
        public static let invalidStatusMessage = "Lua returned an invalid health status"
    }

    /// One parameter of a discovered action (all strings, as Argo CD's `ResourceActionParam`).
    public struct ActionParam: Sendable, Codable, Equatable {
        public var name: String?
        public var value: String?
        public var type: String?
        public var `default`: String?
    }

    /// One action a discovery script offers (Argo CD's `ResourceAction`).
    public struct Action: Sendable, Codable, Equatable {
        public var name: String
        public var disabled: Bool
        public var displayName: String?
        public var iconClass: String?
        public var params: [ActionParam]?
    }

    /// What an action script asks for: patch the object, or create a resource.
    public struct ImpactedResource: Sendable, Equatable {
        /// `patch` or `create`.
        public var operation: String
        public var resource: Value

        public var json: Value { .object(["operation": .string(operation), "resource": resource]) }
    }

    /// A script error, with the text as raised (`<string>:3: boom`) or Argo CD's own message.
    public struct ScriptError: Error, CustomStringConvertible, Sendable, Equatable {
        public var message: String
        /// The budget that stopped it, when that is why.
        public var budget: String?
        public var description: String { message }
        public init(_ message: String, budget: String? = nil) {
            self.message = message
            self.budget = budget
        }
    }

    // MARK: Running

    public static func health(script: String, object: Value, now: Date = Date()) -> Result<Health, ScriptError> {
        let input = healthView(normalizeInput(object))
        return run(script: script, object: input, params: [:], now: now).flatMap { result in
            switch result {
            case .null: return .success(Health(status: "", message: ""))
            case .object, .array:
                // Argo CD unmarshals the JSON into HealthStatus: an empty table ([]) or a field of another
                // type is an unmarshal type error, which gives an empty status without an error.
                guard case .object(let o) = result else { return .success(Health(status: "", message: "")) }
                let status = o["status"] ?? .null
                let message = o["message"] ?? .null
                guard status == .null || status.stringValue != nil, message == .null || message.stringValue != nil else {
                    return .success(Health(status: "", message: ""))
                }
                let s = status.stringValue ?? ""
                guard Health.validStatuses.contains(s) else {
                    return .success(Health(status: "Unknown", message: Health.invalidStatusMessage))
                }
                return .success(Health(status: s, message: message.stringValue ?? ""))
            default:
                return .failure(ScriptError("expect table output from Lua script, not \(luaType(result))"))
            }
        }
    }

    public static func discovery(script: String, object: Value, now: Date = Date()) -> Result<[Action], ScriptError> {
        run(script: script, object: normalizeInput(object), params: [:], now: now).flatMap { result in
            switch result {
            case .array(let a) where a.isEmpty: return .success([])
            case .array:
                return .failure(
                    ScriptError(
                        "error unmarshaling action table: json: cannot unmarshal array into Go value of type map[string]interface {}"
                    ))
            case .object(let o):
                var actions: [Action] = []
                for (key, value) in o.sorted(by: { $0.key < $1.key }) {
                    switch parseAction(key: key, value) {
                    case .success(let a): actions.append(a)
                    case .failure(let e): return .failure(e)
                    }
                }
                return .success(actions)
            default:
                return .failure(ScriptError("expect table output from Lua script, not \(luaType(result))"))
            }
        }
    }

    public static func action(script: String, object: Value, params: [String: String], now: Date = Date()) -> Result<
        [ImpactedResource], ScriptError
    > {
        let input = normalizeInput(object)
        return run(script: script, object: input, params: params, now: now).flatMap { result in
            switch result {
            case .array(let items):
                var out: [ImpactedResource] = []
                for item in items {
                    guard case .object(let o) = item else {
                        return .failure(
                            ScriptError(
                                "json: cannot unmarshal \(jsonKind(item)) into Go value of type lua.ImpactedResource"))
                    }
                    let op = o["operation"]?.stringValue ?? ""
                    guard op == "patch" || op == "create" else {
                        return .failure(ScriptError("unsupported operation: \(Value.string(op).jsonString())"))
                    }
                    var resource = o["resource"] ?? .null
                    if case .failure(let e) = checkKind(resource) { return .failure(e) }
                    if op == "patch" { resource = restoreEmptyMaps(resource, source: input) }
                    out.append(ImpactedResource(operation: op, resource: resource))
                }
                return .success(out)
            case .object:
                if case .failure(let e) = checkKind(result) { return .failure(e) }
                return .success([ImpactedResource(operation: "patch", resource: restoreEmptyMaps(result, source: input))])
            default:
                return .failure(ScriptError("expect table output from Lua script, not \(luaType(result))"))
            }
        }
    }

    /// Runs a script with `obj` and `actionParams` set and returns its last return value, encoded as
    /// gopher-json would (whole numbers as integers, empty tables as `[]`).
    public static func run(script: String, object: Value, params: [String: String], now: Date) -> Result<
        Value, ScriptError
    > {
        do {
            let lua = try LuaState(maxMemoryBytes: budget.memoryBytes * 2)
            let env = try lua.newEnvironment(kind: "argocd", file: "<string>")
            let setup = try lua.load(
                "local o, p = ...; obj = o; actionParams = p", chunkName: "=meow.argocd.setup", env: env)
            let t = now.timeIntervalSince1970
            if case .failure(let e) = lua.call(
                setup, [.value(object), .value(.object(params.mapValues(Value.string)))], budget: .load, now: t
            ).result {
                return .failure(ScriptError("the object could not be handed to the script: \(e.message)"))
            }
            let chunk: LuaRef
            do {
                chunk = try lua.load(script, chunkName: "=<string>", env: env)
            } catch let e as LuaError {
                return .failure(ScriptError(e.message))
            }
            let runner = try lua.load(runnerSource, chunkName: "=meow.argocd.run", env: env)
            let (result, usage) = lua.call(runner, [.ref(chunk)], budget: budget, now: t)
            switch result {
            case .success(let v): return .success(normalizeOutput(v))
            case .failure(let e):
                if let trip = usage.trip {
                    return .failure(
                        ScriptError(
                            "the script was stopped: \(e.message) (Argo CD stops a script after 1 s)", budget: trip.rawValue))
                }
                return .failure(ScriptError(e.message))
            }
        } catch let e as LuaError {
            return .failure(ScriptError(e.message))
        } catch {
            return .failure(ScriptError("\(error)"))
        }
    }

    /// Calls the script, keeps its last return value, and checks it the way gopher-json encodes: arrays
    /// 1..n, no mixed keys, no functions, each table once. Raised with level 0: no position.
    static let runnerSource = #"""
        local f = ...
        local select, type, next, pairs, error = select, type, next, pairs, error
        local function last(...)
          local n = select("#", ...)
          if n == 0 then return nil end
          return (select(n, ...))
        end
        local result = last(f())
        local seen = {}
        local function check(v)
          local t = type(v)
          if t == "table" then
            if seen[v] then error("cannot encode recursively nested tables to JSON", 0) end
            seen[v] = true
            local k = next(v)
            if k == nil then return end
            if type(k) == "number" then
              local n = 0
              for key in pairs(v) do
                if type(key) ~= "number" then error("cannot encode mixed or invalid key types", 0) end
                n = n + 1
              end
              for i = 1, n do
                if v[i] == nil then error("cannot encode sparse array", 0) end
                check(v[i])
              end
            elseif type(k) == "string" then
              for key, item in pairs(v) do
                if type(key) ~= "string" then error("cannot encode mixed or invalid key types", 0) end
                check(item)
              end
            else
              error("cannot encode mixed or invalid key types", 0)
            end
          elseif t == "function" or t == "userdata" or t == "thread" then
            error("cannot encode " .. t .. " to JSON", 0)
          end
        end
        check(result)
        return result
        """#

    // MARK: Conversions

    /// JSON → what scripts see: nulls out of objects and arrays, whole numbers as integers.
    public static func normalizeInput(_ v: Value) -> Value {
        switch v {
        case .double(let d) where d.rounded() == d && abs(d) < 9.2e18: return .int(Int64(d))
        case .array(let a): return .array(a.filter { $0 != .null }.map(normalizeInput))
        case .object(let o): return .object(o.filter { $0.value != .null }.mapValues(normalizeInput))
        default: return v
        }
    }

    /// What a health script sees: without `metadata.managedFields` and the last-applied annotation.
    static func healthView(_ v: Value) -> Value {
        guard case .object(var o) = v, case .object(var meta)? = o["metadata"] else { return v }
        meta["managedFields"] = nil
        if case .object(var ann)? = meta["annotations"] {
            ann["kubectl.kubernetes.io/last-applied-configuration"] = nil
            meta["annotations"] = .object(ann)
        }
        o["metadata"] = .object(meta)
        return .object(o)
    }

    /// Lua → JSON as gopher-json encodes: an empty table is `[]`; whole floats are integers.
    static func normalizeOutput(_ v: Value) -> Value {
        switch v {
        case .double(let d) where d.rounded() == d && abs(d) < 9.2e18: return .int(Int64(d))
        case .object(let o) where o.isEmpty: return .array([])
        case .object(let o): return .object(o.mapValues(normalizeOutput))
        case .array(let a): return .array(a.map(normalizeOutput))
        default: return v
        }
    }

    /// Argo CD's cleanup of a patched object: where the source had a map and the script returned an empty
    /// table (encoded `[]`), the result has an empty map again; maps and arrays are compared recursively,
    /// arrays item by item as far as the source's items go.
    public static func restoreEmptyMaps(_ new: Value, source: Value) -> Value {
        switch (new, source) {
        case (.object(var n), .object(let s)):
            for (k, v) in n {
                guard let old = s[k] else { continue }
                switch (v, old) {
                case (.array(let a), .object) where a.isEmpty: n[k] = .object([:])
                case (.object, .object), (.array, .array): n[k] = restoreEmptyMaps(v, source: old)
                default: break
                }
            }
            return .object(n)
        case (.array(var n), .array(let s)):
            for i in n.indices where i < s.count {
                switch (n[i], s[i]) {
                case (.object, .object), (.array, .array): n[i] = restoreEmptyMaps(n[i], source: s[i])
                default: break
                }
            }
            return .array(n)
        default:
            return new
        }
    }

    /// Kubernetes refuses an object without a kind when it decodes the result.
    static func checkKind(_ v: Value) -> Result<Void, ScriptError> {
        guard case .object(let o) = v else {
            return .failure(ScriptError("json: cannot unmarshal \(jsonKind(v)) into Go value of type map[string]interface {}"))
        }
        guard let kind = o["kind"]?.stringValue, !kind.isEmpty else {
            return .failure(ScriptError("Object 'Kind' is missing in '\(v.jsonString())'"))
        }
        return .success(())
    }

    static func parseAction(key: String, _ value: Value) -> Result<Action, ScriptError> {
        guard case .object(let o) = value else {
            // An empty table or a list: the name only, enabled.
            if case .array = value { return .success(Action(name: key, disabled: false)) }
            return .failure(
                ScriptError(
                    "error unmarshaling resource action: json: cannot unmarshal \(jsonKind(value)) into Go value of type v1alpha1.ResourceAction"
                ))
        }
        func string(_ field: String) -> Result<String?, ScriptError> {
            guard let v = o[field], v != .null else { return .success(nil) }
            guard let s = v.stringValue else {
                return .failure(
                    ScriptError(
                        "error unmarshaling resource action: json: cannot unmarshal \(jsonKind(v)) into Go struct field ResourceAction.\(field) of type string"
                    ))
            }
            return .success(s)
        }
        var action = Action(name: key, disabled: o["disabled"]?.boolValue ?? false)
        do {
            if let n = try string("name").get(), !n.isEmpty { action.name = n }
            action.displayName = try string("displayName").get()
            action.iconClass = try string("iconClass").get()
        } catch let e as ScriptError {
            return .failure(e)
        } catch {
            return .failure(ScriptError("\(error)"))
        }
        if let d = o["disabled"], d != .null, d.boolValue == nil {
            return .failure(
                ScriptError(
                    "error unmarshaling resource action: json: cannot unmarshal \(jsonKind(d)) into Go struct field ResourceAction.disabled of type bool"
                ))
        }
        if let p = o["params"], p != .null {
            guard case .array(let items) = p else {
                return .failure(
                    ScriptError(
                        "error unmarshaling resource action: json: cannot unmarshal \(jsonKind(p)) into Go struct field ResourceAction.params of type []v1alpha1.ResourceActionParam"
                    ))
            }
            var params: [ActionParam] = []
            for item in items {
                guard case .object(let f) = item else {
                    return .failure(
                        ScriptError(
                            "error unmarshaling resource action: json: cannot unmarshal \(jsonKind(item)) into Go struct field ResourceAction.params of type v1alpha1.ResourceActionParam"
                        ))
                }
                var param = ActionParam()
                for field in ["name", "value", "type", "default"] {
                    guard let v = f[field], v != .null else { continue }
                    guard let s = v.stringValue else {
                        return .failure(
                            ScriptError(
                                "error unmarshaling resource action: json: cannot unmarshal \(jsonKind(v)) into Go struct field ResourceActionParam.params.\(field) of type string"
                            ))
                    }
                    switch field {
                    case "name": param.name = s
                    case "value": param.value = s
                    case "type": param.type = s
                    default: param.default = s
                    }
                }
                params.append(param)
            }
            action.params = params
        }
        return .success(action)
    }

    /// The name JSON decoding errors use for a value's kind.
    static func jsonKind(_ v: Value) -> String {
        switch v {
        case .null: "null"
        case .bool: "bool"
        case .int, .double: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// Lua's name for the type a value came from.
    static func luaType(_ v: Value) -> String {
        switch v {
        case .null: "nil"
        case .bool: "boolean"
        case .int, .double: "number"
        case .string: "string"
        case .array, .object: "table"
        }
    }
}
