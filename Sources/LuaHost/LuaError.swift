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
        guard let line else { return message }
        // Lua writes the chunk name first, shortened with "..." when long: drop up to ":LINE: ".
        let marker = ":\(line): "
        if let file, message.hasPrefix("\(file)\(marker)") { return String(message.dropFirst(file.count + marker.count)) }
        if let r = message.range(of: marker), !message[..<r.lowerBound].contains(" ") || message.hasPrefix("...") {
            return String(message[r.upperBound...])
        }
        return message
    }
}
