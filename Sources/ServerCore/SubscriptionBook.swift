/// What the result socket (`XPUB` on `-port_out`) knows about its subscribers, to avoid the
/// "slow joiner" loss: a reply published before the client's `SUBSCRIBE` reached us is dropped
/// by ZeroMQ, and the stock client then waits forever for its config.
///
/// Fed with the XPUB's subscription messages (`ZMQ_XPUB_VERBOSER`: every subscribe and
/// unsubscribe, byte 0 = 1 / 0, then the topic). SUB sockets match by prefix, so an identity is
/// reachable when some live topic is a prefix of it. A value type inside `ReplyHolder`, owned by the
/// thread of the XPUB (the sink, or the proxy's broker).
public struct SubscriptionBook: Sendable {
    private var counts: [[UInt8]: Int] = [:]

    public init() {}

    /// Applies one XPUB subscription message; others are ignored.
    public mutating func apply(_ message: [UInt8]) {
        guard let kind = message.first else { return }
        let topic = Array(message.dropFirst())
        if kind == 1 {
            counts[topic, default: 0] += 1
        } else if kind == 0, let c = counts[topic] {
            if c <= 1 {
                counts[topic] = nil
            } else {
                counts[topic] = c - 1
            }
        }
    }

    /// True when at least one live subscription's topic is a prefix of `identity`.
    public func isReachable(_ identity: [UInt8]) -> Bool {
        counts.keys.contains { identity.starts(with: $0) }
    }

    /// True when a live subscription's topic is exactly `identity` (what a stock client's SUB
    /// subscribes to); a shorter topic such as a monitoring SUB's `b''` does not count.
    public func isSubscribed(exactly identity: [UInt8]) -> Bool {
        counts[identity] != nil
    }

    /// How many live subscriptions have exactly `identity` as their topic.
    public func subscriberCount(exactly identity: [UInt8]) -> Int {
        counts[identity] ?? 0
    }
}

/// How long a reply may wait for its client's SUBSCRIBE before it is published anyway.
///
/// Only a subscription whose topic *equals* the identity counts as the client's own: a SUB
/// subscribed to a shorter prefix (a monitor on `b''`) receives the reply too, but says nothing
/// about whether the client has subscribed yet. Never later than the original for a subscribed
/// client: it sleeps 0.1 s before every config reply.
public struct ReplyGate: Sendable, Equatable {
    /// A config/status reply for an identity whose subscribers have all had a config reply since
    /// they subscribed (a client asking again, or a clone whose SUBSCRIBE is still on its way)
    /// waits this long for a new SUBSCRIBE.
    public var sharedIdentityWait = 0.1
    /// Any reply for an identity only a shorter topic matches waits this long for the exact
    /// SUBSCRIBE (the original's fixed 0.1 s sleep).
    public var prefixOnlyWait = 0.1
    /// Any reply for an identity nobody subscribed to waits at most this long.
    public var unsubscribedWait = 5.0

    public init() {}

    /// How long a reply for `identity` waits when nobody subscribed to exactly it.
    public func waitWithoutOwnSubscriber(identity: [UInt8], book: SubscriptionBook) -> Double {
        book.isReachable(identity) ? prefixOnlyWait : unsubscribedWait
    }
}
