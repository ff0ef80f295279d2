import Logging
import ServerCore
import Testing
@testable import ProxyCore

/// Records what the broker asks of its sockets; backends not in `connected` refuse sends.
struct RecordingIO: BrokerIO {
    var connected: Set<Int> = [0, 1, 2]
    var sent: [(backend: Int, frames: [[UInt8]])] = []
    var replies: [(client: [UInt8], frames: [[UInt8]], isConfig: Bool)] = []

    mutating func send(toBackend index: Int, _ frames: [[UInt8]]) -> Bool {
        guard connected.contains(index) else { return false }
        sent.append((index, frames))
        return true
    }

    mutating func reply(to client: [UInt8], _ frames: [[UInt8]], isConfig: Bool) {
        replies.append((client, frames, isConfig))
    }

    /// Encode requests sent (not probes), in order.
    var requests: [(backend: Int, frames: [[UInt8]])] { sent.filter { $0.frames[0] != ServerStatistic.probeIdentity } }
    var probes: [(backend: Int, frames: [[UInt8]])] { sent.filter { $0.frames[0] == ServerStatistic.probeIdentity } }
}

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

/// A backend's SHOW_STATUS body, shaped like ours (key order of `StatusReport.json`).
func statusBody(port: Int, requests: Int = 0) -> [UInt8] {
    PyJSON.object([
        ("client", .string("bert-serving-healthcheck")),
        ("num_process", .int(2)),
        ("ventilator -> worker", .array([.string("inproc://x")])),
        ("worker -> sink", .string("inproc://y")),
        ("ventilator <-> sink", .string("inproc://z")),
        ("server_current_time", .string("2024-01-01 00:00:00.5")),
        ("device_map", .array([])),
        ("num_concurrent_socket", .int(8)),
        ("statistic", .object([("num_data_request", .int(requests)), ("avg_last_two_interval", .double(0.25))])),
        ("max_seq_len", .int(25)),
        ("port", .int(port)),
        ("port_out", .int(port + 1)),
        ("server_version", .string("1.10.0")),
    ]).dumps()
}

struct Harness {
    var state: BrokerState
    var io = RecordingIO()
    var now = 100.0

    init(backends: Int = 3, timeout: Double = 10) {
        var settings = BrokerSettings(port: 5555, portOut: 5556)
        settings.healthInterval = 1
        settings.healthTimeout = 2
        settings.requestTimeout = timeout
        let addresses = (0 ..< backends).map { BackendAddress(host: "127.0.0.1", port: 7000 + 2 * $0, portOut: 7001 + 2 * $0) }
        state = BrokerState(backends: addresses, settings: settings, proxyIdentity: bytes("proxy-1"),
                            logger: Logger(label: "test"), wallClock: { "2025-05-05 10:00:00.123456" })
        io.connected = Set(0 ..< backends)
    }

    /// Probes sent before this index were answered or lost already.
    var probesSeen = 0

    /// Sends due probes, then answers every probe not seen yet that went to one of `backends`
    /// (the others' are lost).
    mutating func probeRound(answering backends: [Int]) {
        state.tick(now: now, io: &io)
        let unseen = io.sent[probesSeen...]
        probesSeen = io.sent.count
        for s in unseen where s.frames[0] == ServerStatistic.probeIdentity && backends.contains(s.backend) {
            state.backendMessage(s.backend, [s.frames[0], statusBody(port: 7000 + 2 * s.backend), s.frames[2]], now: now + 0.01, io: &io)
        }
    }

    mutating func client(_ id: String, reqID: Int, texts: [String]) {
        let payload = PyJSON.array(texts.map { .string($0) }).dumps()
        state.clientMessage([bytes(id), payload, bytes(String(reqID)), bytes(String(texts.count))], now: now, io: &io)
    }

    mutating func command(_ id: String, _ command: String, reqID: Int) {
        state.clientMessage([bytes(id), bytes(command), bytes(String(reqID)), bytes("0")], now: now, io: &io)
    }

    /// Backend answers forwarded request `frames` with an embedding reply.
    mutating func answer(_ r: (backend: Int, frames: [[UInt8]]), body: String = "vectors") {
        state.backendMessage(r.backend, [r.frames[0], bytes("{\"dtype\": \"float32\"}"), bytes(body), r.frames[2]], now: now, io: &io)
    }
}

@Suite struct BrokerStateTests {
    @Test func requestsWaitUntilABackendAnswersItsProbe() {
        var h = Harness()
        h.state.tick(now: h.now, io: &h.io)
        #expect(h.io.probes.count == 3)
        h.client("c1", reqID: 1, texts: ["a"])
        #expect(h.io.requests.isEmpty)
        #expect(h.state.waitingCount == 1)
        h.state.backendMessage(1, [ServerStatistic.probeIdentity, statusBody(port: 7002), h.io.probes[1].frames[2]], now: h.now, io: &h.io)
        #expect(h.io.requests.count == 1)
        #expect(h.io.requests[0].backend == 1)
        #expect(h.state.backends[1].isUp)
    }

    @Test func spreadsRequestsEvenlyOverHealthyBackends() {
        var h = Harness()
        h.probeRound(answering: [0, 1, 2])
        for i in 1 ... 9 { h.client("c\(i)", reqID: i, texts: ["x", "y"]) }
        let per = (0 ..< 3).map { b in h.io.requests.filter { $0.backend == b }.count }
        #expect(per == [3, 3, 3])
        #expect(h.state.backends.map(\.inFlightTexts) == [6, 6, 6])
    }

    @Test func prefersTheBackendWithFewerSequencesInFlight() {
        var h = Harness(backends: 2)
        h.probeRound(answering: [0, 1])
        h.client("big", reqID: 1, texts: Array(repeating: "t", count: 100))
        h.client("small", reqID: 1, texts: ["a"])
        h.client("small", reqID: 2, texts: ["b"])
        let big = h.io.requests[0].backend
        #expect(h.io.requests.map(\.backend) == [big, 1 - big, 1 - big])
    }

    @Test func replyReachesItsClientOnceWithTheClientsReqID() {
        var h = Harness()
        h.probeRound(answering: [0, 1, 2])
        h.client("client-A", reqID: 42, texts: ["hello"])
        let forwarded = h.io.requests[0]
        #expect(forwarded.frames[0] == bytes("proxy-1"))
        #expect(forwarded.frames[1] == bytes("[\"hello\"]"))
        #expect(forwarded.frames[3] == bytes("1"))
        h.answer(forwarded)
        h.answer(forwarded)  // a duplicate from the backend
        #expect(h.io.replies.count == 1)
        #expect(h.io.replies[0].frames == [bytes("client-A"), bytes("{\"dtype\": \"float32\"}"), bytes("vectors"), bytes("42")])
        #expect(h.state.counters.lateReplies == 1)
        #expect(h.state.isIdle)
    }

    @Test func backendDeathRetriesItsRequestsOnAnotherAndDropsItsLateReply() {
        var h = Harness()
        h.probeRound(answering: [0, 1, 2])
        h.client("c", reqID: 7, texts: ["x"])
        let first = h.io.requests[0]
        h.io.connected.remove(first.backend)
        h.state.backendDisconnected(first.backend, now: h.now, io: &h.io)
        #expect(!h.state.backends[first.backend].isUp)
        #expect(h.io.requests.count == 2)
        let retry = h.io.requests[1]
        #expect(retry.backend != first.backend)
        #expect(retry.frames[2] != first.frames[2])  // a fresh proxy req_id per try
        h.answer(first, body: "stale")  // the dead backend's reply, if it still arrives
        h.answer(retry, body: "fresh")
        #expect(h.io.replies.count == 1)
        #expect(h.io.replies[0].frames[2] == bytes("fresh"))
        #expect(h.state.counters.retries == 1)
        #expect(h.state.backends[first.backend].requestsLost == 1)
        // New requests avoid the dead backend.
        for i in 10 ..< 16 { h.client("c", reqID: i, texts: ["x"]) }
        #expect(!h.io.requests.dropFirst(2).contains { $0.backend == first.backend })
    }

    @Test func aSecondFailureIsAnsweredWithAnErrorTheClientRaises() {
        var h = Harness(backends: 2)
        h.probeRound(answering: [0, 1])
        h.client("c", reqID: 3, texts: ["x"])
        let first = h.io.requests[0]
        h.state.backendDisconnected(first.backend, now: h.now, io: &h.io)
        let retry = h.io.requests[1]
        h.state.backendDisconnected(retry.backend, now: h.now, io: &h.io)
        #expect(h.io.requests.count == 2)
        #expect(h.io.replies.count == 1)
        let reply = h.io.replies[0].frames
        #expect(reply.count == 4 && reply[0] == bytes("c") && reply[2].isEmpty && reply[3] == bytes("3"))
        let header = PyJSON.parse(reply[1])
        guard case .string(let dtype)? = header?["dtype"] else { Issue.record("no dtype"); return }
        #expect(dtype.hasPrefix("ERROR: request failed on 2 backends"))
        #expect(h.state.isIdle)
    }

    @Test func unansweredProbeTakesTheBackendOutUntilItAnswersAgain() {
        var h = Harness()
        h.probeRound(answering: [0, 1, 2])
        h.client("c", reqID: 1, texts: ["x"])
        let onBackend = h.io.requests[0].backend
        h.now += 1
        h.probeRound(answering: [0, 1, 2].filter { $0 != onBackend })
        h.now += 2.5
        h.state.tick(now: h.now, io: &h.io)
        #expect(!h.state.backends[onBackend].isUp)
        #expect(h.state.counters.probesFailed == 1)
        #expect(h.io.requests.count == 2 && h.io.requests[1].backend != onBackend)
        h.now += 1
        h.probeRound(answering: [0, 1, 2])
        #expect(h.state.backends.allSatisfy { $0.isUp })
        #expect(h.state.backends[onBackend].downTransitions == 1)
    }

    @Test func aMissedDeadlineRetriesOnce() {
        var h = Harness(backends: 2, timeout: 5)
        h.probeRound(answering: [0, 1])
        h.client("c", reqID: 1, texts: ["x"])
        for _ in 0 ..< 6 { h.now += 1; h.probeRound(answering: [0, 1]) }
        #expect(h.io.requests.count == 2)
        #expect(h.state.counters.deadlineMisses == 1)
        #expect(h.state.backends.allSatisfy { $0.isUp })  // a slow request does not make a backend unhealthy
        for _ in 0 ..< 6 { h.now += 1; h.probeRound(answering: [0, 1]) }
        #expect(h.io.replies.count == 1)
        guard case .string(let dtype)? = PyJSON.parse(h.io.replies[0].frames[1])?["dtype"] else { Issue.record("no dtype"); return }
        #expect(dtype.contains("did not answer within 5.0 s"))
    }

    @Test func noHealthyBackendInTimeIsAnErrorReply() {
        var h = Harness(backends: 1, timeout: 3)
        h.io.connected = []
        h.client("c", reqID: 9, texts: ["x"])
        h.now += 4
        h.state.tick(now: h.now, io: &h.io)
        #expect(h.io.replies.count == 1)
        #expect(h.io.replies[0].frames[3] == bytes("9"))
        #expect(h.state.isIdle)
    }

    @Test func showConfigIsAnsweredLikeOneServer() throws {
        var h = Harness()
        h.probeRound(answering: [1])
        h.command("cli", "SHOW_CONFIG", reqID: 1)
        #expect(h.io.requests.isEmpty)
        let reply = h.io.replies[0]
        #expect(reply.isConfig && reply.frames.count == 3 && reply.frames[2] == bytes("1"))
        let body = try #require(PyJSON.parse(reply.frames[1]))
        #expect(body["client"] == .string("cli"))
        #expect(body["statistic"] == nil)
        #expect(body["server_version"] == .string("1.10.0"))
        #expect(body["port"] == .int(5555) && body["port_out"] == .int(5556))
        #expect(body["server_current_time"] == .string("2025-05-05 10:00:00.123456"))
        guard case .object(let items) = body else { return }
        #expect(items.first?.0 == "client")
    }

    @Test func showStatusCountsClientsAndListsBackends() throws {
        var h = Harness()
        h.probeRound(answering: [0, 1, 2])
        h.client("a", reqID: 1, texts: ["x", "y"])
        h.client("b", reqID: 1, texts: ["z"])
        h.command("a", "SHOW_STATUS", reqID: 2)
        let body = try #require(PyJSON.parse(h.io.replies[0].frames[1]))
        let statistic = try #require(body["statistic"])
        #expect(statistic["num_data_request"] == .int(2))
        #expect(statistic["num_total_seq"] == .int(3))
        #expect(statistic["num_total_client"] == .int(2))
        guard case .array(let list)? = body["proxy_backends"] else { Issue.record("no proxy_backends"); return }
        #expect(list.count == 3)
        #expect(list[0]["backend"] == .string("127.0.0.1:7000:7001"))
        #expect(list[0]["statistic"]?["num_data_request"] == .int(0))
    }

    @Test func configRequestBeforeAnyProbeWaitsForTheFirstAnswer() {
        var h = Harness()
        h.command("early", "SHOW_CONFIG", reqID: 1)
        #expect(h.io.replies.isEmpty)
        h.probeRound(answering: [2])
        #expect(h.io.replies.count == 1 && h.io.replies[0].client == bytes("early"))
    }

    @Test func terminationIsFlaggedNotForwarded() {
        var h = Harness()
        h.probeRound(answering: [0, 1, 2])
        h.command("x", "TERMINATION", reqID: 1)
        #expect(h.state.terminationRequested)
        #expect(h.io.requests.isEmpty)
    }

    @Test func framesWithoutIdentityOrReqIDAreDropped() {
        var h = Harness()
        h.probeRound(answering: [0, 1, 2])
        h.state.clientMessage([bytes("c"), bytes("[\"x\"]")], now: h.now, io: &h.io)
        h.state.clientMessage([[], bytes("[\"x\"]"), bytes("1"), bytes("1")], now: h.now, io: &h.io)
        h.state.clientMessage([bytes("c"), bytes("[\"x\"]"), bytes("x1"), bytes("1")], now: h.now, io: &h.io)
        #expect(h.io.requests.isEmpty && h.io.replies.isEmpty)
        #expect(h.state.counters.malformed == 3)
    }

    @Test func aBadMsgLenIsLeftToTheBackendToAnswer() {
        var h = Harness()
        h.probeRound(answering: [0, 1, 2])
        h.state.clientMessage([bytes("c"), bytes("[\"x\"]"), bytes("1"), bytes("one")], now: h.now, io: &h.io)
        #expect(h.io.requests.count == 1)
        #expect(h.io.requests[0].frames[3] == bytes("one"))
    }

    @Test func sendFailureMarksTheBackendDownAndUsesAnother() {
        var h = Harness()
        h.probeRound(answering: [0, 1, 2])
        h.io.connected.remove(0)
        for i in 0 ..< 4 { h.client("c", reqID: i, texts: ["x"]) }
        #expect(!h.state.backends[0].isUp)
        #expect(h.io.requests.count == 4 && !h.io.requests.contains { $0.backend == 0 })
    }
}
