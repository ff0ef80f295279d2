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

    /// Time of the latest SUBSCRIBE whose topic is a prefix of `identity`.
    public func latestSubscribe(matching identity: [UInt8]) -> Double? {
        lastSubscribe.filter { identity.starts(with: $0.key) }.values.max()
    }
}

/// When a reply may be published: now, or once a matching SUBSCRIBE arrives, or at a deadline.
///
/// Never later than the original for a subscribed client: it sleeps 0.1 s before every config
/// reply; we send at once when the client's subscription is new since the identity's last config
/// reply, and otherwise wait up to 0.1 s for one (a second client sharing the identity).
public struct ReplyGate: Sendable, Equatable {
    /// A config/status reply for an identity whose subscribers all predate its last config reply
    /// waits this long for a newer SUBSCRIBE.
    public var sharedIdentityWait = 0.1
    /// Any reply for an identity nobody subscribed to waits at most this long.
    public var unsubscribedWait = 5.0

    public init() {}

    /// The time until which a reply received at `now` is held (`now` itself: send at once).
    /// - Parameter lastConfigSent: when a config/status reply last went to this identity.
    public func holdUntil(identity: [UInt8], isConfig: Bool, book: SubscriptionBook, now: Double,
                          lastConfigSent: Double? = nil) -> Double {
        guard book.isReachable(identity) else { return now + unsubscribedWait }
        if !isConfig { return now }
        guard let sent = lastConfigSent else { return now }
        if let last = book.latestSubscribe(matching: identity), last > sent { return now }
        return now + sharedIdentityWait
    }

    /// Whether a reply received at `receivedAt` and held until `deadline` may go out at `now`.
    public func mayRelease(identity: [UInt8], receivedAt: Double, deadline: Double,
                           book: SubscriptionBook, now: Double) -> Bool {
        if now >= deadline { return true }
        if let last = book.latestSubscribe(matching: identity), last >= receivedAt { return true }
        return false
    }
}
