import MeowModel
import MeowPlugins
import Testing

@Suite struct FleetGeneratorTests {
    @Test func seededRandomIsStable() {
        var a = SeededRandom(seed: 42)
        var b = SeededRandom(seed: 42)
        #expect((0..<100).map { _ in a.next() } == (0..<100).map { _ in b.next() })
    }
}
