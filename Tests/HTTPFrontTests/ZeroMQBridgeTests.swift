import Foundation
import HTTPFront
import Synchronization
import Testing
import ZeroMQ

/// A stand-in for the server's frontend and sink on loopback: PULL ← bridge, PUB → bridge.
///
/// Answers SHOW_CONFIG / SHOW_STATUS with JSON and encode requests with `[chars, index]` vectors; a text
/// "silent" gets no reply, "fail" an `ERROR:` header; a batch is answered only when `holdUntil` requests
/// have arrived, in reverse order (replies out of order must still reach the right waiter).
final class FakeSink: Sendable {
    let context: Context
    let port: Int
    let portOut: Int
    final class Shared: Sendable {
        let received = Mutex<[[[UInt8]]]>([])
        let ports = Mutex<(Int, Int)?>(nil)
    }
    let shared = Shared()

    init(holdUntil: Int = 1, fixedPorts: (Int, Int)? = nil) throws {
        let context = try Context()
        self.context = context
        let shared = self.shared
        let thread = Thread {
            do {
                let pull = try Socket(context, .pull)
                let pub = try Socket(context, .pub)
                try pull.setLinger(0)
                try pub.setLinger(0)
                try pull.bind("tcp://127.0.0.1:\(fixedPorts.map { String($0.0) } ?? "*")")
                try pub.bind("tcp://127.0.0.1:\(fixedPorts.map { String($0.1) } ?? "*")")
                func port(_ s: Socket) throws -> Int { Int(try s.lastEndpoint().split(separator: ":").last ?? "") ?? 0 }
                let bound = (try port(pull), try port(pub))
                shared.ports.withLock { $0 = bound }
                var held: [[[UInt8]]] = []
                while true {
                    let frames = try pull.receive()
                    shared.received.withLock { $0.append(frames) }
                    guard frames.count == 4 else { continue }
                    let (identity, payload, reqId) = (frames[0], frames[1], frames[2])
                    let text = String(decoding: payload, as: UTF8.self)
                    if text == "SHOW_CONFIG" || text == "SHOW_STATUS" {
                        try pub.send([identity, Array(#"{"command": "\#(text)", "model_dir": "/nonexistent"}"#.utf8), reqId])
                        continue
                    }
                    if text.contains("silent") { continue }
                    if text.contains("fail") {
                        try pub.send([identity, Array(#"{"dtype": "ERROR: boom", "shape": [], "tokens": ""}"#.utf8), [], reqId])
                        continue
                    }
                    guard case .array(let items) = try JSONValue.parse(payload) else { continue }
                    var data: [UInt8] = []
                    for (i, item) in items.enumerated() {
                        guard case .string(let s) = item else { continue }
                        for v in [Float(s.unicodeScalars.count), Float(i)] {
                            withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) }
                        }
                    }
                    let header = #"{"dtype": "float32", "shape": [\#(items.count), 2], "tokens": ""}"#
                    held.append([identity, Array(header.utf8), data, reqId])
                    if held.count >= holdUntil {
                        for reply in held.reversed() { try pub.send(reply) }
                        held.removeAll()
                    }
                }
            } catch {
                // ETERM: the test stopped the sink.
            }
        }
        thread.start()
        var waited = 0
        while shared.ports.withLock({ $0 }) == nil, waited < 500 {
            usleep(10_000)
            waited += 1
        }
        guard let (p, q) = shared.ports.withLock({ $0 }) else { throw ZMQError(operation: "fake sink bind", errno: 0) }
        port = p
        portOut = q
    }

    func stop() { context.shutdown() }
}

@Suite(.timeLimit(.minutes(1)))
struct ZeroMQBridgeTests {
    func bridge(_ sink: FakeSink, timeout: Duration = .seconds(20)) throws -> ZeroMQBridge {
        try ZeroMQBridge(configuration: .init(host: "127.0.0.1", port: sink.port, portOut: sink.portOut, requestTimeout: timeout, probeInterval: .milliseconds(50)))
    }

    @Test func encodeRoundTripUsesTheStockClientsFrames() async throws {
        let sink = try FakeSink()
        defer { sink.stop() }
        let b = try bridge(sink)
        defer { b.shutdown() }
        let batch = try await b.encode(.texts(["hello", "naïve"]))
        #expect(batch.shape == [2, 2])
        #expect(batch.values == [5, 0, 5, 1])
        #expect(b.isReady)
        let frames = try #require(sink.shared.received.withLock { $0.last })
        #expect(frames.count == 4)
        #expect(frames[0] == b.identity)
        #expect(String(decoding: frames[1], as: UTF8.self) == #"["hello", "na\u00efve"]"#)
        #expect(String(decoding: frames[3], as: UTF8.self) == "2")
        let config = try await b.serverConfig()
        #expect(String(decoding: config, as: UTF8.self).contains("SHOW_CONFIG"))
        #expect(b.clientStatus().pendingRequests.isEmpty)
    }

    @Test func outOfOrderRepliesReachTheirWaiters() async throws {
        let sink = try FakeSink(holdUntil: 4)
        defer { sink.stop() }
        let b = try bridge(sink)
        defer { b.shutdown() }
        let results = try await withThrowingTaskGroup(of: (Int, EncodedBatch).self) { group in
            for n in 1...4 {
                group.addTask { (n, try await b.encode(.texts(Array(repeating: String(repeating: "x", count: n), count: n)))) }
            }
            var all: [Int: EncodedBatch] = [:]
            for try await (n, r) in group { all[n] = r }
            return all
        }
        for n in 1...4 {
            let r = try #require(results[n])
            #expect(r.shape == [n, 2])
            #expect(r.values[0] == Float(n))
        }
    }

    @Test func noReplyTimesOut() async throws {
        let sink = try FakeSink()
        defer { sink.stop() }
        let b = try bridge(sink, timeout: .milliseconds(400))
        defer { b.shutdown() }
        await #expect(throws: BackendError.timeout(seconds: 0.4)) { try await b.encode(.texts(["silent please"])) }
        #expect(b.pendingCount == 0)
    }

    @Test func errorHeaderBecomesServerError() async throws {
        let sink = try FakeSink()
        defer { sink.stop() }
        let b = try bridge(sink)
        defer { b.shutdown() }
        await #expect(throws: BackendError.serverError("ERROR: boom")) { try await b.encode(.texts(["fail"])) }
        // The same bridge keeps serving.
        #expect(try await b.encode(.texts(["ok"])).values == [2, 0])
    }

    @Test func shutdownFailsPendingRequests() async throws {
        let sink = try FakeSink()
        defer { sink.stop() }
        let b = try bridge(sink)
        _ = try await b.serverConfig()
        let pending = Task { try await b.encode(.texts(["silent"])) }
        try await Task.sleep(for: .milliseconds(200))
        b.shutdown()
        await #expect(throws: BackendError.self) { try await pending.value }
        await #expect(throws: BackendError.self) { try await b.serverStatus() }
    }

    @Test func requestsWaitForAServerThatStartsLater() async throws {
        // The bridge connects first; the "server" binds afterwards on the same ports.
        let probe = try FakeSink()
        let (port, portOut) = (probe.port, probe.portOut)
        probe.stop()
        try await Task.sleep(for: .milliseconds(200))
        let b = try ZeroMQBridge(configuration: .init(host: "127.0.0.1", port: port, portOut: portOut, requestTimeout: .seconds(20), probeInterval: .milliseconds(50)))
        defer { b.shutdown() }
        #expect(!b.isReady)
        let reply = Task { try await b.encode(.texts(["late"])) }
        try await Task.sleep(for: .milliseconds(300))
        let sink = try FakeSink(fixedPorts: (port, portOut))
        defer { sink.stop() }
        #expect(try await reply.value.values == [4, 0])
    }
}
