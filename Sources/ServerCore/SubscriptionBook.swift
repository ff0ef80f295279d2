/// What the result socket (`XPUB` on `-port_out`) knows about its subscribers, to avoid the
/// "slow joiner" loss: a reply published before the client's `SUBSCRIBE` reached us is dropped
/// by ZeroMQ, and the stock client then waits forever for its config.
///
/// Fed with the XPUB's subscription messages (`ZMQ_XPUB_VERBOSER`: every subscribe and
/// unsubscribe, byte 0 = 1 / 0, then the topic). SUB sockets match by prefix, so an identity is
/// reachable when some live topic is a prefix of it. A value type owned by the sink thread.
public struct SubscriptionBook: Sendable {
    private var counts: [[UInt8]: Int] = [:]
    private var lastSubscribe: [[UInt8]: Double] = [:]

    public init() {}

    /// Applies one XPUB subscription message received at `now` (seconds); others are ignored.
    public mutating func apply(_ message: [UInt8], now: Double) {
        guard let kind = message.first else { return }
        let topic = Array(message.dropFirst())
        if kind == 1 {
            counts[topic, default: 0] += 1
            lastSubscribe[topic] = now
        } else if kind == 0, let c = counts[topic] {
            if c <= 1 {
                counts[topic] = nil
                lastSubscribe[topic] = nil
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

    /// Time of the latest SUBSCRIBE to exactly `identity`, if it is live.
    public func latestSubscribe(exactly identity: [UInt8]) -> Double? {
        lastSubscribe[identity]
    }

    /// Time of the latest SUBSCRIBE whose topic is a prefix of `identity`.
    public func latestSubscribe(matching identity: [UInt8]) -> Double? {
        lastSubscribe.filter { identity.starts(with: $0.key) }.values.max()
    }
}

/// When a reply may be published: now, or once the client's own SUBSCRIBE arrives, or at a deadline.
///
/// Only a subscription whose topic *equals* the identity counts as the client's own: a SUB
/// subscribed to a shorter prefix (a monitor on `b''`) receives the reply too, but says nothing
/// about whether the client has subscribed yet.
///
/// Never later than the original for a subscribed client: it sleeps 0.1 s before every config
/// reply; we send at once when the client's subscription is new since the identity's last config
/// reply, and otherwise wait up to 0.1 s for one (a second client sharing the identity).
public struct ReplyGate: Sendable, Equatable {
    /// A config/status reply for an identity whose subscribers all predate its last config reply
    /// waits this long for a newer SUBSCRIBE.
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

    /// The time until which a reply received at `now` is held (`now` itself: send at once).
    /// - Parameter lastConfigSent: when a config/status reply last went to this identity.
    public func holdUntil(identity: [UInt8], isConfig: Bool, book: SubscriptionBook, now: Double,
                          lastConfigSent: Double? = nil) -> Double {
        guard book.isSubscribed(exactly: identity) else {
            return now + waitWithoutOwnSubscriber(identity: identity, book: book)
        }
        if !isConfig { return now }
        guard let sent = lastConfigSent else { return now }
        if let last = book.latestSubscribe(exactly: identity), last > sent { return now }
        return now + sharedIdentityWait
    }

    /// Whether a reply received at `receivedAt` and held until `deadline` may go out at `now`.
    public func mayRelease(identity: [UInt8], receivedAt: Double, deadline: Double,
                           book: SubscriptionBook, now: Double) -> Bool {
        if now >= deadline { return true }
        if let last = book.latestSubscribe(exactly: identity), last >= receivedAt { return true }
        return false
    }
}
