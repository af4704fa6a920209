import MeowModel
import MeowPlugins

/// A generated fleet for engine tests.
struct FleetLikeSnapshot {
    var apps = 30
    static let `default` = FleetLikeSnapshot()

    func make() -> Snapshot {
        var o = FleetOptions()
        o.apps = apps
        return FleetGenerator(options: o).generate()
    }
}
