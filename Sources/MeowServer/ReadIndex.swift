import Foundation
import MeowModel
import MeowRuntime

/// What the read routes need of one published state, computed once per state version rather than per
/// request: entities by kind sorted by id, decisions by subject, each subject's environment, and the JSON of
/// each application list item (built the first time it is asked for).
final class ReadIndex: @unchecked Sendable {
    let version: Int
    let view: StateView
    let applications: [Application]
    let decisions: DecisionIndex
    let byID: [String: Entity]
    /// Workloads and changes by application id.
    let workloads: [String: [Entity]]
    let changes: [String: [Entity]]
    private let lock = NSLock()
    private var itemJSON: [String: [UInt8]] = [:]

    init(_ view: StateView) {
        self.version = view.version
        self.view = view
        var apps: [Application] = []
        var byID: [String: Entity] = [:]
        var workloads: [String: [Entity]] = [:]
        var changes: [String: [Entity]] = [:]
        byID.reserveCapacity(view.snapshot.entities.count)
        for e in view.snapshot.entities {
            byID[e.id] = e
            switch e {
            case .application(let a): apps.append(a)
            case .workload(let w): if let app = w.application { workloads[app, default: []].append(e) }
            case .change(let c): if let app = c.application { changes[app, default: []].append(e) }
            default: break
            }
        }
        self.workloads = workloads
        self.changes = changes
        applications = apps.sorted { $0.id < $1.id }
        self.byID = byID
        decisions = DecisionIndex(view)
    }

    /// The list item of an application as JSON: the entity, its first 20 decisions, its insights.
    func applicationItemJSON(_ a: Application) throws -> [UInt8] {
        if let cached = lock.withLock({ itemJSON[a.id] }) { return cached }
        var w = JSONWriter(capacity: 4096)
        w.value(try API.applicationItem(a, decisions))
        let bytes = w.bytes
        lock.withLock { itemJSON[a.id] = bytes }
        return bytes
    }
}

/// The index of the newest published state; rebuilt (once, by whichever request comes first) when the
/// state changes.
final class ReadCache: @unchecked Sendable {
    private let lock = NSLock()
    private var current: ReadIndex?

    func index(_ view: StateView) -> ReadIndex {
        lock.lock()
        defer { lock.unlock() }
        if let c = current, c.version == view.version { return c }
        let built = ReadIndex(view)
        current = built
        return built
    }
}
