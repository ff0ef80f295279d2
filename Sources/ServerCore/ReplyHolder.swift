/// The replies a result socket (`XPUB` on `-port_out`) holds back so that none is lost to the
/// "slow joiner" race: ZeroMQ drops a message published before the SUB it is meant for has
/// subscribed, and a stock `BertClient` then waits forever for its config. Used by the server's
/// sink and by the proxy's broker; a value type without I/O: feed it the XPUB's subscription
/// messages and the replies, send what it returns. Owned by one thread.
///
/// A config (or status) reply is matched with a SUBSCRIBE to exactly its identity that no earlier
/// config reply was matched with, and goes out only after that SUBSCRIBE. Clones sharing an
/// identity (the README's broadcasting example) send their SHOW_CONFIG at about the same time,
/// each from a client whose SUB may not be connected yet; since every clone sends the same
/// request id and every subscriber receives every reply, one reply per new SUBSCRIBE, each after
/// its SUBSCRIBE, reaches all of them. (Releasing every held reply on the first new SUBSCRIBE
/// lost the second clone's handshake: its SUB connected after both replies had gone.)
/// Other replies go out as soon as their identity has an exact subscriber. Whatever waits longer
/// than `ReplyGate` allows goes out anyway.
public struct ReplyHolder: Sendable {
    struct Held: Sendable {
        let client: [UInt8]
        let frames: [[UInt8]]
        var deadline: Double
        let isConfig: Bool
        /// Matched with a SUBSCRIBE (config) or the client is subscribed (others): may go now.
        var ready = false
    }

    /// A reply leaving the holder.
    public struct Outgoing: Sendable {
        public let frames: [[UInt8]]
        /// No subscription matches its identity: ZeroMQ will drop it (the wait ran out).
        public let isUnreachable: Bool
    }

    public let gate: ReplyGate
    public private(set) var book = SubscriptionBook()
    private var held: [Held] = []
    /// Per identity: SUBSCRIBEs to exactly it that no config reply has been matched with yet.
    private var unmatchedSubscribes: [[UInt8]: Int] = [:]

    public init(gate: ReplyGate = ReplyGate()) { self.gate = gate }

    /// Replies waiting for their client's subscription.
    public var heldCount: Int { held.count }

    /// When the earliest held reply must go out anyway.
    public var nextDeadline: Double? { held.map(\.deadline).min() }

    /// A reply for `client`: returns the frames to send now (the reply itself, or nothing when held).
    public mutating func reply(to client: [UInt8], frames: [[UInt8]], isConfig: Bool, now: Double) -> [[[UInt8]]] {
        let subscribed = book.isSubscribed(exactly: client)
        if isConfig, let unmatched = unmatchedSubscribes[client], unmatched > 0 {
            unmatchedSubscribes[client] = unmatched - 1
            return [frames]
        }
        if !isConfig && subscribed { return [frames] }
        var wait = subscribed ? gate.sharedIdentityWait : gate.waitWithoutOwnSubscriber(identity: client, book: book)
        if isConfig && wait < gate.unsubscribedWait {
            // The original sleeps 0.1 s before each config reply, one after the other: the k-th of
            // several clones asking at once gets its reply after k × 0.1 s. Never give up sooner.
            wait *= Double(1 + held.count { $0.isConfig && !$0.ready && $0.client == client })
        }
        held.append(Held(client: client, frames: frames, deadline: now + wait, isConfig: isConfig))
        return []
    }

    /// One XPUB subscription message (byte 0: 1 subscribe / 0 unsubscribe, then the topic).
    public mutating func subscription(_ message: [UInt8], now: Double) {
        book.apply(message)
        guard let kind = message.first else { return }
        let topic = Array(message.dropFirst())
        if kind == 1 {
            var unmatched = unmatchedSubscribes[topic, default: 0] + 1
            for i in held.indices where held[i].client == topic && !held[i].ready {
                if held[i].isConfig {
                    guard unmatched > 0 else { continue }
                    unmatched -= 1
                }
                held[i].ready = true
            }
            unmatchedSubscribes[topic] = unmatched
        } else if kind == 0 {
            // A subscriber that left takes its unmatched SUBSCRIBE along.
            let live = book.subscriberCount(exactly: topic)
            if let unmatched = unmatchedSubscribes[topic] {
                unmatchedSubscribes[topic] = live == 0 ? nil : min(unmatched, live)
            }
            // A client reconnecting with the same identity: its held replies wait for the new SUB.
            for i in held.indices where !held[i].ready && !book.isSubscribed(exactly: held[i].client) {
                let wait = gate.waitWithoutOwnSubscriber(identity: held[i].client, book: book)
                held[i].deadline = max(held[i].deadline, now + wait)
            }
        }
    }

    /// The held replies that may go out at `now` (matched with their client's subscription, or
    /// their wait is over), in the order they arrived.
    public mutating func release(now: Double) -> [Outgoing] {
        guard !held.isEmpty else { return [] }
        var out: [Outgoing] = []
        var keep: [Held] = []
        for h in held {
            if h.ready || now >= h.deadline {
                out.append(Outgoing(frames: h.frames, isUnreachable: !book.isReachable(h.client)))
            } else {
                keep.append(h)
            }
        }
        held = keep
        return out
    }
}
