import CZeroMQ
import Foundation
import Testing
import ZeroMQ

@Suite(.timeLimit(.minutes(1)))
struct SocketTests {
    @Test func multipartRoundTripKeepsEmptyAndBinaryFrames() throws {
        let ctx = try Context()
        let pull = try Socket(ctx, .pull)
        try pull.bind("inproc://roundtrip")
        let push = try Socket(ctx, .push)
        try push.connect("inproc://roundtrip")
        let frames: [[UInt8]] = [Array("id".utf8), [], [0, 255, 1, 0], Array(repeating: 7, count: 100_000)]
        try push.send(frames)
        #expect(try pull.receive() == frames)
        push.close()
        pull.close()
    }

    @Test func receiveTimeoutIsEAGAIN() throws {
        let ctx = try Context()
        let pull = try Socket(ctx, .pull)
        try pull.bind("inproc://timeout")
        try pull.setReceiveTimeout(50)
        do {
            _ = try pull.receive()
            Issue.record("receive returned without a message")
        } catch {
            #expect(error.isTimeout)
            #expect(error.errno == EAGAIN)
        }
        do {
            _ = try pull.receive(dontWait: true)
            Issue.record("non-blocking receive returned without a message")
        } catch {
            #expect(error.isTimeout)
        }
    }

    @Test func bindingAPortTwiceNamesTheEndpoint() throws {
        let ctx = try Context()
        let a = try Socket(ctx, .pull)
        try a.bind("tcp://127.0.0.1:*")
        let endpoint = try a.lastEndpoint()
        #expect(endpoint.hasPrefix("tcp://127.0.0.1:"))
        let b = try Socket(ctx, .pull)
        do {
            try b.bind(endpoint)
            Issue.record("second bind of \(endpoint) succeeded")
        } catch {
            #expect(error.errno == EADDRINUSE)
            #expect(error.description.contains(endpoint))
            #expect(!error.message.isEmpty)
        }
    }

    @Test func closedSocketThrowsENOTSOCK() throws {
        let ctx = try Context()
        let s = try Socket(ctx, .push)
        s.close()
        s.close()
        #expect(throws: ZMQError.self) { try s.send([[1]]) }
    }

    @Test func pollerReportsOnlyReadableSockets() throws {
        let ctx = try Context()
        let a = try Socket(ctx, .pull), b = try Socket(ctx, .pull)
        try a.bind("inproc://poll-a")
        try b.bind("inproc://poll-b")
        let pb = try Socket(ctx, .push)
        try pb.connect("inproc://poll-b")
        let poller = Poller([a, b])
        #expect(try poller.poll(timeoutMilliseconds: 10) == [false, false])
        try pb.send([Array("x".utf8)])
        #expect(try poller.poll(timeoutMilliseconds: 1000) == [false, true])
        _ = try b.receive()
        #expect(try poller.poll(timeoutMilliseconds: 10) == [false, false])
    }

    @Test func contextShutdownEndsABlockingReceiveWithETERM() throws {
        let ctx = try Context()
        let result = ResultBox()
        let thread = Thread {
            do {
                let pull = try Socket(ctx, .pull)
                defer { pull.close() }
                try pull.bind("inproc://shutdown")
                result.set("bound")
                _ = try pull.receive()
                result.set("received")
            } catch {
                result.set((error as? ZMQError)?.isTerminated == true ? "ETERM" : "other: \(error)")
            }
        }
        thread.start()
        #expect(result.waitFor { $0 == "bound" })
        Thread.sleep(forTimeInterval: 0.05)
        ctx.shutdown()
        #expect(result.waitFor { $0 == "ETERM" })
    }

    @Test func xpubSeesSubscriptionsAndSubMatchesByPrefix() throws {
        let ctx = try Context()
        let xpub = try Socket(ctx, .xpub)
        try xpub.setOption(ZMQ_XPUB_VERBOSER, 1)
        try xpub.bind("tcp://127.0.0.1:*")
        let endpoint = try xpub.lastEndpoint()
        let sub = try Socket(ctx, .sub)
        try sub.subscribe(Array("abc".utf8))
        try sub.connect(endpoint)
        try xpub.setReceiveTimeout(2000)
        #expect(try xpub.receive() == [[1] + Array("abc".utf8)])
        try sub.setReceiveTimeout(2000)
        try xpub.send([Array("xyz".utf8), [1]])
        try xpub.send([Array("abcdef".utf8), [2]])
        #expect(try sub.receive() == [Array("abcdef".utf8), [2]])
        sub.close()
        #expect(try xpub.receive() == [[0] + Array("abc".utf8)])
    }

    @Test func versionIsFour() {
        #expect(zmqVersionString().hasPrefix("4."))
    }
}

/// A string set by another thread, polled by the test.
final class ResultBox: @unchecked Sendable {
    // @unchecked: every access holds `lock`.
    private let lock = NSLock()
    private var value = ""
    func set(_ v: String) { lock.lock(); value = v; lock.unlock() }
    func get() -> String { lock.lock(); defer { lock.unlock() }; return value }
    func waitFor(_ predicate: (String) -> Bool, seconds: Double = 5) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if predicate(get()) { return true }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return predicate(get())
    }
}
