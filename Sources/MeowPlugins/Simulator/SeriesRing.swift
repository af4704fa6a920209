/// The most recent values of many regular series that share one timeline, in one flat `[Float]`:
/// one write per series per step and no allocation after `init`, which is what lets 150k series
/// advance a day in well under a second.
struct SeriesRing {
    let seriesCount: Int
    let capacity: Int
    private var storage: [Float]
    /// Values held per series (at most `capacity`).
    private(set) var count = 0
    /// The slot the next step writes.
    private var head = 0

    init(seriesCount: Int, capacity: Int) {
        self.seriesCount = seriesCount
        self.capacity = max(1, capacity)
        storage = [Float](repeating: 0, count: seriesCount * self.capacity)
    }

    /// Starts a step: returns the slot that the step's values go to (overwriting the oldest when full).
    mutating func beginStep() -> Int {
        let slot = head
        head = (head + 1) % capacity
        count = min(count + 1, capacity)
        return slot
    }

    /// Starts a step and hands the storage to `body` for its writes: index `series * capacity + slot`.
    /// One exclusive access for the whole step instead of one checked write per value.
    mutating func step(_ body: (_ slot: Int, _ capacity: Int, _ storage: UnsafeMutableBufferPointer<Float>) -> Void) {
        let slot = beginStep()
        let capacity = capacity
        storage.withUnsafeMutableBufferPointer { body(slot, capacity, $0) }
    }

    subscript(series: Int, slot: Int) -> Float {
        get { storage[series * capacity + slot] }
        set { storage[series * capacity + slot] = newValue }
    }

    /// The newest value of one series (0 before the first step).
    func latest(_ series: Int) -> Float {
        count == 0 ? 0 : storage[series * capacity + (head - 1 + capacity) % capacity]
    }

    /// The held values of one series, oldest first.
    func values(_ series: Int) -> [Float] {
        var out = [Float]()
        out.reserveCapacity(count)
        let first = (head - count + capacity) % capacity
        for i in 0..<count { out.append(storage[series * capacity + (first + i) % capacity]) }
        return out
    }
}
