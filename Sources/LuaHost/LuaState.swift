import Foundation
import LuaShim
import MeowModel

/// One sandboxed Lua 5.4 state (DESIGN.md §3). Not thread-safe: keep each state on one thread at a time.
///
/// Every call into Lua goes through LuaShim's protected entry points, so no Lua error ever unwinds
/// through a Swift frame; functions Lua calls back (document look-ups, print, require) return statuses
/// that the C side turns into Lua errors after Swift has returned.
///
/// ```swift
/// let lua = try LuaState()
/// let env = try lua.newEnvironment(kind: "rule", file: "rules/x.lua")
/// let chunk = try lua.load("return 1 + 1", chunkName: "@rules/x.lua", env: env)
/// let result = try lua.call(chunk, [], budget: .default, now: 0).get()   // .int(2)
/// ```
public final class LuaState {
    let L: OpaquePointer
    private var generation: UInt32 = 0

    /// The documents proxies read from; setting it starts a new generation (older proxies stop working).
    public var documents: DocumentSet? {
        didSet {
            generation &+= 1
            meow_doc_generation(L, generation)
        }
    }

    /// Lines printed by Lua code since the last `takeOutput()`, bounded.
    private(set) var output: [String] = []
    private var outputBytes = 0
    public var maxOutputBytes = 64 * 1024

    /// Resolves `require(name)` to source text and a chunk name; nil when modules are not available.
    public var moduleResolver: ((String) -> Result<(source: String, chunkName: String), LuaError>)?
    private var moduleSource: [UInt8] = []
    private var moduleChunk: [UInt8] = []

    /// - Parameter maxMemoryBytes: hard cap on the whole state's heap.
    public init(maxMemoryBytes: Int = 1 << 30) throws {
        guard let L = meow_state_new(maxMemoryBytes) else {
            throw LuaError(message: "could not create a Lua state", kind: .memory)
        }
        self.L = L
        let ctx = Unmanaged.passUnretained(self).toOpaque()
        var doc = meow_doc_callbacks(
            ctx: ctx, lookup: docLookup, length: docLength, entry: docEntry, describe: docDescribe)
        meow_set_doc_callbacks(L, &doc)
        var host = meow_host_callbacks(ctx: ctx, print: hostPrint, module: hostModule, find: hostFind)
        meow_set_host_callbacks(L, &host)
        let status = Sandbox.bootstrap.withCString { src in
            meow_sandbox_install(L, src, strlen(src), "=meow.sandbox")
        }
        if status != MEOW_OK { throw lastError(status) }
    }

    deinit { meow_state_close(L) }

    /// Bytes the Lua heap holds now.
    public var memoryInUse: Int { meow_memory_in_use(L) }

    /// A fresh sandboxed global table (see `Sandbox`). `kind` is passed to the sandbox: "rule", "test", "module".
    public func newEnvironment(kind: String, file: String) throws -> LuaRef {
        var ref: Int32 = 0
        let status = meow_env_new(L, kind, file, &ref)
        if status != MEOW_OK { throw lastError(status) }
        return LuaRef(ref)
    }

    /// Compiles text (never bytecode) with `_ENV` = `env`. `chunkName` like `@rules/x.lua` makes errors
    /// read `rules/x.lua:LINE: ...`.
    public func load(_ source: String, chunkName: String, env: LuaRef?) throws -> LuaRef {
        var ref: Int32 = 0
        var src = source
        let status = src.withUTF8 { buf in
            buf.withMemoryRebound(to: CChar.self) { p in
                meow_load(L, p.baseAddress, p.count, chunkName, env?.raw ?? 0, &ref)
            }
        }
        if status != MEOW_OK {
            var e = lastError(status, kind: .syntax)
            // Lua shortens long chunk names in messages; the chunk name we gave is the real file.
            if chunkName.hasPrefix("@") {
                e.file = String(chunkName.dropFirst())
                if let m = e.message.range(of: #":(\d+): "#, options: .regularExpression) {
                    e.line = Int(e.message[m].dropFirst().dropLast(2))
                }
            }
            throw e
        }
        return LuaRef(ref)
    }

    /// The value of global `name` in `env`, kept as a reference (nil when the global is nil).
    public func global(_ name: String, in env: LuaRef) throws -> LuaRef? {
        var ref: Int32 = 0
        let status = meow_env_get(L, env.raw, name, &ref)
        if status != MEOW_OK { throw lastError(status) }
        return ref > 0 ? LuaRef(ref) : nil
    }

    public func release(_ ref: LuaRef) { meow_unref(L, ref.raw) }

    /// Calls `function` with `arguments` under `budget`, at evaluation time `now` (Unix seconds), and returns
    /// its first result converted to a `Value` (entity proxies in it become the entity's id). The result is
    /// read raw: no metamethod of a returned value runs.
    public func call(_ function: LuaRef, _ arguments: [LuaArgument], budget: Budget, now: Double) -> (
        result: Result<Value, LuaError>, usage: BudgetUsage
    ) {
        var cb = budget.c
        var out: UnsafeMutablePointer<UInt8>? = nil
        var outLen = 0
        let hasValues = arguments.contains { if case .value = $0 { true } else { false } }
        meow_budget_begin(L, &cb, now)
        let status: Int32
        if hasValues {
            var packs: [[UInt8]] = arguments.map { if case .value(let v) = $0 { PackedValue.encode(v) } else { [] } }
            status = withArgs(arguments, &packs) { args in
                meow_call(L, function.raw, args.baseAddress, Int32(args.count), &out, &outLen)
            }
        } else {
            // The hot path (a rule on an entity): no packing, no heap allocation for the arguments.
            status = withUnsafeTemporaryAllocation(of: meow_arg.self, capacity: max(1, arguments.count)) { buf in
                for (i, a) in arguments.enumerated() { buf[i] = Self.cArgument(a) }
                return meow_call(L, function.raw, buf.baseAddress, Int32(arguments.count), &out, &outLen)
            }
        }
        let u = meow_budget_end(L)
        let usage = BudgetUsage(
            instructions: u.instructions, memoryPeakBytes: u.memory_peak, elapsedSeconds: Double(u.elapsed_ns) / 1e9,
            patternSteps: u.pattern_steps, trip: BudgetTrip(u.trip))
        defer { meow_free(out) }
        if status != MEOW_OK {
            var error = lastError(status)
            error.trip = usage.trip
            if let trip = usage.trip { error.message = Self.tripMessage(trip, budget: budget) }
            return (.failure(error), usage)
        }
        let bytes = UnsafeBufferPointer(start: out, count: outLen)
        guard let value = PackedValue.decode(bytes, documents: documents) else {
            return (.failure(LuaError(message: "internal error: malformed result", kind: .host)), usage)
        }
        return (.success(value), usage)
    }

    /// Runs a full garbage collection (between evaluation cycles).
    public func collectGarbage() { _ = meow_collect(L) }

    /// Returns and clears what Lua code printed.
    public func takeOutput() -> [String] {
        defer {
            output = []
            outputBytes = 0
        }
        return output
    }

    static func tripMessage(_ trip: BudgetTrip, budget: Budget) -> String {
        switch trip {
        case .instructions: "instruction budget exceeded (\(budget.instructions) instructions)"
        case .memory: "memory budget exceeded (\(budget.memoryBytes / 1024) KiB)"
        case .time: "time budget exceeded (\(budget.wallTimeSeconds) s)"
        case .pattern: "pattern matching budget exceeded (\(budget.patternSteps) steps)"
        }
    }

    private static func cArgument(_ argument: LuaArgument) -> meow_arg {
        var a = meow_arg()
        switch argument {
        case .nil, .value: a.kind = Int32(MEOW_ARG_NIL)
        case .ref(let r): a.kind = Int32(MEOW_ARG_REF); a.ref = r.raw
        case .entity(let n): a.kind = Int32(MEOW_ARG_ENTITY); a.node = UInt32(n)
        case .integer(let v): a.kind = Int32(MEOW_ARG_INT); a.i = v
        case .number(let v): a.kind = Int32(MEOW_ARG_NUM); a.n = v
        }
        return a
    }

    private func withArgs<R>(_ arguments: [LuaArgument], _ packs: inout [[UInt8]], _ body: (UnsafeBufferPointer<meow_arg>) -> R)
        -> R
    {
        // Pointers into `packs` must stay valid during the call: pin every buffer first.
        func pin(_ i: Int, _ acc: [meow_arg]) -> R {
            if i == arguments.count { return acc.withUnsafeBufferPointer(body) }
            guard case .value = arguments[i] else { return pin(i + 1, acc + [Self.cArgument(arguments[i])]) }
            return packs[i].withUnsafeBufferPointer { p in
                var a = meow_arg()
                a.kind = Int32(MEOW_ARG_PACK)
                a.pack = p.baseAddress
                a.packlen = p.count
                return pin(i + 1, acc + [a])
            }
        }
        return pin(0, [])
    }

    func lastError(_ status: Int32, kind: LuaError.Kind = .runtime) -> LuaError {
        var len = 0
        let p = meow_last_error(L, &len)
        let message = p.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: len), as: UTF8.self) } ?? "unknown error"
        var file: String? = String(cString: meow_last_error_source(L))
        var line: Int? = Int(meow_last_error_line(L))
        if file?.isEmpty ?? true { file = nil }
        if line == 0 { line = nil }
        var k = kind
        switch status {
        case Int32(MEOW_ERR_SYNTAX): k = .syntax
        case Int32(MEOW_ERR_MEMORY): k = .memory
        case Int32(MEOW_ERR_HANDLER): k = .handler
        default: break
        }
        // Syntax errors carry their position only in the message: "rules/x.lua:3: ..."
        if file == nil, let (f, l) = Self.position(in: message) {
            file = f
            line = l
        }
        return LuaError(message: message, file: file, line: line, kind: k)
    }

    /// Splits a leading `file.lua:LINE:` off a Lua message.
    static func position(in message: String) -> (String, Int)? {
        guard let range = message.range(of: #"^[^\s:]+\.lua:\d+:"#, options: .regularExpression) else { return nil }
        let head = message[range].dropLast()
        guard let colon = head.lastIndex(of: ":"), let line = Int(head[head.index(after: colon)...]) else { return nil }
        return (String(head[..<colon]), line)
    }

    // MARK: - Callbacks' Swift side

    fileprivate func appendOutput(_ text: String) {
        guard outputBytes < maxOutputBytes else { return }
        outputBytes += text.utf8.count
        output.append(outputBytes <= maxOutputBytes ? text : String(text.prefix(256)) + " …(output truncated)")
    }

    fileprivate func resolveModule(
        _ name: String, _ source: UnsafeMutablePointer<meow_value>, _ chunk: UnsafeMutablePointer<meow_value>
    ) -> Int32 {
        guard let resolver = moduleResolver else {
            moduleSource = Array("require is not available here".utf8)
            moduleSource.withUnsafeBufferPointer { fillBytes(source, $0) }
            return 1
        }
        switch resolver(name) {
        case .success(let m):
            moduleSource = Array(m.source.utf8)
            moduleChunk = Array(m.chunkName.utf8)
            moduleSource.withUnsafeBufferPointer { fillBytes(source, $0) }
            moduleChunk.withUnsafeBufferPointer { fillBytes(chunk, $0) }
            return 0
        case .failure(let e):
            moduleSource = Array(e.message.utf8)
            moduleSource.withUnsafeBufferPointer { fillBytes(source, $0) }
            return 1
        }
    }

    /// Writes `value` into `out`; strings are copied into the state's scratch buffer at `offset`.
    fileprivate func fill(_ out: UnsafeMutablePointer<meow_value>, _ value: Value, scratchOffset: Int = 0) -> Int {
        switch value {
        case .null: out.pointee.type = Int32(MEOW_V_NIL)
        case .bool(let b): out.pointee.type = Int32(b ? MEOW_V_TRUE : MEOW_V_FALSE)
        case .int(let i): out.pointee.type = Int32(MEOW_V_INT); out.pointee.i = i
        case .double(let d): out.pointee.type = Int32(MEOW_V_NUM); out.pointee.n = d
        case .string(var s):
            return s.withUTF8 { bytes in
                // Scratch may move when it grows: strings written earlier are re-pointed by the caller.
                guard let base = meow_scratch(L, scratchOffset + bytes.count) else {
                    out.pointee.type = Int32(MEOW_V_NIL)
                    return 0
                }
                let dst = UnsafeMutableRawPointer(base).advanced(by: scratchOffset)
                if let src = bytes.baseAddress { dst.copyMemory(from: src, byteCount: bytes.count) }
                out.pointee.type = Int32(MEOW_V_STR)
                out.pointee.s = UnsafePointer(base.advanced(by: scratchOffset))
                out.pointee.len = bytes.count
                return bytes.count
            }
        case .object:
            out.pointee.type = Int32(MEOW_V_OBJECT)
            out.pointee.node = documents?.append(value) ?? 0
        case .array:
            out.pointee.type = Int32(MEOW_V_ARRAY)
            out.pointee.node = documents?.append(value) ?? 0
        }
        return 0
    }

    fileprivate func fillError(_ out: UnsafeMutablePointer<meow_value>, _ message: String) -> Int32 {
        _ = fill(out, .string(message))
        return 1
    }
}

private func fillBytes(_ out: UnsafeMutablePointer<meow_value>, _ bytes: UnsafeBufferPointer<UInt8>) {
    out.pointee.type = Int32(MEOW_V_STR)
    out.pointee.s = UnsafeRawPointer(bytes.baseAddress).map { $0.assumingMemoryBound(to: CChar.self) }
    out.pointee.len = bytes.count
}

@inline(__always)
private func state(_ ctx: UnsafeMutableRawPointer?) -> LuaState {
    Unmanaged<LuaState>.fromOpaque(ctx!).takeUnretainedValue()
}

// C trampolines' Swift halves. They never call a Lua function that can raise.

private let docLookup:
    @convention(c) (UnsafeMutableRawPointer?, UInt32, UnsafePointer<CChar>?, Int, Int64, UnsafeMutablePointer<meow_value>?) ->
        Int32 = {
            ctx, node, key, keyLen, intKey, out in
            let lua = state(ctx)
            guard let out, let docs = lua.documents, let container = docs.node(node) else {
                return out.map { lua.fillError($0, "entity data is no longer available") } ?? 1
            }
            let value: Value?
            switch container {
            case .object(let o):
                if let key {
                    let k = String(decoding: UnsafeRawBufferPointer(start: key, count: keyLen), as: UTF8.self)
                    value = o[k]
                } else {
                    value = nil
                }
            case .array(let a):
                value = key == nil && intKey >= 1 && intKey <= a.count ? a[Int(intKey - 1)] : nil
            default:
                value = nil
            }
            _ = lua.fill(out, value ?? .null)
            return 0
        }

private let docLength: @convention(c) (UnsafeMutableRawPointer?, UInt32) -> Int64 = { ctx, node in
    switch state(ctx).documents?.node(node) {
    case .array(let a): return Int64(a.count)
    case .object(let o): return Int64(o.count)
    default: return 0
    }
}

private let docEntry:
    @convention(c) (UnsafeMutableRawPointer?, UInt32, Int64, UnsafeMutablePointer<meow_value>?, UnsafeMutablePointer<meow_value>?)
        -> Int32 = {
            ctx, node, position, key, value in
            let lua = state(ctx)
            guard let key, let value, let docs = lua.documents, let container = docs.node(node), position >= 0 else { return 0 }
            switch container {
            case .array(let a):
                guard position < a.count else { return 0 }
                key.pointee.type = Int32(MEOW_V_INT)
                key.pointee.i = position + 1
                _ = lua.fill(value, a[Int(position)])
                return 1
            case .object(let o):
                let keys = docs.keys(of: node)
                guard position < keys.count else { return 0 }
                let k = keys[Int(position)]
                let used = lua.fill(key, .string(k))
                _ = lua.fill(value, o[k] ?? .null, scratchOffset: used)
                // The value's string may have grown (moved) the scratch buffer: re-point the key into it.
                if value.pointee.type == Int32(MEOW_V_STR), let vs = value.pointee.s {
                    key.pointee.s = vs - used
                }
                return 1
            default:
                return 0
            }
        }

private let docDescribe: @convention(c) (UnsafeMutableRawPointer?, UInt32, UnsafeMutablePointer<meow_value>?) -> Int32 = {
    ctx, node, out in
    let lua = state(ctx)
    guard let out, let docs = lua.documents else { return 1 }
    if Int(node) < docs.roots.count {
        _ = lua.fill(out, .string(docs.ids[Int(node)]))
    } else {
        _ = lua.fill(out, .string(docs.node(node)?.jsonString() ?? "nil"))
    }
    return 0
}

private let hostPrint: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?, Int) -> Void = { ctx, text, len in
    guard let text else { return }
    state(ctx).appendOutput(String(decoding: UnsafeRawBufferPointer(start: text, count: len), as: UTF8.self))
}

private let hostModule:
    @convention(c) (
        UnsafeMutableRawPointer?, UnsafePointer<CChar>?, Int, UnsafeMutablePointer<meow_value>?, UnsafeMutablePointer<meow_value>?
    ) -> Int32 = {
        ctx, name, len, source, chunk in
        guard let name, let source, let chunk else { return 1 }
        let n = String(decoding: UnsafeRawBufferPointer(start: name, count: len), as: UTF8.self)
        return state(ctx).resolveModule(n, source, chunk)
    }

private let hostFind:
    @convention(c) (UnsafeMutableRawPointer?, Int32, UnsafePointer<CChar>?, Int, UnsafeMutablePointer<UInt32>?, Int64) -> Int64 =
        {
            ctx, mode, arg, len, ids, cap in
            guard let arg, let docs = state(ctx).documents else { return 0 }
            let a = String(decoding: UnsafeRawBufferPointer(start: arg, count: len), as: UTF8.self)
            let found: [UInt32]
            if mode == 1 {
                found = docs.idIndex[a].map { [UInt32($0)] } ?? []
            } else {
                found = docs.kindIndex[a] ?? []
            }
            if let ids {
                for (i, n) in found.prefix(Int(cap)).enumerated() { ids[i] = n }
            }
            return Int64(found.count)
        }
