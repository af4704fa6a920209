import LuaHost
import MeowModel
import MeowTesting
import Testing

@Suite struct DocumentProxyTests {
    let docs: [Value] = [
        [
            "id": "application/argocd/pay", "kind": "application", "name": "pay",
            "labels": ["team": "payments"], "images": ["a:1", "b:latest"], "sync_policy": ["automated": true],
        ],
        ["id": "application/argocd/web", "kind": "application", "name": "web", "labels": [:], "images": []],
    ]

    func check(_ lua: LuaScript, _ body: String, entity: Int = 0) throws -> Result<Value, LuaError> {
        let env = try lua.state.newEnvironment(kind: "rule", file: "rules/p.lua")
        let fn = try lua.state.load("return function(e) \(body) end", chunkName: "@rules/p.lua", env: env)
        let inner = try lua.state.call(fn, [], budget: .default, now: 0)
        _ = inner
        // the chunk returns a function; keep it by storing in the env
        let holder = try lua.state.load("f = function(e) \(body) end", chunkName: "@rules/p.lua", env: env)
        _ = lua.state.call(holder, [], budget: .default, now: 0)
        let f = try #require(try lua.state.global("f", in: env))
        return lua.state.call(f, [.entity(entity)], budget: .default, now: 0).result
    }

    @Test func fieldsNestedValuesAndIteration() throws {
        let lua = try LuaScript()
        lua.state.documents = DocumentSet(documents: docs)
        #expect(try check(lua, "return e.name").get() == "pay")
        #expect(try check(lua, "return e.labels.team").get() == "payments")
        #expect(try check(lua, "return e.sync_policy.automated").get() == true)
        #expect(try check(lua, "return e.missing == nil").get() == true)
        #expect(try check(lua, "return #e.images").get() == 2)
        #expect(
            try check(lua, "local out = {} for i, v in ipairs(e.images) do out[i] = v end return out").get() == [
                "a:1", "b:latest",
            ])
        #expect(try check(lua, "local n = 0 for k, v in pairs(e.labels) do n = n + 1 end return n").get() == 1)
        #expect(try check(lua, "return table.concat(e.images, ',')").get() == "a:1,b:latest")
        #expect(try check(lua, "return e.labels == e.labels").get() == true)
        #expect(try check(lua, "return tostring(e)").get() == "application/argocd/pay")
        #expect(try check(lua, "return #e.images", entity: 1).get() == 0)
    }

    @Test func entitiesAreReadOnly() throws {
        let lua = try LuaScript()
        lua.state.documents = DocumentSet(documents: docs)
        for body in [
            "e.name = 'x'", "e.labels.team = 'x'", "rawset(e, 'name', 'x')", "table.insert(e.images, 'c')",
            "setmetatable(e, {})", "table.sort(e.images, function(a, b) return a > b end)",
        ] {
            let r = try check(lua, body)
            guard case .failure = r else {
                Issue.record("\(body) must fail")
                continue
            }
        }
        #expect(try check(lua, "return e.name").get() == "pay")
        #expect(try check(lua, "return getmetatable(e)").get() == "meow.entity")
    }

    @Test func proxiesFromAnEarlierSnapshotRefuseAccess() throws {
        let lua = try LuaScript()
        lua.state.documents = DocumentSet(documents: docs)
        let env = try lua.state.newEnvironment(kind: "rule", file: "rules/p.lua")
        let keep = try lua.state.load(
            "kept = nil; f = function(e) kept = e.labels; return kept.team end; g = function() return kept.team end",
            chunkName: "@rules/p.lua", env: env)
        _ = lua.state.call(keep, [], budget: .default, now: 0)
        let f = try #require(try lua.state.global("f", in: env))
        let g = try #require(try lua.state.global("g", in: env))
        #expect(try lua.state.call(f, [.entity(0)], budget: .default, now: 0).result.get() == "payments")
        lua.state.documents = DocumentSet(documents: [["id": "x", "kind": "application", "labels": ["team": "other"]]])
        let r = lua.state.call(g, [], budget: .default, now: 0).result
        guard case .failure(let e) = r else {
            Issue.record("stale proxy must fail")
            return
        }
        #expect(e.message.contains("no longer available"))
    }

    @Test func returnedEntitiesBecomeTheirIds() throws {
        let lua = try LuaScript()
        lua.state.documents = DocumentSet(documents: docs)
        #expect(
            try check(lua, "return {subject = e, labels = e.labels}").get() == [
                "subject": "application/argocd/pay", "labels": ["team": "payments"],
            ])
    }
}
