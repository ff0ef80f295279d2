import CZeroMQ
import Dispatch
import Foundation
import Logging
import ServerCore
import Synchronization
import ZeroMQ

/// The proxy itself: one thread owning every socket.
///
/// - clients: `PULL` on `-port`, `XPUB` on `-port_out` (replies held until the client subscribed,
///   as one server's sink does);
/// - per backend: a `PUSH` to its `-port` (`ZMQ_IMMEDIATE`: nothing is queued for a backend that
///   is not connected, so a send to a dead one fails at once), a `SUB` on its `-port_out`
///   subscribed to exactly the proxy's identity and the probe identity (an exact subscription
///   lets the backend's reply gate release replies at once), and a socket monitor whose
///   DISCONNECTED event marks the backend down without waiting for the next probe.
///
/// `start()` returns once the client ports are bound; `wait()` blocks until a TERMINATION (from a
/// client or `terminate()`) has been drained. Thread-safe.
public final class Broker: Sendable {
    public let backends: [BackendAddress]
    public let settings: BrokerSettings
    public let bindHost: String
    private let context: Context
    private let token = String(UInt64.random(in: 0 ... UInt64.max), radix: 36)
    private let snapshotBox = Mutex(ProxySnapshot())
    private let startup = Mutex<Result<Void, ProxyError>?>(nil)
    private let started = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    /// The most a TERMINATION drain waits for in-flight requests.
    public let drainLimit: Double

    public init(backends: [BackendAddress], settings: BrokerSettings, bindHost: String = "*", drainLimit: Double = 30) throws(ProxyError) {
        self.backends = backends
        self.settings = settings
        self.bindHost = bindHost
        self.drainLimit = drainLimit
        do {
            context = try Context()
        } catch {
            throw .socket("cannot create a ZeroMQ context: \(error)")
        }
    }

    /// The latest counters (for `/metrics` and `/ready`).
    public var snapshot: ProxySnapshot { snapshotBox.withLock { $0 } }

    private var controlAddress: String { "inproc://bert-serving-proxy-\(token)-control" }

    /// Starts the broker thread; returns once the client ports are bound.
    /// - Throws: `ProxyError.socket` (a port in use, a bad host).
    public func start() throws(ProxyError) {
        let thread = Thread { [self] in
            self.run()
            self.done.signal()
        }
        thread.name = "PROXY"
        thread.stackSize = 8 << 20
        thread.start()
        started.wait()
        if case .failure(let e) = startup.withLock({ $0 }) ?? .success(()) { throw e }
    }

    /// Blocks until the broker thread has finished.
    public func wait() {
        done.wait()
        done.signal()
    }

    /// Asks the broker to drain and stop, as a client's TERMINATION does. Any thread.
    public func terminate() {
        guard let socket = try? Socket(context, .push) else { return }
        defer { socket.close() }
        try? socket.setLinger(1000)
        try? socket.connect(controlAddress)
        try? socket.send([ServerCommand.terminate.bytes])
    }

    private func fail(_ message: String) {
        startup.withLock { $0 = .failure(.socket(message)) }
        started.signal()
    }

    /// The sockets `BrokerState` drives.
    private struct SocketIO: BrokerIO {
        let pushes: [Socket]
        let results: Socket
        var holder: ReplyHolder
        var now: Double
        let logger: Logger

        mutating func send(toBackend index: Int, _ frames: [[UInt8]]) -> Bool {
            do {
                try pushes[index].send(frames, dontWait: true)
                return true
            } catch {
                return false
            }
        }

        mutating func reply(to client: [UInt8], _ frames: [[UInt8]], isConfig: Bool) {
            for f in holder.reply(to: client, frames: frames, isConfig: isConfig, now: now) { publish(f) }
        }

        func publish(_ frames: [[UInt8]]) {
            do {
                try results.send(frames, dontWait: true)
            } catch {
                logger.error("reply to \(String(decoding: frames.first ?? [], as: UTF8.self)) not sent: \(error)")
            }
        }
    }

    private func run() {
        let logger = Logger(label: "PROXY")
        let proxyIdentity = Array("bert-serving-proxy-\(token)".utf8)
        var sockets: [Socket] = []
        defer {
            for s in sockets { s.close() }
            logger.info("terminated!")
        }
        var frontend: Socket?
        let results: Socket, control: Socket
        var pushes: [Socket] = [], subs: [Socket] = [], monitors: [Socket] = []
        do {
            let pull = try Socket(context, .pull)
            sockets.append(pull)
            try pull.setLinger(0)
            try pull.bind("tcp://\(bindHost):\(settings.port)")
            frontend = pull
            results = try Socket(context, .xpub)
            sockets.append(results)
            try results.setOption(ZMQ_XPUB_VERBOSER, 1)
            try results.setLinger(2000)
            try results.bind("tcp://\(bindHost):\(settings.portOut)")
            control = try Socket(context, .pull)
            sockets.append(control)
            try control.setLinger(0)
            try control.bind(controlAddress)
            for (i, b) in backends.enumerated() {
                let push = try Socket(context, .push)
                sockets.append(push)
                try push.setLinger(0)
                try push.setOption(ZMQ_IMMEDIATE, 1)
                // Reconnect fast after a backend restarts (libzmq default 100 ms, backing off to 1 s).
                try push.setOption(ZMQ_RECONNECT_IVL_MAX, 1000)
                let monitorAddress = "inproc://bert-serving-proxy-\(token)-monitor-\(i)"
                try push.monitor(monitorAddress, events: ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED)
                let monitor = try Socket(context, .pair)
                sockets.append(monitor)
                try monitor.setLinger(0)
                try monitor.connect(monitorAddress)
                try push.connect(b.requestEndpoint)
                let sub = try Socket(context, .sub)
                sockets.append(sub)
                try sub.setLinger(0)
                try sub.subscribe(proxyIdentity)
                try sub.subscribe(ServerStatistic.probeIdentity)
                try sub.setOption(ZMQ_RECONNECT_IVL_MAX, 1000)
                try sub.connect(b.resultEndpoint)
                pushes.append(push)
                subs.append(sub)
                monitors.append(monitor)
            }
        } catch {
            fail("\(error)")
            return
        }
        var state = BrokerState(backends: backends, settings: settings, proxyIdentity: proxyIdentity, logger: logger)
        var io = SocketIO(pushes: pushes, results: results, holder: ReplyHolder(), now: ServerStatistic.monotonicSeconds(), logger: logger)
        let unixOffset = Date().timeIntervalSince1970 - io.now
        let startedAt = io.now
        logger.info("clients on tcp://\(bindHost):\(settings.port) (-port) and tcp://\(bindHost):\(settings.portOut) (-port_out); backends: \(backends.map(\.description).joined(separator: ", "))")
        logger.info("all set, ready to serve request!")
        startup.withLock { $0 = .success(()) }
        started.signal()

        var drainUntil: Double?
        var polled: [Socket] = [results, control] + subs + monitors
        if let frontend { polled.insert(frontend, at: 0) }
        do {
            while true {
                let now = ServerStatistic.monotonicSeconds()
                var timeout = 1000
                if let next = [state.nextWakeup, io.holder.nextDeadline].compactMap({ $0 }).min() {
                    timeout = min(timeout, max(0, Int(((next - now) * 1000).rounded(.up))))
                }
                _ = try Poller(polled).poll(timeoutMilliseconds: timeout)
                io.now = ServerStatistic.monotonicSeconds()
                // Every socket is read without waiting; the poll only tells that something may be there.
                while let m = try? results.receive(dontWait: true) {
                    if let first = m.first { io.holder.subscription(first, now: io.now) }
                }
                for (i, monitor) in monitors.enumerated() {
                    while let m = try? monitor.receive(dontWait: true) {
                        guard let event = SocketEvent(message: m) else { continue }
                        if event.event == ZMQ_EVENT_DISCONNECTED {
                            state.backendDisconnected(i, now: io.now, io: &io)
                        } else if event.event == ZMQ_EVENT_CONNECTED {
                            state.backendConnected(i, now: io.now)
                        }
                    }
                }
                for (i, sub) in subs.enumerated() {
                    while let m = try? sub.receive(dontWait: true) { state.backendMessage(i, m, now: io.now, io: &io) }
                }
                if let pull = frontend {
                    var n = 0
                    while n < 1000, let m = try? pull.receive(dontWait: true) {
                        state.clientMessage(m, now: io.now, io: &io)
                        n += 1
                    }
                }
                while let m = try? control.receive(dontWait: true) {
                    if m.first == ServerCommand.terminate.bytes, drainUntil == nil {
                        logger.info("shutting down...")
                        drainUntil = io.now + drainLimit
                    }
                }
                if state.terminationRequested, drainUntil == nil {
                    drainUntil = io.now + drainLimit
                }
                state.tick(now: io.now, io: &io)
                for reply in io.holder.release(now: io.now) {
                    if reply.isUnreachable, let client = reply.frames.first {
                        logger.warning("no subscriber for client \(String(decoding: client, as: UTF8.self)) after waiting, reply dropped")
                    }
                    io.publish(reply.frames)
                }
                let snap = ProxySnapshot(backends: state.backends, counters: state.counters, inFlight: state.inFlightCount,
                                         waiting: state.waitingCount, heldReplies: io.holder.heldCount,
                                         unixOffset: unixOffset, startedAt: startedAt)
                snapshotBox.withLock { $0 = snap }
                if let until = drainUntil {
                    if let pull = frontend {
                        // Like the server: stop taking requests, answer those in flight.
                        pull.close()
                        frontend = nil
                        polled.removeFirst()
                    }
                    if (state.isIdle && io.holder.heldCount == 0) || io.now >= until {
                        if !state.isIdle { logger.warning("\(state.inFlightCount + state.waitingCount) requests unanswered after \(drainLimit) s, giving up") }
                        break
                    }
                }
            }
        } catch {
            if !error.isTerminated { logger.error("proxy stopped: \(error)") }
        }
    }
}

extension ProxySnapshot {
    init(backends: [BackendState], counters: ProxyCounters, inFlight: Int, waiting: Int, heldReplies: Int,
         unixOffset: Double, startedAt: Double) {
        self.init()
        self.backends = backends
        self.counters = counters
        self.inFlight = inFlight
        self.waiting = waiting
        self.heldReplies = heldReplies
        self.unixOffset = unixOffset
        self.startedAt = startedAt
    }
}
