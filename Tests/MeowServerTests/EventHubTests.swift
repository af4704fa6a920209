import Foundation
import MeowModel
import Testing

@testable import MeowRuntime
@testable import MeowServer

/// Resume after Last-Event-ID: exactly what came after, or a reset when it cannot be known.
struct EventHubTests {
    @Test func resumesAfterTheLastEventExactly() {
        let hub = EventHub(capacity: 100, boot: "b1")
        for i in 1...5 { hub.publish("action", ["n": .int(Int64(i))]) }
        let sub = hub.subscribe(after: "b1-2")
        #expect(sub.replay.map(\.id) == ["b1-3", "b1-4", "b1-5"])
        #expect(sub.replay.map { $0.data["n"] } == [3, 4, 5])
        #expect(hub.subscribe(after: "b1-5").replay.isEmpty)
        #expect(hub.subscribe(after: nil).replay.isEmpty)
        #expect(hub.lastID == "b1-5")
    }

    @Test func anotherProcessOrAnEvictedIDGivesAReset() {
        let hub = EventHub(capacity: 3, boot: "b2")
        for _ in 1...10 { hub.publish("decision", [:]) }
        let restarted = hub.subscribe(after: "b1-9")
        #expect(restarted.replay.map(\.type) == ["reset"])
        #expect(restarted.replay[0].data["reason"]?.stringValue?.contains("restarted") == true)
        let evicted = hub.subscribe(after: "b2-2")
        #expect(evicted.replay.map(\.type) == ["reset"])
        // the oldest kept is 8: after 7 everything is still there
        #expect(hub.subscribe(after: "b2-7").replay.map(\.id) == ["b2-8", "b2-9", "b2-10"])
        #expect(hub.subscribe(after: "garbage").replay.map(\.type) == ["reset"])
        // an id from the future (a client confused about the process) is not silently accepted
        #expect(hub.subscribe(after: "b2-99").replay.map(\.type) == ["reset"])
    }

    @Test func liveEventsReachSubscribersAndCloseEndsThem() async {
        let hub = EventHub(boot: "b3")
        let sub = hub.subscribe(after: nil)
        #expect(hub.subscriberCount == 1)
        hub.publish("action", ["id": 1])
        hub.publish("warning", ["message": "x"])
        hub.closeAll()
        var got: [String] = []
        for await e in sub.live { got.append("\(e.id) \(e.type)") }
        #expect(got == ["b3-1 action", "b3-2 warning"])
        #expect(hub.subscriberCount == 0)
    }

    @Test func wireFormatIsServerSentEvents() {
        let e = ServerEvent(id: "b-7", type: "decision", data: ["rule": "x"])
        #expect(e.wire == "id: b-7\nevent: decision\ndata: {\"rule\":\"x\"}\n\n")
    }
}

/// Provider states reach the stream when they change, not on every poll.
struct ProviderStateEventTests {
    func status(_ state: String) -> InstanceStatus {
        InstanceStatus(
            name: "sim", plugin: "simulator", environment: nil, state: state, entities: 3,
            consecutiveFailures: state == "ok" ? 0 : 1,
            breaker: "closed", polls: 1, failures: 0, warnings: [])
    }

    @Test func onlyChangesArePublished() {
        let hub = EventHub(boot: "p")
        for s in ["ok", "ok", "failing", "failing", "ok", "ok"] { hub.publish(RuntimeEvent.polled(status(s))) }
        let states = hub.subscribe(after: "p-0").replay.map { $0.data["state"]?.stringValue ?? "" }
        #expect(states == ["ok", "failing", "ok"])
    }
}
