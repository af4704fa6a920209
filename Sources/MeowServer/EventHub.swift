import Foundation
import MeowModel

/// One server-sent event.
public struct ServerEvent: Sendable, Equatable {
    /// `<boot>-<sequence>`: the boot part changes when meow restarts, so a client resuming with an id of an
    /// earlier process is told to start over rather than silently missing what happened meanwhile.
    public var id: String
    /// `decision`, `action`, `state`, `rules`, `warning`, `reset`.
    public var type: String
    public var data: Value

    /// The SSE wire form.
    public var wire: String {
        "id: \(id)\nevent: \(type)\ndata: \(data.compactJSON)\n\n"
    }
}

/// The `/v1/events` stream's source: numbered events in a ring (for `Last-Event-ID` resume) and live
/// subscribers. A slow subscriber loses its oldest undelivered events, never blocks the runtime; it gets a
/// `reset` event in their place.
public final class EventHub: @unchecked Sendable {
    public let boot: String
    let capacity: Int
    let subscriberBuffer: Int
    private let lock = NSLock()
    private var ring: [(seq: Int, event: ServerEvent)] = []
    private var next = 1
    private var subscribers: [UUID: AsyncStream<ServerEvent>.Continuation] = [:]
    private var providerStates: [String: String] = [:]

    public init(capacity: Int = 10_000, subscriberBuffer: Int = 1_000, boot: String? = nil) {
        self.capacity = capacity
        self.subscriberBuffer = subscriberBuffer
        self.boot = boot ?? String(UInt64(Date().timeIntervalSince1970 * 1000), radix: 36)
    }

    /// Numbers and keeps an event, and hands it to every subscriber.
    public func publish(_ type: String, _ data: Value) {
        lock.lock()
        let event = ServerEvent(id: "\(boot)-\(next)", type: type, data: data)
        ring.append((next, event))
        next += 1
        if ring.count > capacity { ring.removeFirst(ring.count - capacity) }
        let subs = Array(subscribers.values)
        lock.unlock()
        for s in subs {
            if case .dropped = s.yield(event) {
                // the subscriber is behind: it will see a gap in ids; the reset tells it to refetch
                s.yield(ServerEvent(id: event.id, type: "reset", data: ["reason": "this client fell behind; refetch the state"]))
            }
        }
    }

    public struct Subscription: Sendable {
        /// Events to send first: those after `Last-Event-ID`, or a single `reset` when they are gone.
        public var replay: [ServerEvent]
        public var live: AsyncStream<ServerEvent>
        public var cancel: @Sendable () -> Void
    }

    /// Subscribes, replaying what came after `lastEventID` when the ring still has it. An id of another
    /// process (`boot`) or older than the ring gives a `reset` event first: the client refetches the state.
    public func subscribe(after lastEventID: String?) -> Subscription {
        let (stream, continuation) = AsyncStream.makeStream(
            of: ServerEvent.self, bufferingPolicy: .bufferingNewest(subscriberBuffer))
        let key = UUID()
        lock.lock()
        var replay: [ServerEvent] = []
        if let last = lastEventID, !last.isEmpty {
            let parts = last.split(separator: "-")
            let seq = parts.count == 2 && parts[0] == boot ? Int(parts[1]) : nil
            let oldest = ring.first?.seq ?? next
            if let seq, seq < next, seq >= oldest - 1 {
                replay = ring.filter { $0.seq > seq }.map(\.event)
            } else {
                let why =
                    seq == nil
                    ? "Last-Event-ID \(last) is not from this meow process (it restarted); refetch the state"
                    : "events after \(last) are no longer kept; refetch the state"
                replay = [ServerEvent(id: "\(boot)-\(next - 1)", type: "reset", data: ["reason": .string(why)])]
            }
        }
        subscribers[key] = continuation
        lock.unlock()
        let cancel: @Sendable () -> Void = { [weak self] in self?.unsubscribe(key) }
        continuation.onTermination = { _ in cancel() }
        return Subscription(replay: replay, live: stream, cancel: cancel)
    }

    func unsubscribe(_ key: UUID) {
        lock.lock()
        let c = subscribers.removeValue(forKey: key)
        lock.unlock()
        c?.finish()
    }

    /// Records a provider's state; true when it differs from the last one recorded (or is the first).
    func providerStateChanged(_ name: String, to state: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return providerStates.updateValue(state, forKey: name) != state
    }

    /// Ends every open stream (shutdown).
    public func closeAll() {
        lock.lock()
        let all = subscribers
        subscribers = [:]
        lock.unlock()
        for c in all.values { c.finish() }
    }

    public var subscriberCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return subscribers.count
    }

    /// The id of the newest event (`<boot>-0` before any).
    public var lastID: String {
        lock.lock()
        defer { lock.unlock() }
        return "\(boot)-\(next - 1)"
    }
}
