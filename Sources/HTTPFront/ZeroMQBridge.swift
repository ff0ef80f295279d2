#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CZeroMQ
import Foundation
import Logging
import Synchronization
import ZeroMQ

/// The HTTP front's in-process ZeroMQ client of the server: the stock client's protocol, shared by all HTTP tasks.
///
/// One dedicated thread owns a `PUSH` socket connected to the server's frontend (`-port`) and a `SUB` socket
/// connected to `-port_out`, subscribed to the bridge's identity. HTTP tasks hand over the 4-frame request
/// `[identity, payload, req_id, msg_len]` through a mutex-protected outbox and a pipe doorbell, then wait on a
/// continuation keyed by `req_id`, which the thread resumes with the reply (or a timeout). Until the server has
/// answered one SHOW_CONFIG the outbox is held back (a reply published before our subscription reaches the
/// server would be lost: the "slow joiner"), so requests made while the server starts wait instead of hanging.
/// Thread-safe: every method may be called from any task.
public final class ZeroMQBridge: EmbeddingBackend {
    /// Where the server listens and how long to wait.
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        public var portOut: Int
        /// Deadline of one request, from the moment it is queued (includes waiting for the server to start).
        public var requestTimeout: Duration
        /// SHOW_CONFIG probes are re-sent this often until the server answers one.
        public var probeInterval: Duration

        public init(host: String = "localhost", port: Int, portOut: Int, requestTimeout: Duration = .seconds(300), probeInterval: Duration = .milliseconds(500)) {
            self.host = host
            self.port = port
            self.portOut = portOut
            self.requestTimeout = requestTimeout
            self.probeInterval = probeInterval
        }
    }

    typealias Reply = Result<[[UInt8]], BackendError>

    struct Waiter {
        var continuation: CheckedContinuation<Reply, Never>
        var deadline: ContinuousClock.Instant
    }

    struct State {
        var nextRequestId = 0
        var outbox: [(id: Int, frames: [[UInt8]])] = []
        var waiters: [Int: Waiter] = [:]
        var ready = false
        var stopped: String?
    }

    public let configuration: Configuration
    /// The stock client's identity: `str(uuid.uuid4())` in ASCII.
    public let identity: [UInt8]
    private let state = Mutex(State())
    private let doorbell: Doorbell
    private let context: Context
    private let logger: Logger
    private let finished = Mutex(false)

    /// Starts the bridge thread; it connects at once and keeps probing until the server answers.
    /// - Throws: `BackendError.unavailable` when the ZeroMQ context or the doorbell pipe cannot be created.
    public init(configuration: Configuration, logger: Logger = Logger(label: "HTTP-BRIDGE")) throws(BackendError) {
        self.configuration = configuration
        self.identity = Array(UUID().uuidString.lowercased().utf8)
        self.logger = logger
        do {
            self.context = try Context()
        } catch {
            throw .unavailable("zmq_ctx_new failed: \(error)")
        }
        self.doorbell = try Doorbell()
        let thread = Thread { [self] in self.run() }
        thread.name = "HTTP-BRIDGE"
        thread.start()
    }

    deinit {
        shutdown()
    }

    /// Stops the thread: pending and later requests fail with `.unavailable`. Idempotent.
    public func shutdown() {
        let first = state.withLock { s -> Bool in
            if s.stopped != nil { return false }
            s.stopped = "the HTTP bridge was shut down"
            return true
        }
        if first { doorbell.ring() }
    }

    public var isReady: Bool { state.withLock { $0.ready } }

    /// Number of requests sent or queued that have not been answered (the bridge's queue depth).
    public var pendingCount: Int { state.withLock { $0.waiters.count } }

    public func clientStatus() -> ClientStatus {
        state.withLock { s in
            ClientStatus(
                identity: identity, numRequest: s.nextRequestId, pendingRequests: s.waiters.keys.sorted(),
                port: configuration.port, portOut: configuration.portOut, serverIP: configuration.host, timeoutMilliseconds: -1)
        }
    }

    public func serverConfig() async throws(BackendError) -> [UInt8] {
        try await command("SHOW_CONFIG")
    }

    public func serverStatus() async throws(BackendError) -> [UInt8] {
        try await command("SHOW_STATUS")
    }

    public func encode(_ request: EncodeRequest) async throws(BackendError) -> EncodedBatch {
        let frames = try await roundTrip(payload: request.payload, msgLen: request.count).get()
        // [identity, {"dtype","shape","tokens"}, raw array, req_id]
        guard frames.count == 4 else {
            if frames.count == 3 { throw .malformedReply("expected an encode reply (4 frames), got 3 frames: \(String(decoding: frames[1].prefix(200), as: UTF8.self))") }
            throw .malformedReply("expected 4 frames, got \(frames.count)")
        }
        return try EncodedBatch.decode(header: frames[1], data: frames[2])
    }

    private func command(_ name: String) async throws(BackendError) -> [UInt8] {
        let frames = try await roundTrip(payload: Array(name.utf8), msgLen: 0).get()
        guard frames.count == 3 else { throw .malformedReply("expected 3 frames for \(name), got \(frames.count)") }
        return frames[1]
    }

    /// Queues one request and waits for the frames that answer its `req_id`.
    func roundTrip(payload: [UInt8], msgLen: Int) async -> Reply {
        let deadline = ContinuousClock.now.advanced(by: configuration.requestTimeout)
        let id = state.withLock { s -> Int in
            s.nextRequestId += 1
            return s.nextRequestId
        }
        let frames = [identity, payload, Array(String(id).utf8), Array(String(msgLen).utf8)]
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Reply, Never>) in
                let rejection = state.withLock { s -> BackendError? in
                    if let why = s.stopped { return .unavailable(why) }
                    if Task.isCancelled { return .cancelled }
                    s.waiters[id] = Waiter(continuation: continuation, deadline: deadline)
                    s.outbox.append((id, frames))
                    return nil
                }
                if let rejection {
                    continuation.resume(returning: .failure(rejection))
                } else {
                    doorbell.ring()
                }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.continuation.resume(returning: .failure(.cancelled))
        }
    }

    // MARK: - the bridge thread

    private func run() {
        let reason: String
        do {
            try loop()
            reason = "the HTTP bridge was shut down"
        } catch {
            reason = "the HTTP bridge stopped: \(error)"
            logger.error("\(reason)")
        }
        let waiters = state.withLock { s -> [Waiter] in
            if s.stopped == nil { s.stopped = reason }
            let all = Array(s.waiters.values)
            s.waiters.removeAll()
            s.outbox.removeAll()
            return all
        }
        for w in waiters { w.continuation.resume(returning: .failure(.unavailable(reason))) }
        context.shutdown()
    }

    private func loop() throws(ZMQError) {
        let push = try Socket(context, .push)
        defer { push.close() }
        try push.setLinger(0)
        try push.connect("tcp://\(configuration.host):\(configuration.port)")
        let sub = try Socket(context, .sub)
        defer { sub.close() }
        try sub.setLinger(0)
        try sub.subscribe(identity)
        try sub.connect("tcp://\(configuration.host):\(configuration.portOut)")
        let subFD = try sub.intOption(ZMQ_FD)
        logger.info("bridge \(String(decoding: identity, as: UTF8.self)) connected to tcp://\(configuration.host):\(configuration.port) / :\(configuration.portOut)")

        var probeIds = Set<Int>()
        var nextProbe = ContinuousClock.now
        while true {
            let (stopped, ready) = state.withLock { ($0.stopped != nil, $0.ready) }
            if stopped { return }
            let now = ContinuousClock.now

            if !ready, now >= nextProbe {
                // The stock client's first message: SHOW_CONFIG, repeated until one reply gets through.
                let id = state.withLock { s -> Int in
                    s.nextRequestId += 1
                    return s.nextRequestId
                }
                probeIds.insert(id)
                try? push.send([identity, Array("SHOW_CONFIG".utf8), Array(String(id).utf8), Array("0".utf8)], dontWait: true)
                nextProbe = now.advanced(by: configuration.probeInterval)
            }

            if ready {
                let outgoing = state.withLock { s -> [(id: Int, frames: [[UInt8]])] in
                    let o = s.outbox
                    s.outbox.removeAll(keepingCapacity: true)
                    return o
                }
                for (id, frames) in outgoing {
                    do {
                        try push.send(frames, dontWait: true)
                    } catch {
                        if error.isTerminated { throw error }
                        let w = state.withLock { $0.waiters.removeValue(forKey: id) }
                        w?.continuation.resume(returning: .failure(.unavailable("cannot queue the request: \(error)")))
                    }
                }
            }

            // ZMQ_FD is edge-triggered: drain while ZMQ_EVENTS says POLLIN, and only then sleep in poll(2).
            while (try sub.intOption(ZMQ_EVENTS)) & Int32(ZMQ_POLLIN) != 0 {
                let frames: [[UInt8]]
                do {
                    frames = try sub.receive(dontWait: true)
                } catch {
                    if error.isTimeout { break }
                    throw error
                }
                deliver(frames, probeIds: &probeIds)
            }

            expireWaiters(now: ContinuousClock.now)

            var wait = Duration.milliseconds(100)
            let isReady = state.withLock { $0.ready }
            if !isReady { wait = min(wait, max(.zero, nextProbe - ContinuousClock.now)) }
            let ms = Int32(wait.components.seconds * 1000 + wait.components.attoseconds / 1_000_000_000_000_000)
            var fds = [
                pollfd(fd: subFD, events: Int16(POLLIN), revents: 0),
                pollfd(fd: doorbell.readFD, events: Int16(POLLIN), revents: 0),
            ]
            _ = fds.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), ms) }
            if fds[1].revents != 0 { doorbell.drain() }
        }
    }

    private func deliver(_ frames: [[UInt8]], probeIds: inout Set<Int>) {
        guard frames.count >= 3, let last = frames.last, let id = Int(String(decoding: last, as: UTF8.self)) else {
            logger.warning("dropped a reply of \(frames.count) frames without a readable req_id")
            return
        }
        if probeIds.remove(id) != nil {
            let first = state.withLock { s -> Bool in
                defer { s.ready = true }
                return !s.ready
            }
            if first { logger.info("server answered SHOW_CONFIG: HTTP bridge ready") }
            return
        }
        let waiter = state.withLock { s -> Waiter? in
            s.ready = true
            return s.waiters.removeValue(forKey: id)
        }
        waiter?.continuation.resume(returning: .success(frames))
    }

    private func expireWaiters(now: ContinuousClock.Instant) {
        let expired = state.withLock { s -> [Waiter] in
            let ids = s.waiters.filter { $0.value.deadline <= now }.map(\.key)
            if ids.isEmpty { return [] }
            s.outbox.removeAll { ids.contains($0.id) }
            return ids.compactMap { s.waiters.removeValue(forKey: $0) }
        }
        let seconds = Double(configuration.requestTimeout.components.seconds)
            + Double(configuration.requestTimeout.components.attoseconds) / 1e18
        for w in expired { w.continuation.resume(returning: .failure(.timeout(seconds: seconds))) }
    }
}

/// A non-blocking pipe that wakes the bridge thread out of poll(2) when the outbox changes.
///
/// `@unchecked Sendable`: the two descriptors are set once in init and only passed to write(2)/read(2),
/// which are safe to call from several threads on a pipe; closed in deinit when no one holds the doorbell.
final class Doorbell: @unchecked Sendable {
    let readFD: Int32
    let writeFD: Int32

    init() throws(BackendError) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw .unavailable("pipe() failed: errno \(errno)") }
        readFD = fds[0]
        writeFD = fds[1]
        for fd in fds {
            let flags = fcntl(fd, F_GETFL)
            _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        }
    }

    deinit {
        close(readFD)
        close(writeFD)
    }

    /// Wakes the thread; a full pipe already guarantees a wake-up, so EAGAIN is fine.
    func ring() {
        var one: UInt8 = 1
        _ = write(writeFD, &one, 1)
    }

    func drain() {
        var buffer = [UInt8](repeating: 0, count: 256)
        while buffer.withUnsafeMutableBytes({ read(readFD, $0.baseAddress, $0.count) }) > 0 {}
    }
}

extension EncodedBatch {
    /// Decodes the sink's `{"dtype","shape","tokens"}` header and the raw array that follows it.
    /// - Throws: `.serverError` for an `ERROR: …` dtype, `.malformedReply` when header and data disagree.
    public static func decode(header: [UInt8], data: [UInt8]) throws(BackendError) -> EncodedBatch {
        let json: JSONValue
        do {
            json = try JSONValue.parse(header)
        } catch {
            throw .malformedReply("header is not JSON (\(error))")
        }
        guard case .string(let dtype)? = json["dtype"] else { throw .malformedReply("header has no dtype") }
        if dtype.hasPrefix("ERROR") { throw .serverError(dtype) }
        guard case .array(let dims)? = json["shape"] else { throw .malformedReply("header has no shape") }
        var shape: [Int] = []
        for d in dims {
            guard case .integer(let s) = d, let n = Int(s), n >= 0 else { throw .malformedReply("bad shape \(PythonFormat.repr(.array(dims)))") }
            shape.append(n)
        }
        var count = 1
        for n in shape {
            let (p, overflow) = count.multipliedReportingOverflow(by: n)
            guard !overflow else { throw .malformedReply("shape overflows") }
            count = p
        }
        var values = [Float](repeating: 0, count: count)
        switch dtype {
        case "float32":
            guard data.count == count * 4 else { throw .malformedReply("\(data.count) bytes for \(count) float32") }
            data.withUnsafeBytes { raw in
                for i in 0..<count { values[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))) }
            }
        case "float16":
            guard data.count == count * 2 else { throw .malformedReply("\(data.count) bytes for \(count) float16") }
            data.withUnsafeBytes { raw in
                for i in 0..<count { values[i] = halfToFloat(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))) }
            }
        default:
            throw .malformedReply("unsupported dtype \(dtype)")
        }
        var tokens: [[String]]?
        if case .array(let rows)? = json["tokens"] {
            tokens = rows.map { row in
                guard case .array(let items) = row else { return [] }
                return items.compactMap { if case .string(let s) = $0 { s } else { nil } }
            }
        }
        return EncodedBatch(dtype: dtype, shape: shape, values: values, tokens: tokens)
    }

    /// IEEE 754 binary16 → binary32 (numpy's `float16`), subnormals and NaN included.
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h >> 15) << 31
        let exp = UInt32((h >> 10) & 0x1F)
        let mant = UInt32(h & 0x3FF)
        if exp == 0 {
            let magnitude = Float(mant) * Float(sign: .plus, exponent: -24, significand: 1)
            return sign == 0 ? magnitude : -magnitude
        }
        if exp == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mant << 13)) }
        return Float(bitPattern: sign | ((exp + 112) << 23) | (mant << 13))
    }
}
