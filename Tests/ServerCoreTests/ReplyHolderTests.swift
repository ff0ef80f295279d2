import Testing
@testable import ServerCore

private func b(_ s: String) -> [UInt8] { Array(s.utf8) }
private func subscribe(_ s: String) -> [UInt8] { [1] + b(s) }
private func unsubscribe(_ s: String) -> [UInt8] { [0] + b(s) }

struct SubscriptionBookTests {
    @Test func countsSubscribersAndMatchesByPrefix() {
        var book = SubscriptionBook()
        #expect(!book.isReachable(b("abc")))
        book.apply(subscribe("ab"))
        book.apply(subscribe("ab"))
        #expect(book.isReachable(b("abc")) && !book.isReachable(b("a")))
        #expect(book.subscriberCount(exactly: b("ab")) == 2 && book.subscriberCount(exactly: b("abc")) == 0)
        book.apply(unsubscribe("ab"))
        #expect(book.isReachable(b("abc")))
        book.apply(unsubscribe("ab"))
        #expect(!book.isReachable(b("abc")))
        book.apply([])
        book.apply(unsubscribe("zz"))
        #expect(!book.isReachable(b("zz")) && book.subscriberCount(exactly: b("zz")) == 0)
    }

    @Test func aShorterTopicIsNotTheClientsOwnSubscription() {
        var book = SubscriptionBook()
        book.apply([1])  // a monitor subscribed to b''
        #expect(book.isReachable(b("client")) && !book.isSubscribed(exactly: b("client")))
        book.apply(subscribe("client"))
        #expect(book.isSubscribed(exactly: b("client")))
        book.apply(unsubscribe("client"))
        #expect(!book.isSubscribed(exactly: b("client")) && book.isReachable(b("client")))
    }
}

struct ReplyHolderTests {
    @Test func configForAnUnsubscribedClientWaitsForItsSubscription() {
        var holder = ReplyHolder()
        #expect(holder.reply(to: b("c1"), frames: [b("c1"), [1]], isConfig: true, now: 10).isEmpty)
        #expect(holder.nextDeadline == 10 + holder.gate.unsubscribedWait)
        #expect(holder.release(now: 10.2).isEmpty)
        holder.subscription(subscribe("c1"), now: 10.3)
        let out = holder.release(now: 10.3)
        #expect(out.map(\.frames) == [[b("c1"), [1]]] && !out[0].isUnreachable)
        #expect(holder.heldCount == 0)
        // Subscribed now: an encode reply goes at once.
        #expect(holder.reply(to: b("c1"), frames: [b("c1"), [2]], isConfig: false, now: 11).count == 1)
    }

    @Test func firstConfigForASubscribedClientGoesAtOnce() {
        var holder = ReplyHolder()
        holder.subscription(subscribe("c1"), now: 10)
        #expect(holder.reply(to: b("c1"), frames: [[1]], isConfig: true, now: 10.01).count == 1)
        #expect(holder.reply(to: b("c1"), frames: [[2]], isConfig: false, now: 50).count == 1)
    }

    @Test func repeatedStatusRequestsWaitNoLongerThanTheOriginal() {
        var holder = ReplyHolder()
        holder.subscription(subscribe("c1"), now: 10)
        #expect(holder.reply(to: b("c1"), frames: [[1]], isConfig: true, now: 11).count == 1)
        // Same client again: its SUBSCRIBE was matched already; the original's 0.1 s at most.
        #expect(holder.reply(to: b("c1"), frames: [[2]], isConfig: true, now: 20).isEmpty)
        #expect(holder.gate.sharedIdentityWait <= 0.1 && holder.nextDeadline == 20 + holder.gate.sharedIdentityWait)
        #expect(holder.release(now: 20 + holder.gate.sharedIdentityWait).map(\.frames) == [[[2]]])
    }

    @Test func configWaitsForTheOwnSubscriptionDespiteAWildcardSubscriber() {
        var holder = ReplyHolder()
        holder.subscription([1], now: 1)
        #expect(holder.reply(to: b("new"), frames: [[1]], isConfig: true, now: 10).isEmpty)
        #expect(holder.gate.prefixOnlyWait == 0.1 && holder.nextDeadline == 10 + holder.gate.prefixOnlyWait)
        #expect(holder.release(now: 10.05).isEmpty)
        holder.subscription(subscribe("new"), now: 10.06)
        #expect(holder.release(now: 10.06).count == 1)
        // Only the wildcard matches: out at the original's 0.1 s.
        #expect(holder.reply(to: b("other"), frames: [[2]], isConfig: true, now: 20).isEmpty)
        let out = holder.release(now: 20.1)
        #expect(out.count == 1 && !out[0].isUnreachable)
    }

    /// The README's broadcasting example: two clones of a connected client send SHOW_CONFIG
    /// before either SUB has connected. The first SUBSCRIBE may release one reply only: the
    /// other must wait for the second SUBSCRIBE, or the clone subscribing last never gets one.
    @Test func clonesRequestingBeforeSubscribingEachGetAReplyAfterTheirSubscription() {
        var holder = ReplyHolder()
        holder.subscription(subscribe("id"), now: 1)
        #expect(holder.reply(to: b("id"), frames: [[0]], isConfig: true, now: 1.01).count == 1)  // the original client
        #expect(holder.reply(to: b("id"), frames: [[1]], isConfig: true, now: 2).isEmpty)
        #expect(holder.reply(to: b("id"), frames: [[2]], isConfig: true, now: 2.001).isEmpty)
        // As the original's sleeps one after the other: the second waits 0.2 s at most.
        #expect(holder.nextDeadline == 2 + holder.gate.sharedIdentityWait)
        holder.subscription(subscribe("id"), now: 2.01)
        #expect(holder.release(now: 2.01).map(\.frames) == [[[1]]])
        #expect(holder.nextDeadline == 2.001 + 2 * holder.gate.sharedIdentityWait)
        #expect(holder.release(now: 2.15).isEmpty)
        holder.subscription(subscribe("id"), now: 2.16)
        #expect(holder.release(now: 2.16).map(\.frames) == [[[2]]])
        #expect(holder.heldCount == 0)
    }

    @Test func clonesSubscribingFirstGetTheirRepliesAtOnce() {
        var holder = ReplyHolder()
        holder.subscription(subscribe("id"), now: 1)
        holder.subscription(subscribe("id"), now: 1.1)
        #expect(holder.reply(to: b("id"), frames: [[1]], isConfig: true, now: 2).count == 1)
        #expect(holder.reply(to: b("id"), frames: [[2]], isConfig: true, now: 2.1).count == 1)
        // Both SUBSCRIBEs are matched: a third request waits.
        #expect(holder.reply(to: b("id"), frames: [[3]], isConfig: true, now: 2.2).isEmpty)
    }

    @Test func aSubscriberThatLeavesTakesItsUnmatchedSubscribeAlong() {
        var holder = ReplyHolder()
        holder.subscription(subscribe("id"), now: 1)
        holder.subscription(unsubscribe("id"), now: 2)
        // Nobody subscribed: the reply waits for the next SUBSCRIBE, not for the one that left.
        #expect(holder.reply(to: b("id"), frames: [[1]], isConfig: true, now: 3).isEmpty)
        holder.subscription(subscribe("id"), now: 4)
        #expect(holder.release(now: 4).count == 1)
    }

    @Test func aReplyHeldForAReconnectingClientWaitsForItsNewSubscription() {
        var holder = ReplyHolder()
        holder.subscription(subscribe("c"), now: 1)
        #expect(holder.reply(to: b("c"), frames: [[1]], isConfig: true, now: 1).count == 1)
        #expect(holder.reply(to: b("c"), frames: [[2]], isConfig: true, now: 2).isEmpty)
        holder.subscription(unsubscribe("c"), now: 2.05)
        #expect(holder.release(now: 2.1).isEmpty)
        #expect(holder.nextDeadline == 2.05 + holder.gate.unsubscribedWait)
        holder.subscription(subscribe("c"), now: 3)
        #expect(holder.release(now: 3).count == 1)
    }

    @Test func anUnsubscribedReplyGoesAfterTheBoundedWaitMarkedUnreachable() {
        var holder = ReplyHolder()
        _ = holder.reply(to: b("nobody"), frames: [b("nobody")], isConfig: false, now: 0)
        #expect(holder.nextDeadline == holder.gate.unsubscribedWait)
        #expect(holder.release(now: holder.gate.unsubscribedWait - 0.01).isEmpty)
        let out = holder.release(now: holder.gate.unsubscribedWait)
        #expect(out.count == 1 && out[0].isUnreachable)
    }
}
