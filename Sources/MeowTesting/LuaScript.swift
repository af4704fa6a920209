import Foundation
import LuaHost
import MeowModel

/// Runs Lua snippets in a fresh sandboxed state: the shared set-up of sandbox tests.
///
/// ```swift
/// let lua = try LuaScript()
/// #expect(try lua.run("return 1 + 1").get() == .int(2))
/// ```
public final class LuaScript {
    public let state: LuaState
    public var budget = Budget.default
    public var now: Double = 1_767_225_600  // 2026-01-01T00:00:00Z

    public init() throws {
        state = try LuaState()
    }

    /// Loads `source` as file `file` in a new environment (or `env`) and runs it.
    public func run(_ source: String, file: String = "rules/test.lua", env: LuaRef? = nil) throws -> Result<Value, LuaError> {
        let env = try env ?? state.newEnvironment(kind: "rule", file: file)
        let fn: LuaRef
        do {
            fn = try state.load(source, chunkName: "@\(file)", env: env)
        } catch let e as LuaError {
            return .failure(e)
        }
        defer { state.release(fn) }
        return state.call(fn, [], budget: budget, now: now).result
    }

    /// Like `run`, also returning what the evaluation used.
    public func measure(_ source: String, file: String = "rules/test.lua") throws -> (Result<Value, LuaError>, BudgetUsage) {
        let env = try state.newEnvironment(kind: "rule", file: file)
        let fn = try state.load(source, chunkName: "@\(file)", env: env)
        defer { state.release(fn) }
        let r = state.call(fn, [], budget: budget, now: now)
        return (r.result, r.usage)
    }
}
