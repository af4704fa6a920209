/// An error from Lua code, with where it happened.
public struct LuaError: Error, CustomStringConvertible, Sendable, Hashable {
    /// The message as Lua raised it (for runtime errors it usually starts with `file:line:`).
    public var message: String
    /// The file chunk (e.g. `rules/prod.lua`) and line of the innermost Lua frame, when known.
    public var file: String?
    public var line: Int?
    /// The budget that stopped the evaluation, if that is why it failed.
    public var trip: BudgetTrip?
    public var kind: Kind

    public enum Kind: String, Sendable, Hashable { case runtime, syntax, memory, handler, host }

    public init(message: String, file: String? = nil, line: Int? = nil, trip: BudgetTrip? = nil, kind: Kind = .runtime) {
        self.message = message
        self.file = file
        self.line = line
        self.trip = trip
        self.kind = kind
    }

    public var description: String {
        if let file, let line, !message.hasPrefix("\(file):") { return "\(file):\(line): \(message)" }
        return message
    }

    /// The message without a leading `file:line: ` that Lua adds, for display next to a separate position.
    public var bareMessage: String {
        guard let file, let line else { return message }
        let prefix = "\(file):\(line): "
        return message.hasPrefix(prefix) ? String(message.dropFirst(prefix.count)) : message
    }
}
