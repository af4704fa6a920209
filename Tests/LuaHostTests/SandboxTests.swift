import Foundation
import LuaHost
import MeowModel
import MeowTesting
import Testing

@Suite struct SandboxTests {
    func value(_ r: Result<Value, LuaError>) -> Value? { try? r.get() }
    func error(_ r: Result<Value, LuaError>) -> LuaError? {
        if case .failure(let e) = r { return e }
        return nil
    }

    @Test func evaluatesPlainLua() throws {
        let lua = try LuaScript()
        #expect(value(try lua.run("return 1 + 2")) == .int(3))
        #expect(value(try lua.run("return {a = 1, b = {true, 'x'}}")) == ["a": 1, "b": [true, "x"]])
    }

    @Test func dangerousGlobalsDoNotExist() throws {
        let lua = try LuaScript()
        for name in ["io", "debug", "package", "dofile", "loadfile", "loadstring", "warn", "module"] {
            #expect(value(try lua.run("return rawget(_G, '\(name)') == nil")) == true, "\(name) must not exist")
        }
        #expect(
            value(
                try lua.run(
                    "return string.dump == nil and os.execute == nil and os.getenv == nil and os.remove == nil and os.exit == nil"
                )) == true)
        let e = error(try lua.run("return io.open('/etc/passwd')"))
        #expect(e?.message.contains("undefined global 'io'") == true)
    }

    @Test func binaryChunksAreRefusedWhateverTheMode() throws {
        let lua = try LuaScript()
        for mode in ["nil", "'b'", "'bt'", "'t'"] {
            let r = value(try lua.run(#"local f, err = load("\27Lua\84\0\25\147\13\10\26\10", "x", \#(mode)); return err"#))
            #expect(r?.stringValue?.contains("binary chunk") == true, "mode \(mode): \(String(describing: r))")
        }
    }

    @Test func collectgarbageOnlyCounts() throws {
        let lua = try LuaScript()
        #expect(value(try lua.run("return type(collectgarbage('count'))")) == "number")
        #expect(error(try lua.run("collectgarbage('collect')"))?.message.contains("only \"count\"") == true)
        #expect(error(try lua.run("collectgarbage('stop')")) != nil)
    }

    @Test func clockIsTheEvaluationTime() throws {
        let lua = try LuaScript()
        lua.now = 1_767_225_600  // 2026-01-01T00:00:00Z
        #expect(value(try lua.run("return os.time()")) == .int(1_767_225_600))
        #expect(value(try lua.run("return os.clock()")) == .double(1_767_225_600))
        #expect(value(try lua.run("return os.date('%Y-%m-%d %H:%M')")) == "2026-01-01 00:00")
        #expect(value(try lua.run("return os.time{year = 2026, month = 1, day = 1, hour = 0}")) == .int(1_767_225_600))
        #expect(
            value(try lua.run("return os.time{year = 2024, month = 2, day = 29, hour = 12, min = 30}")) == .int(1_709_209_800))
        #expect(value(try lua.run("return os.date('*t').year")) == .int(2026))
    }

    @Test func instructionBudgetStopsInfiniteLoops() throws {
        let lua = try LuaScript()
        lua.budget.instructions = 1_000_000
        let (r, usage) = try lua.measure("while true do end")
        #expect(usage.trip == .instructions)
        #expect(error(r)?.message.contains("instruction budget exceeded") == true)
        #expect(error(r)?.file == "rules/test.lua")
        #expect(error(r)?.line == 1)
    }

    @Test func pcallCannotSwallowABudgetError() throws {
        let lua = try LuaScript()
        lua.budget.instructions = 500_000
        let (r, usage) = try lua.measure(
            """
            local n = 0
            while true do
              pcall(function() while true do end end)
              n = n + 1
            end
            """)
        #expect(usage.trip == .instructions)
        #expect(error(r) != nil)
        // and the error handler of xpcall cannot run forever either
        let (r2, u2) = try lua.measure(
            "while true do xpcall(function() while true do end end, function() while true do end end) end")
        #expect(u2.trip == .instructions)
        #expect(error(r2) != nil)
    }

    @Test func coroutinesAreBudgetedToo() throws {
        let lua = try LuaScript()
        lua.budget.instructions = 1_000_000
        let (r, usage) = try lua.measure(
            """
            local co = coroutine.wrap(function() while true do end end)
            while true do pcall(co) end
            """)
        #expect(usage.trip == .instructions)
        #expect(error(r) != nil)
    }

    @Test func memoryBudgetStopsAllocationsEvenWhenCaught() throws {
        let lua = try LuaScript()
        lua.budget.memoryBytes = 8 << 20
        let (r, usage) = try lua.measure(
            """
            local keep = {}
            while true do
              pcall(function() local t = {} for i = 1, 1e7 do t[i] = ('x'):rep(64) .. i end keep[#keep + 1] = t end)
            end
            """)
        #expect(usage.trip == .memory)
        #expect(error(r)?.message.contains("memory budget exceeded") == true)
        // the state recovers: memory returns and the next evaluation runs
        lua.state.collectGarbage()
        #expect(lua.state.memoryInUse < 4 << 20)
        #expect(value(try lua.run("return 40 + 2")) == .int(42))
    }

    @Test func wallTimeBudgetStopsSlowCode() throws {
        let lua = try LuaScript()
        lua.budget.instructions = 0  // unlimited: only the clock can stop it
        lua.budget.wallTimeSeconds = 0.2
        let start = Date()
        let (r, usage) = try lua.measure("while true do end")
        #expect(usage.trip == .time)
        #expect(error(r)?.message.contains("time budget exceeded") == true)
        #expect(Date().timeIntervalSince(start) < 5)
    }

    @Test func pathologicalPatternsAreStoppedInsideC() throws {
        let lua = try LuaScript()
        lua.budget.patternSteps = 5_000_000
        let start = Date()
        let (r, usage) = try lua.measure("return string.find(('a'):rep(400), ('a-'):rep(3) .. 'b')")
        #expect(usage.trip == .pattern)
        #expect(error(r)?.message.contains("pattern matching budget exceeded") == true)
        #expect(Date().timeIntervalSince(start) < 5)
        // method syntax goes through the same bounded matcher
        let (_, u2) = try lua.measure("return (('a'):rep(400)):match(('a-'):rep(3) .. 'b')")
        #expect(u2.trip == .pattern)
        let (_, u3) = try lua.measure("for _ in (('a'):rep(300)):gmatch(('a-'):rep(3) .. 'b') do end")
        #expect(u3.trip == .pattern)
        let (_, u4) = try lua.measure("return (('a'):rep(300)):gsub(('a-'):rep(3) .. 'b', 'x')")
        #expect(u4.trip == .pattern)
    }

    @Test func patternsStillBehaveLikeLua() throws {
        let lua = try LuaScript()
        #expect(value(try lua.run("return {string.find('hello world', 'o w')}")) == [5, 7])
        #expect(value(try lua.run("return {string.find('hello', 'l+')}")) == [3, 4])
        #expect(value(try lua.run("return {string.match('key=value', '(%w+)=(%w+)')}")) == ["key", "value"])
        #expect(value(try lua.run("return (string.gsub('hello world', '(%w+)', '<%1>'))")) == "<hello> <world>")
        #expect(value(try lua.run("return select(2, string.gsub('abc', '', '-'))")) == 4)
        #expect(value(try lua.run("return (string.gsub('$name is $age', '%$(%w+)', {name = 'Bo', age = 3}))")) == "Bo is 3")
        #expect(value(try lua.run("return (string.gsub('abc', '%w', function(c) return c:upper() end))")) == "ABC")
        #expect(
            value(
                try lua.run(
                    "local t = {} for k, v in string.gmatch('a=1, b=2', '(%w+)=(%w+)') do t[#t+1] = k .. v end return table.concat(t, ';')"
                )) == "a1;b2")
        #expect(value(try lua.run("return string.match('THE (quick) fox', '%((%a+)%)')")) == "quick")
        #expect(value(try lua.run("return string.match(' x ', '^%s*(.-)%s*$')")) == "x")
        #expect(value(try lua.run("return string.find('f(a(b)c)', '%b()')")) == 2)
        #expect(value(try lua.run("return string.match('THE (quick) fox', '%f[%a]%a+', 5)")) == "quick")
        #expect(value(try lua.run("return string.match('hello hello', '(h%a+) %1')")) == "hello")
        #expect(value(try lua.run("return string.find('a.b', '.', 1, true)")) == 2)
        #expect(
            value(try lua.run("return {xpcall(function() error('x', 0) end, function(m) return 'handled ' .. m end)}")) == [
                false, "handled x",
            ])
        #expect(value(try lua.run("return {xpcall(function(a, b) return a + b end, print, 1, 2)}")) == [true, 3])
        #expect(value(try lua.run("return string.match('[x]', '[%[]')")) == "[")
        #expect(value(try lua.run("return string.match('abc', '()b()')")) == 2)
        #expect(value(try lua.run("return ('x'):rep(3, ',')")) == "x,x,x")
        #expect(error(try lua.run("return string.find('a', '[a')"))?.message.contains("malformed pattern") == true)
    }

    @Test func hugeStringsAreRefusedQuickly() throws {
        let lua = try LuaScript()
        let start = Date()
        #expect(error(try lua.run("return string.rep('x', 2^40)"))?.message.contains("string.rep: result larger") == true)
        #expect(error(try lua.run("return ('abc'):rep(1e9)"))?.message.contains("string.rep") == true)
        #expect(value(try lua.run("return #string.rep('', 2^62)")) == 0)
        #expect(value(try lua.run("return #string.rep('', 2^62, '')")) == 0)
        #expect(Date().timeIntervalSince(start) < 5)
        let (r, usage) = try lua.measure(
            "local s = ('x'):rep(1 << 20) local t = {} for i = 1, 200 do t[i] = s .. i end return #t")
        #expect(usage.trip == .memory)
        #expect(error(r) != nil)
    }

    @Test func tableMoveOverAHugeRangeIsBudgeted() throws {
        let lua = try LuaScript()
        lua.budget.instructions = 1_000_000
        let (r, usage) = try lua.measure("return table.move({}, 1, 1 << 40, 1, {})")
        #expect(usage.trip == .instructions)
        #expect(error(r) != nil)
        #expect(value(try lua.run("return table.move({1, 2, 3}, 1, 3, 2)")) == [1, 1, 2, 3])
    }

    @Test func metamethodsOfReturnedValuesNeverRun() throws {
        let lua = try LuaScript()
        lua.budget.wallTimeSeconds = 2
        let start = Date()
        let r = try lua.run(
            """
            local loop = function() while true do end end
            return setmetatable({ok = true}, {__index = loop, __pairs = loop, __len = loop, __tostring = loop,
                                              __eq = loop, __newindex = loop, __call = loop, __concat = loop})
            """)
        #expect(value(r) == ["ok": true])
        #expect(Date().timeIntervalSince(start) < 1.5)
    }

    @Test func errorObjectsWithMetamethodsCannotHang() throws {
        let lua = try LuaScript()
        let start = Date()
        let e = error(try lua.run("error(setmetatable({}, {__tostring = function() while true do end end}))"))
        #expect(e?.message == "(error object is a table value)")
        let e2 = error(try lua.run("error({message = 'structured failure'})"))
        #expect(e2?.message == "structured failure")
        #expect(Date().timeIntervalSince(start) < 1.5)
    }

    @Test func finalizersAreRefusedAndCloseIsBudgeted() throws {
        let lua = try LuaScript()
        let e = error(try lua.run("setmetatable({}, {__gc = function() while true do end end})"))
        #expect(e?.message.contains("__gc metamethods are not allowed") == true)
        lua.budget.instructions = 500_000
        let (r, usage) = try lua.measure(
            """
            do
              local x <close> = setmetatable({}, {__close = function() while true do end end})
            end
            """)
        #expect(usage.trip == .instructions)
        #expect(error(r) != nil)
        // and nothing runs at close time or at the next collection
        lua.state.collectGarbage()
        #expect(value(try lua.run("return 'alive'")) == "alive")
    }

    @Test func filesCannotChangeWhatOthersSee() throws {
        let lua = try LuaScript()
        let a = try lua.state.newEnvironment(kind: "rule", file: "rules/a.lua")
        let b = try lua.state.newEnvironment(kind: "rule", file: "rules/b.lua")
        _ = try lua.run(
            """
            string.upper = function() return 'pwned' end
            rawset(string, 'lower', nil)
            table.insert = nil
            math.floor = function() return 0 end
            shared = 'leak'
            os.time = function() return 0 end
            pcall(function() getmetatable('').__index = {upper = function() return 'pwned' end} end)
            """, file: "rules/a.lua", env: a)
        #expect(
            value(try lua.run("return string.upper('x') .. ('y'):upper() .. string.lower('Z')", file: "rules/b.lua", env: b))
                == "XYz")
        #expect(value(try lua.run("return math.floor(2.5) + os.time()", file: "rules/b.lua", env: b)) == .int(1_767_225_602))
        #expect(
            value(
                try lua.run(
                    "return rawget(_G, 'shared') == nil and type(table.insert) == 'function'", file: "rules/b.lua", env: b))
                == true)
        #expect(value(try lua.run("return getmetatable('')", file: "rules/b.lua", env: b)) == false)
        // method calls on strings always use the real (unreachable) string library
        #expect(value(try lua.run("return ('q'):upper()", file: "rules/a.lua", env: a)) == "Q")
    }

    @Test func undefinedGlobalsAreErrors() throws {
        let lua = try LuaScript()
        let e = error(try lua.run("\nreturn severtiy"))
        #expect(e?.message.contains("undefined global 'severtiy'") == true)
        #expect(e?.line == 2)
    }

    @Test func loadUsesTheFilesEnvironmentAndTextOnly() throws {
        let lua = try LuaScript()
        #expect(value(try lua.run("x = 5 return load('return x + 1')()")) == .int(6))
        var parts = ["return ", "7"]
        _ = parts
        #expect(
            value(try lua.run("local p = {'return ', '7'} local i = 0 return load(function() i = i + 1 return p[i] end)()"))
                == .int(7))
        #expect(value(try lua.run("return load('return x', 'c', 't', {x = 9})()")) == .int(9))
        parts.removeAll()
    }

    @Test func requireStaysInsideTheRulesDirectory() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("meow-req-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("lib"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "local M = {} function M.double(x) return 2 * x end return M".write(
            to: dir.appendingPathComponent("lib/util.lua"), atomically: true, encoding: .utf8)
        try "return 'outside'".write(
            to: dir.deletingLastPathComponent().appendingPathComponent("meow-outside.lua"), atomically: true, encoding: .utf8)
        let lua = try LuaScript()
        let modules = DirectoryModules(root: dir, chunkPrefix: "rules")
        lua.state.moduleResolver = { modules.resolve($0) }
        #expect(value(try lua.run("return require('lib.util').double(21)")) == .int(42))
        for bad in ["../meow-outside", "/etc/passwd", "..meow-outside", "lib/../../meow-outside", "socket.core", "lib.missing"] {
            let e = error(try lua.run("return require('\(bad)')"))
            #expect(e != nil, "require('\(bad)') must fail")
        }
        let e = error(try lua.run("return require('lib.missing')"))
        #expect(e?.message.contains("not found") == true)
    }

    @Test func theStateSurvivesManyFailures() throws {
        let lua = try LuaScript()
        lua.budget.instructions = 100_000
        for _ in 0..<50 {
            _ = try lua.run("while true do end")
            _ = try lua.run("error('boom')")
            _ = try lua.run("local t = nil; return t.x")
        }
        #expect(value(try lua.run("return 'ok'")) == "ok")
    }

    @Test func syntaxErrorsNameFileAndLine() throws {
        let lua = try LuaScript()
        let e = error(try lua.run("local x = 1\nlocal = 2", file: "rules/broken.lua"))
        #expect(e?.kind == .syntax)
        #expect(e?.file == "rules/broken.lua")
        #expect(e?.line == 2)
    }
}
