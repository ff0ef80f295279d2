import ServerCore

/// The proxy's client-facing result socket (`XPUB` on `-port_out`) behaves like one server's sink:
/// a reply waits, bounded by `ReplyGate`, until its client's own SUBSCRIBE has arrived, so the
/// first SHOW_CONFIG reply of a new `BertClient` is never lost to the "slow joiner" race.
///
/// Same rules as `Sink` in ServerCore, as a value type without I/O: feed it the XPUB's
/// subscription messages and the replies, send what it returns. Owned by the broker thread.
public struct ReplyHolder: Sendable {
    struct Held: Sendable {
        let client: [UInt8]
        let frames: [[UInt8]]
        let receivedAt: Double
        var deadline: Double
        let isConfig: Bool
    }

    public let gate: ReplyGate
    public private(set) var book = SubscriptionBook()
    private var held: [Held] = []
    private var lastConfigSent: [[UInt8]: Double] = [:]

    public init(gate: ReplyGate = ReplyGate()) { self.gate = gate }

    /// Replies waiting for their client's subscription.
    public var heldCount: Int { held.count }

    /// When the earliest held reply must go out anyway.
    public var nextDeadline: Double? { held.map(\.deadline).min() }

    /// A reply for `client`: returns the frames to send now (the reply itself, or nothing when held).
    public mutating func reply(to client: [UInt8], frames: [[UInt8]], isConfig: Bool, now: Double) -> [[[UInt8]]] {
        let until = gate.holdUntil(identity: client, isConfig: isConfig, book: book, now: now,
                                   lastConfigSent: isConfig ? lastConfigSent[client] : nil)
        let h = Held(client: client, frames: frames, receivedAt: now, deadline: until, isConfig: isConfig)
        if until <= now { return [sent(h, now: now)] }
        held.append(h)
        return []
    }

    /// One XPUB subscription message (byte 0: 1 subscribe / 0 unsubscribe, then the topic).
    public mutating func subscription(_ message: [UInt8], now: Double) {
        book.apply(message, now: now)
        guard message.first == 0 else { return }
        // A subscriber left (a client reconnecting with the same identity): its held replies wait for the new one.
        for i in held.indices where !book.isSubscribed(exactly: held[i].client) {
            let wait = gate.waitWithoutOwnSubscriber(identity: held[i].client, book: book)
            held[i].deadline = max(held[i].deadline, now + wait)
        }
    }

    /// The held replies that may go out at `now` (their client subscribed, or their wait is over).
    public mutating func release(now: Double) -> [[[UInt8]]] {
        guard !held.isEmpty else { return [] }
        var out: [[[UInt8]]] = []
        var keep: [Held] = []
        for h in held {
            if gate.mayRelease(identity: h.client, receivedAt: h.receivedAt, deadline: h.deadline, book: book, now: now) {
                out.append(sent(h, now: now))
            } else {
                keep.append(h)
            }
        }
        held = keep
        return out
    }

    private mutating func sent(_ h: Held, now: Double) -> [[UInt8]] {
        if h.isConfig {
            if lastConfigSent.count > 100_000 { lastConfigSent.removeAll() }
            lastConfigSent[h.client] = now
        }
        return h.frames
    }
}
