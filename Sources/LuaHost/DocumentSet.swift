import MeowModel

/// The documents rules read in one evaluation cycle: the root entities and, appended on demand, the nested
/// objects and arrays rules reach through them.
///
/// Nothing is copied into Lua ahead of use: a proxy for root `i` is a small userdata, and each field is
/// looked up here when a rule reads it (DESIGN.md §3, issue #2's data path).
public final class DocumentSet {
    /// Root entities; node ids `0..<roots.count`.
    public let roots: [Value]
    public let ids: [String]
    public let idIndex: [String: Int]
    public let kindIndex: [String: [UInt32]]
    var nodes: [Value]
    var sortedKeys: [UInt32: [String]] = [:]

    /// - Parameters:
    ///   - documents: one `Value.object` per entity.
    public init(documents: [Value]) {
        roots = documents
        nodes = documents
        var ids: [String] = []
        var idIndex: [String: Int] = [:]
        var kindIndex: [String: [UInt32]] = [:]
        ids.reserveCapacity(documents.count)
        for (i, d) in documents.enumerated() {
            let id = d["id"]?.stringValue ?? "#\(i)"
            ids.append(id)
            idIndex[id] = i
            if let kind = d["kind"]?.stringValue { kindIndex[kind, default: []].append(UInt32(i)) }
        }
        self.ids = ids
        self.idIndex = idIndex
        self.kindIndex = kindIndex
    }

    func node(_ id: UInt32) -> Value? {
        Int(id) < nodes.count ? nodes[Int(id)] : nil
    }

    func append(_ v: Value) -> UInt32 {
        nodes.append(v)
        return UInt32(nodes.count - 1)
    }

    func keys(of id: UInt32) -> [String] {
        if let k = sortedKeys[id] { return k }
        let k = node(id)?.objectValue?.keys.sorted() ?? []
        sortedKeys[id] = k
        return k
    }

    /// What packed reference `node` stands for in a value a rule returned: a root entity's id, or the value
    /// of a nested node.
    func resolve(_ id: UInt32) -> Value {
        if Int(id) < roots.count { return .string(ids[Int(id)]) }
        return node(id) ?? .null
    }
}
