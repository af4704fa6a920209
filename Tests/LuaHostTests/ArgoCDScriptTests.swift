import Foundation
import MeowModel
import Testing

@testable import LuaHost

/// The Argo CD compatibility profile: each behaviour the scripts rely on (docs/argocd-lua.md).
@Suite struct ArgoCDScriptTests {
    let rollout: Value = [
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
        "metadata": [
            "name": "helm-guestbook", "namespace": "default", "labels": ["app.kubernetes.io/instance": "helm-guestbook"],
            "resourceVersion": "123",
        ],
        "spec": ["replicas": .double(2), "paused": .null, "strategy": ["canary": [:]], "steps": [1, .null, 2]],
    ]

    func run(_ script: String, _ object: Value? = nil, params: [String: String] = [:]) -> Result<Value, ArgoCDScript.ScriptError>
    {
        ArgoCDScript.run(script: script, object: ArgoCDScript.normalizeInput(object ?? rollout), params: params, now: Date())
    }

    func health(_ script: String, _ object: Value? = nil) throws -> ArgoCDScript.Health {
        try ArgoCDScript.health(script: script, object: object ?? rollout).get()
    }

    @Test func wholeNumbersReachScriptsAsIntegersAndWholeFloatsPrintWithoutAPoint() throws {
        // JSON numbers are float64 in Argo CD (gopher-lua) and print as "2"; in Lua 5.4 a float prints "2.0".
        #expect(
            try run("return {a = tostring(obj.spec.replicas), t = math.type(obj.spec.replicas)}").get()
                == ["a": "2", "t": "integer"])
        #expect(
            try run("return {half = obj.spec.replicas / 4, whole = tostring(obj.spec.replicas / 2)}").get()
                == ["half": .double(0.5), "whole": "1"])
        // A float result that is whole is encoded as an integer, as Go's JSON prints float64 3.
        #expect(try run("return {n = 6 / 2}").get() == ["n": 3])
    }

    /// gopher-lua prints floats as Go does (shortest form that reads back, e+06 from a million on, +Inf,
    /// NaN), and its string.format truncates floats for %d.
    @Test func numbersPrintAsGopherLuaPrintsThem() throws {
        let out = try run(
            """
            return {a = tostring(1/3), b = tostring(0.1 + 0.2), c = tostring(1/0), d = tostring(-1/0), e = tostring(0/0),
                    f = tostring(2^63), g = tostring(100 * 1.1), h = tostring(1234567.5), i = tostring(0.00001),
                    j = tostring(-0.5), k = string.format("%d|%s|%s|100%%", 3.5, 10 / 2, 0.25), l = tostring(7)}
            """
        ).get()
        #expect(
            out == [
                "a": "0.3333333333333333", "b": "0.30000000000000004", "c": "+Inf", "d": "-Inf", "e": "NaN",
                "f": "9.223372036854776e+18", "g": "110.00000000000001", "h": "1.2345675e+06", "i": "1e-05", "j": "-0.5",
                "k": "3|5|0.25|100%", "l": "7",
            ])
    }

    @Test func nullsAreAbsentKeysAndDroppedFromArrays() throws {
        #expect(
            try run("return {paused = obj.spec.paused == nil, n = #obj.spec.steps, second = obj.spec.steps[2]}").get()
                == ["paused": true, "n": 2, "second": 2])
    }

    @Test func anEmptyTableIsAListUnlessTheInputHadAMapThere() throws {
        // Argo CD's TestCleanPatch: maps that stay empty stay maps, a new empty table is [].
        let object: Value = [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "d"],
            "spec": [
                "resources": [:], "updated": ["something": true],
                "containers": [["name": "c1", "test": [:]], ["name": "c2", "test2": [:]]],
            ],
        ]
        let patched = try ArgoCDScript.action(
            script: """
                obj.spec.updated = {}
                table.insert(obj.spec.containers, {name = "added", testArray = {}, another = {supported = true}})
                return obj
                """, object: object, params: [:]
        ).get()
        #expect(patched.count == 1 && patched[0].operation == "patch")
        let spec = try #require(patched[0].resource["spec"])
        #expect(spec["resources"] == .object([:]))
        #expect(spec["updated"] == .object([:]))
        #expect(spec["containers"]?[0]?["test"] == .object([:]))
        #expect(spec["containers"]?[2] == ["name": "added", "testArray": [], "another": ["supported": true]])
        // Removing the last item keeps the others' empty maps.
        let removed = try ArgoCDScript.action(
            script: "table.remove(obj.spec.containers); return obj", object: object, params: [:]
        )
        .get()
        #expect(removed[0].resource["spec"]?["containers"] == [["name": "c1", "test": [:]]])
    }

    @Test func actionResultShapes() throws {
        let cron: Value = [
            "apiVersion": "batch/v1", "kind": "CronJob", "metadata": ["name": "hello", "namespace": "test-ns", "labels": [:]],
        ]
        // A plain object is one patch.
        let old = try ArgoCDScript.action(script: "obj.metadata.labels.test = 'test'; return obj", object: cron, params: [:])
            .get()
        #expect(old.map(\.operation) == ["patch"])
        #expect(old[0].resource["metadata"]?["labels"] == ["test": "test"])
        // A list of {operation, resource}: creations and patches, in order.
        let mixed = try ArgoCDScript.action(
            script: """
                local job = {apiVersion = "batch/v1", kind = "Job", metadata = {name = "hello-1", namespace = obj.metadata.namespace}}
                obj.metadata.labels = {}
                obj.metadata.labels["test"] = "test"
                return {{operation = "create", resource = job}, {operation = "patch", resource = obj}}
                """, object: cron, params: [:]
        ).get()
        #expect(mixed.map(\.operation) == ["create", "patch"])
        #expect(
            mixed[0].resource == [
                "apiVersion": "batch/v1", "kind": "Job", "metadata": ["name": "hello-1", "namespace": "test-ns"],
            ])
        #expect(mixed[1].json["resource"]?["metadata"]?["labels"] == ["test": "test"])
        // An empty table: nothing to do.
        #expect(try ArgoCDScript.action(script: "return {}", object: cron, params: [:]).get().isEmpty)
        // Argo CD's refusals.
        #expect(
            ArgoCDScript.action(
                script: "return {{operation = 'thisShouldFail', resource = obj}}", object: cron, params: [:]
            ).errorText
                == "unsupported operation: \"thisShouldFail\"")
        #expect(
            ArgoCDScript.action(script: "local o = {}; o['test'] = 'test'; return o", object: cron, params: [:]).errorText
                == "Object 'Kind' is missing in '{\"test\":\"test\"}'")
        #expect(
            ArgoCDScript.action(script: "return 1", object: cron, params: [:]).errorText
                == "expect table output from Lua script, not number")
    }

    @Test func actionParamsAreStrings() throws {
        let deployment: Value = [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "d"], "spec": ["replicas": 1],
        ]
        let out = try ArgoCDScript.action(
            script:
                "obj.spec.replicas = tonumber(actionParams['replicas']); obj.spec.kind = type(actionParams['replicas']); return obj",
            object: deployment, params: ["replicas": "3"]
        ).get()
        #expect(out[0].resource["spec"] == ["replicas": 3, "kind": "string"])
        #expect(try run("local n = 0; for _ in pairs(actionParams) do n = n + 1 end; return {n = n}").get() == ["n": 0])
    }

    @Test func errorsReadAsRaisedWithTheStringChunkName() {
        #expect(run("error('replicas parameter is required', 0)").errorText == "replicas parameter is required")
        #expect(run("\nlocal x = 1\nerror('boom')").errorText == "<string>:3: boom")
        #expect(
            run("\nlocal s = nil\nreturn s.find(s, 'x')").errorText?.hasPrefix("<string>:3: attempt to index a nil value") == true
        )
        #expect(run("return {").errorText?.hasPrefix("<string>:1:") == true)
    }

    @Test func aLoopingScriptIsStoppedWithinArgoCDsSecond() {
        let result = run("while true do end")
        guard case .failure(let e) = result else {
            Issue.record("the loop was not stopped")
            return
        }
        #expect(e.budget == "time" || e.budget == "instructions")
        #expect(e.message.contains("Argo CD stops a script after 1 s"))
    }

    @Test func healthResults() throws {
        #expect(
            try health(
                "a = {}; a.status = 'Healthy'; a.message = 'NeedsToBeChanged'; if obj.metadata.name == 'helm-guestbook' then a.message = 'testMessage' end; return a"
            ) == .init(status: "Healthy", message: "testMessage"))
        #expect(
            try health("return {status = 'test'}") == .init(status: "Unknown", message: "Lua returned an invalid health status"))
        #expect(try health("local healthStatus = {}\nreturn") == .init(status: "", message: ""))
        #expect(try health("return nil") == .init(status: "", message: ""))
        #expect(try health("local h = {}; return h") == .init(status: "", message: ""))
        #expect(
            ArgoCDScript.health(script: "return 1", object: rollout).errorText
                == "expect table output from Lua script, not number")
        // The last return value is the result.
        #expect(
            try health("return {status = 'Healthy'}, {status = 'Degraded', message = 'last'}")
                == .init(status: "Degraded", message: "last"))
    }

    @Test func healthScriptsDoNotSeeServerSideMetadata() throws {
        let object: Value = [
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": [
                "name": "x", "managedFields": [["manager": "kubectl"]],
                "annotations": ["kubectl.kubernetes.io/last-applied-configuration": "{}", "example.com/health-signal": "ok"],
            ],
        ]
        let script = """
            local m = obj.metadata
            if m.managedFields ~= nil then return {status = "Degraded", message = "managedFields visible"} end
            if m.annotations["kubectl.kubernetes.io/last-applied-configuration"] ~= nil then
              return {status = "Degraded", message = "last-applied visible"}
            end
            if m.annotations["example.com/health-signal"] ~= "ok" then return {status = "Degraded", message = "expected annotation missing"} end
            return {status = "Healthy", message = "ok"}
            """
        #expect(try health(script, object) == .init(status: "Healthy", message: "ok"))
        // Actions do see them.
        #expect(try run("return {seen = obj.metadata.managedFields ~= nil}", object).get() == ["seen": true])
    }

    @Test func theLibrariesOfAnArgoCDScript() throws {
        #expect(
            try run(
                """
                local os2 = require("os")
                return {
                  same = os2 == os, time = type(os.time()), date = os.date("!%Y", 0), getenv = os.getenv == nil,
                  execute = os.execute == nil, getn = table.getn({1, 2, 3}), unpack = select("#", unpack({1, 2})),
                  pow = math.pow(2, 10), undefined = undefinedGlobal == nil, io = io == nil, version = _VERSION,
                }
                """
            ).get()
                == [
                    "same": true, "time": "number", "date": "1970", "getenv": true, "execute": true, "getn": 3, "unpack": 2,
                    "pow": 1024, "undefined": true, "io": true, "version": "Lua 5.1",
                ])
        #expect(run("require('io')").errorText?.contains("module io not found") == true)
        #expect(run("return string.dump(function() end)").errorText != nil)
    }

    @Test func valuesGopherJSONCannotEncodeAreErrors() {
        #expect(run("local t = {1, 2}; t[4] = 4; return t").errorText == "cannot encode sparse array")
        #expect(run("return {1, 2, x = 3}").errorText == "cannot encode mixed or invalid key types")
        #expect(run("return {f = function() end}").errorText == "cannot encode function to JSON")
        #expect(run("local t = {}; t.self = t; return t").errorText == "cannot encode recursively nested tables to JSON")
    }

    @Test func discoveryOffersActionsByName() throws {
        let actions = try ArgoCDScript.discovery(
            script: """
                scaleParams = {{name = "replicas", type = "number", default = tostring(obj.spec.replicas)}}
                scale = {name = 'scale', params = scaleParams}
                resume = {name = 'resume'}
                return {scale = scale, resume = resume, pause = {disabled = true}, restart = {displayName = "Restart Pods", iconClass = "fa fa-redo"}, noop = {}}
                """, object: rollout
        ).get()
        #expect(actions.map(\.name) == ["noop", "pause", "restart", "resume", "scale"])
        #expect(actions.first { $0.name == "pause" }?.disabled == true)
        #expect(actions.first { $0.name == "restart" }?.displayName == "Restart Pods")
        #expect(actions.first { $0.name == "restart" }?.iconClass == "fa fa-redo")
        #expect(
            actions.first { $0.name == "scale" }?.params == [.init(name: "replicas", value: nil, type: "number", default: "2")])
        #expect(try ArgoCDScript.discovery(script: "return {}", object: rollout).get().isEmpty)
        #expect(
            ArgoCDScript.discovery(script: "return {{name = 'x'}}", object: rollout).errorText
                == "error unmarshaling action table: json: cannot unmarshal array into Go value of type map[string]interface {}")
        #expect(
            ArgoCDScript.discovery(script: "a = 1; return a", object: rollout).errorText
                == "expect table output from Lua script, not number")
    }
}

extension Result {
    var errorText: String? {
        if case .failure(let e) = self { return "\(e)" }
        return nil
    }
}
