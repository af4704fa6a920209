import MeowModel

/// A value kept alive in a Lua state's registry (a function, an environment table). Valid only in the state
/// that made it; give it back with `LuaState.release(_:)` when done.
public struct LuaRef: Sendable, Hashable {
    public let raw: Int32
    init(_ raw: Int32) { self.raw = raw }
}

/// An argument of `LuaState.call`.
public enum LuaArgument: Sendable {
    case `nil`
    case ref(LuaRef)
    /// The read-only proxy of root document `index` of the current `DocumentSet`.
    case entity(Int)
    case integer(Int64)
    case number(Double)
    /// A plain value, copied into a fresh Lua table (fixtures, options).
    case value(Value)
}
