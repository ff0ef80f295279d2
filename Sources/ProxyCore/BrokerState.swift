import Logging
import ServerCore

/// The proxy's bookkeeping as a state machine without I/O: which backend each forwarded request
/// is on, which backends are healthy, what to retry, what to answer. `Broker` feeds it socket
/// events and a clock; the tests feed it frames.
///
/// Each forwarded try gets a fresh proxy `req_id` under the proxy's own identity, so a backend
/// reply names exactly one try: a reply to a try that was given up (its backend was declared
/// down, or it missed its deadline and went to another backend) finds nothing and is dropped.
/// A client therefore gets each reply at most once, and every request that names a client gets
/// exactly one answer: the backend's reply, or an error reply the stock client raises.
///
/// A value type owned by the broker thread.
public struct BrokerState {
    /// One client request the proxy forwards (everything but TERMINATION, SHOW_CONFIG, SHOW_STATUS).
    struct Request {
        let client: [UInt8]
        let reqID: [UInt8]
        let payload: [UInt8]
        let msgLenBytes: [UInt8]
        /// Sequences in it (`msg_len`), the balancing weight.
        let texts: Int
        /// Tries so far and the backends they went to.
        var attempts = 0
        var tried: [Int] = []
        var lastFailure = ""
    }

    struct Forwarded {
        var request: Request
        let backend: Int
        let deadline: Double
    }

    struct Waiting {
        var request: Request
        let deadline: Double
    }

    /// A SHOW_CONFIG / SHOW_STATUS that arrived before any backend answered a probe.
    struct WaitingCommand {
        let client: [UInt8]
        let reqID: [UInt8]
        let command: ServerCommand
        let deadline: Double
    }

    public let settings: BrokerSettings
    /// The identity the proxy uses on its backends (it subscribes to exactly this topic there).
    public let proxyIdentity: [UInt8]
    /// The identity of health probes: `bert-serving-healthcheck`, which backends leave out of their statistics.
    public let probeIdentity = ServerStatistic.probeIdentity
    public private(set) var backends: [BackendState]
    public private(set) var counters = ProxyCounters()
    /// Set once a client sent TERMINATION.
    public private(set) var terminationRequested = false

    private var inFlight: [UInt64: Forwarded] = [:]
    private var waiting: [Waiting] = []
    private var waitingCommands: [WaitingCommand] = []
    private var probes: [UInt64: Int] = [:]
    private var nextReqID: UInt64 = 0
    private var rotation = 0
    private var statistic = ServerStatistic()
    private let logger: Logger
    /// `str(datetime.now())` for SHOW_CONFIG's `server_current_time`.
    private let wallClock: @Sendable () -> String

    public init(backends: [BackendAddress], settings: BrokerSettings, proxyIdentity: [UInt8], logger: Logger,
                wallClock: @escaping @Sendable () -> String = StatusReport.pythonNow) {
        self.backends = backends.map(BackendState.init)
        self.settings = settings
        self.proxyIdentity = proxyIdentity
        self.logger = logger
        self.wallClock = wallClock
    }

    /// Requests waiting for a healthy backend.
    public var waitingCount: Int { waiting.count + waitingCommands.count }
    /// Requests forwarded and not answered yet.
    public var inFlightCount: Int { inFlight.count }
    /// Nothing forwarded or waiting (a TERMINATION drain is over).
    public var isIdle: Bool { inFlight.isEmpty && waiting.isEmpty && waitingCommands.isEmpty }

    /// When `tick` has something to do next (a probe, a probe timeout, a deadline).
    public var nextWakeup: Double? {
        var times = backends.map { b in b.probe.map { $0.sentAt + settings.healthTimeout } ?? b.nextProbe }
        times += inFlight.values.map(\.deadline)
        times += waiting.map(\.deadline)
        times += waitingCommands.map(\.deadline)
        return times.min()
    }

    // MARK: events

    /// A message a client pushed to `-port`.
    public mutating func clientMessage<IO: BrokerIO>(_ frames: [[UInt8]], now: Double, io: inout IO) {
        let request: ClientRequest
        do {
            request = try ClientRequest.parse(frames)
        } catch {
            // Nobody to answer (the backends drop these too).
            counters.malformed += 1
            logger.error("received a wrongly-formatted request (\(frames.count) frames): \(error)")
            return
        }
        if request.msgLen != nil { statistic.update(request) }
        switch request.command {
        case .terminate:
            counters.commands += 1
            logger.info("TERMINATION from a client: draining \(inFlight.count + waiting.count) requests, then exiting")
            terminationRequested = true
        case .showConfig, .showStatus:
            counters.commands += 1
            let command = request.command ?? .showConfig
            if !answerCommand(client: request.client, reqID: request.reqID, command: command, io: &io) {
                waitingCommands.append(.init(client: request.client, reqID: request.reqID, command: command,
                                             deadline: now + settings.requestTimeout))
            }
        default:
            // Payloads are the backends' business: a bad one gets the backend's own error reply.
            counters.requests += 1
            let r = Request(client: request.client, reqID: request.reqID, payload: request.payload,
                            msgLenBytes: request.msgLenBytes, texts: max(1, min(request.msgLen ?? 1, 1 << 20)))
            dispatch(r, now: now, io: &io)
        }
    }

    /// A message from backend `index`'s result socket.
    public mutating func backendMessage<IO: BrokerIO>(_ index: Int, _ frames: [[UInt8]], now: Double, io: inout IO) {
        guard let first = frames.first, let last = frames.last, let id = Self.reqNumber(last) else { return }
        if frames.count == 3, first == probeIdentity {
            guard probes[id] == index else { return }  // another prober's reply (Docker HEALTHCHECK)
            probes[id] = nil
            probeAnswered(index, body: frames[1], now: now, io: &io)
            return
        }
        guard frames.count == 4, first == proxyIdentity else { return }
        guard let f = inFlight[id], f.backend == index else {
            // The try was given up and retried (or answered) already: never a second answer.
            counters.lateReplies += 1
            return
        }
        inFlight[id] = nil
        settle(f.request, on: index)
        backends[index].replies += 1
        counters.replies += 1
        io.reply(to: f.request.client, [f.request.client, frames[1], frames[2], f.request.reqID], isConfig: false)
    }

    /// Backend `index`'s TCP connection closed (the process died or restarts): down at once.
    public mutating func backendDisconnected<IO: BrokerIO>(_ index: Int, now: Double, io: inout IO) {
        markDown(index, reason: "connection closed", now: now, io: &io)
    }

    /// Backend `index`'s connection is (re-)established: probe it now rather than at the next interval.
    public mutating func backendConnected(_ index: Int, now: Double) {
        if backends[index].probe == nil { backends[index].nextProbe = now }
    }

    /// Probes, probe timeouts, request deadlines; call when `nextWakeup` has passed (or after any event).
    public mutating func tick<IO: BrokerIO>(now: Double, io: inout IO) {
        for i in backends.indices {
            if let p = backends[i].probe, now - p.sentAt >= settings.healthTimeout {
                backends[i].probe = nil
                probes = probes.filter { $0.value != i }
                counters.probesFailed += 1
                markDown(i, reason: "no SHOW_STATUS reply within \(settings.healthTimeout) s", now: now, io: &io)
                backends[i].nextProbe = now
            }
            if backends[i].probe == nil, now >= backends[i].nextProbe {
                let id = takeReqID()
                let reqID = Array(String(id).utf8)
                backends[i].nextProbe = now + settings.healthInterval
                if io.send(toBackend: i, [probeIdentity, ServerCommand.showStatus.bytes, reqID, Array("0".utf8)]) {
                    backends[i].probe = (reqID, now)
                    probes[id] = i
                } else {
                    markDown(i, reason: "not connected", now: now, io: &io)
                }
            }
        }
        let expired = inFlight.filter { $0.value.deadline <= now }
        for (id, f) in expired.sorted(by: { $0.key < $1.key }) {
            inFlight[id] = nil
            settle(f.request, on: f.backend)
            backends[f.backend].requestsLost += 1
            counters.deadlineMisses += 1
            var r = f.request
            r.lastFailure = "\(backends[f.backend].address) did not answer within \(settings.requestTimeout) s"
            logger.warning("req id \(String(decoding: r.reqID, as: UTF8.self)) of \(show(r.client)): \(r.lastFailure)")
            retryOrFail(r, now: now, io: &io)
        }
        if !waiting.isEmpty { drainWaiting(now: now, io: &io) }
        if !waitingCommands.isEmpty {
            var keep: [WaitingCommand] = []
            for c in waitingCommands {
                if c.deadline <= now {
                    counters.errorReplies += 1
                    io.reply(to: c.client, [c.client, Self.errorHeader("no backend answered a health probe within \(settings.requestTimeout) s (bert-serving-proxy)"), [], c.reqID], isConfig: false)
                } else {
                    keep.append(c)
                }
            }
            waitingCommands = keep
        }
    }

    // MARK: steps

    private mutating func probeAnswered<IO: BrokerIO>(_ i: Int, body: [UInt8], now: Double, io: inout IO) {
        guard let sent = backends[i].probe else { return }
        backends[i].probe = nil
        guard let status = PyJSON.parse(body), status["server_version"] != nil else {
            counters.probesFailed += 1
            markDown(i, reason: "its SHOW_STATUS reply is not a server status", now: now, io: &io)
            return
        }
        backends[i].probeRoundTrip = now - sent.sentAt
        backends[i].status = status
        backends[i].statusTime = now
        if !backends[i].isUp {
            backends[i].isUp = true
            backends[i].lastChange = now
            backends[i].downReason = ""
            logger.info("backend \(backends[i].address) is up (probe answered in \(Int((now - sent.sentAt) * 1000)) ms)")
        }
        if !waitingCommands.isEmpty {
            let pending = waitingCommands
            waitingCommands = []
            for c in pending { _ = answerCommand(client: c.client, reqID: c.reqID, command: c.command, io: &io) }
        }
        if !waiting.isEmpty { drainWaiting(now: now, io: &io) }
    }

    /// Marks backend `i` down and moves its in-flight requests to their retry.
    private mutating func markDown<IO: BrokerIO>(_ i: Int, reason: String, now: Double, io: inout IO) {
        if backends[i].isUp {
            backends[i].isUp = false
            backends[i].downTransitions += 1
            backends[i].lastChange = now
            logger.warning("backend \(backends[i].address) is down: \(reason)")
        }
        backends[i].downReason = reason
        let lost = inFlight.filter { $0.value.backend == i }.sorted { $0.key < $1.key }
        for (id, f) in lost {
            inFlight[id] = nil
            settle(f.request, on: i)
            backends[i].requestsLost += 1
            var r = f.request
            r.lastFailure = "\(backends[i].address) went down (\(reason))"
            retryOrFail(r, now: now, io: &io)
        }
    }

    private mutating func retryOrFail<IO: BrokerIO>(_ r: Request, now: Double, io: inout IO) {
        if r.attempts >= settings.maxAttempts {
            counters.errorReplies += 1
            logger.error("req id \(String(decoding: r.reqID, as: UTF8.self)) of \(show(r.client)) failed \(r.attempts) times, answering with an error: \(r.lastFailure)")
            io.reply(to: r.client, [r.client, Self.errorHeader("request failed on \(r.attempts) backends; last: \(r.lastFailure) (bert-serving-proxy)"), [], r.reqID], isConfig: false)
            return
        }
        counters.retries += 1
        dispatch(r, now: now, io: &io)
    }

    /// Forwards `r` to the least-loaded healthy backend it has not tried (any healthy one if it
    /// tried them all), or queues it until one is up.
    private mutating func dispatch<IO: BrokerIO>(_ r: Request, now: Double, io: inout IO) {
        var r = r
        while let b = choose(for: r) {
            let id = takeReqID()
            if io.send(toBackend: b, [proxyIdentity, r.payload, Array(String(id).utf8), r.msgLenBytes]) {
                r.attempts += 1
                r.tried.append(b)
                inFlight[id] = Forwarded(request: r, backend: b, deadline: now + settings.requestTimeout)
                backends[b].inFlight += 1
                backends[b].inFlightTexts += r.texts
                backends[b].requests += 1
                backends[b].sequences += r.texts
                return
            }
            markDown(b, reason: "not connected", now: now, io: &io)
        }
        waiting.append(Waiting(request: r, deadline: now + settings.requestTimeout))
    }

    private mutating func choose(for r: Request) -> Int? {
        let up = backends.indices.filter { backends[$0].isUp }
        guard !up.isEmpty else { return nil }
        let fresh = up.filter { !r.tried.contains($0) }
        let pool = fresh.isEmpty ? up : fresh
        rotation &+= 1
        let n = backends.count
        // Least sequences in flight, then fewest requests; ties rotate so equal backends share evenly.
        return pool.min { a, b in
            let ka = (backends[a].inFlightTexts, backends[a].inFlight, (a - rotation % n + n) % n)
            let kb = (backends[b].inFlightTexts, backends[b].inFlight, (b - rotation % n + n) % n)
            return ka < kb
        }
    }

    private mutating func drainWaiting<IO: BrokerIO>(now: Double, io: inout IO) {
        let queue = waiting
        waiting = []
        for w in queue {
            if w.deadline <= now {
                counters.errorReplies += 1
                var r = w.request
                r.lastFailure = r.lastFailure.isEmpty ? "no healthy backend within \(settings.requestTimeout) s" : r.lastFailure + "; then no healthy backend"
                logger.error("req id \(String(decoding: r.reqID, as: UTF8.self)) of \(show(r.client)): \(r.lastFailure)")
                io.reply(to: r.client, [r.client, Self.errorHeader("\(r.lastFailure) (bert-serving-proxy)"), [], r.reqID], isConfig: false)
            } else if backends.contains(where: \.isUp) {
                dispatch(w.request, now: now, io: &io)
            } else {
                waiting.append(w)
            }
        }
    }

    private mutating func settle(_ r: Request, on b: Int) {
        backends[b].inFlight -= 1
        backends[b].inFlightTexts -= r.texts
    }

    /// Answers SHOW_CONFIG / SHOW_STATUS from the freshest healthy backend status; false when
    /// no backend has answered a probe yet.
    private mutating func answerCommand<IO: BrokerIO>(client: [UInt8], reqID: [UInt8], command: ServerCommand, io: inout IO) -> Bool {
        let candidates = backends.filter { $0.status != nil }
        let source = candidates.filter(\.isUp).max { ($0.statusTime ?? 0) < ($1.statusTime ?? 0) }
            ?? candidates.max { ($0.statusTime ?? 0) < ($1.statusTime ?? 0) }
        guard let status = source?.status else { return false }
        let body: PyJSON
        if command == .showStatus {
            body = ProxyStatusBody.status(from: status, client: client, currentTime: wallClock(), settings: settings,
                                          statistic: statistic.value, backends: backends)
        } else {
            body = ProxyStatusBody.config(from: status, client: client, currentTime: wallClock(), settings: settings)
        }
        io.reply(to: client, [client, body.dumps(), reqID], isConfig: true)
        return true
    }

    private mutating func takeReqID() -> UInt64 {
        nextReqID += 1
        return nextReqID
    }

    /// The number in a `req_id` frame the proxy wrote (plain decimal); nil otherwise.
    static func reqNumber(_ bytes: [UInt8]) -> UInt64? {
        guard !bytes.isEmpty, bytes.count <= 19, bytes.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        return UInt64(String(decoding: bytes, as: UTF8.self))
    }

    /// The header of an error reply, as our server writes it: `np.frombuffer(..., dtype="ERROR: ...")`
    /// raises in the stock client at once.
    public static func errorHeader(_ message: String) -> [UInt8] {
        PyJSON.object([("dtype", .string("ERROR: " + message)), ("shape", .array([])), ("tokens", .string(""))]).dumps()
    }

    private func show(_ identity: [UInt8]) -> String {
        "client " + String(decoding: identity.prefix(60), as: UTF8.self)
    }
}
