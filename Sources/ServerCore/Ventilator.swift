import Foundation
import Logging
import ZeroMQ

/// `BertServer._run` (bert_serving/server/__init__.py) as a thread: owns the frontend `PULL`
/// on `-port`, answers SHOW_CONFIG / SHOW_STATUS, registers encode jobs at the sink, splits jobs
/// larger than `max_batch_size`, and pushes them to the workers (socket 0 is the priority lane
/// for jobs of at most `priority_batch_size`). It also starts the sink and the workers.
/// Its sockets live on its own thread.
struct Ventilator: Sendable {
    let context: Context
    let config: ServerConfig
    let backend: any PipelineBackend
    let names: Endpoints
    let staticStatus: StaticStatus
    let gate: ReplyGate
    let failPoints: FailPoints

    /// Our `inproc://` endpoint names (SHOW_CONFIG reports them in the address fields).
    struct Endpoints: Sendable {
        let backends: [String]
        let workerToSink: String
        let ventilatorToSink: String

        init(token: String, count: Int) {
            backends = (0 ..< count).map { "inproc://bert-serving-\(token)-backend-\($0)" }
            workerToSink = "inproc://bert-serving-\(token)-sink"
            ventilatorToSink = "inproc://bert-serving-\(token)-ventilator"
        }
    }

    func run(ready: Latch) {
        let logger = Logger(label: "VENTILATOR")
        var sockets: [Socket] = []
        var finished: [Latch] = []
        defer {
            for s in sockets { s.close() }
            context.shutdown()
            for f in finished { _ = f.wait() }
            logger.info("terminated!")
        }
        let frontend: Socket, sink: Socket
        var backends: [Socket] = []
        do {
            logger.info("bind all sockets")
            frontend = try Socket(context, .pull)
            sockets.append(frontend)
            try frontend.setLinger(0)
            try frontend.bind("tcp://\(config.bindHost):\(config.port)")
            sink = try Socket(context, .pair)
            sockets.append(sink)
            try sink.setLinger(0)
            try sink.bind(names.ventilatorToSink)
            for address in names.backends {
                let b = try Socket(context, .push)
                sockets.append(b)
                try b.setLinger(0)
                try b.bind(address)
                backends.append(b)
            }
        } catch {
            ready.fail(StartupError(component: "VENTILATOR", message: "\(error)"))
            return
        }
        logger.info("open \(backends.count) ventilator-worker sockets")

        logger.info("start the sink")
        let sinkReady = Latch(), sinkDone = Latch()
        let cancelled = CancelledJobs()
        let sinkBody = Sink(context: context, config: config, workerAddress: names.workerToSink,
                            ventilatorAddress: names.ventilatorToSink, gate: gate, cancelled: cancelled)
        spawn("SINK") { sinkBody.run(ready: sinkReady); sinkDone.succeed() }
        finished.append(sinkDone)
        if case .failure(let e) = sinkReady.wait() {
            ready.fail(e)
            return
        }
        let deviceMap = (0 ..< config.numWorker).map {
            "worker \(String(repeating: " ", count: $0 < 10 ? 1 : 0))\($0) -> cpu"
        }.joined(separator: "\n\t\t")
        logger.info("device map: \n\t\t\(deviceMap)")
        var workerReady: [Latch] = []
        for i in 0 ..< config.numWorker {
            let r = Latch(), done = Latch()
            let worker = Worker(index: i, context: context, backendAddresses: names.backends,
                                sinkAddress: names.workerToSink, backend: backend,
                                showTokens: config.showTokensToClient, cancelled: cancelled,
                                failPoints: failPoints)
            spawn("WORKER-\(i)") { worker.run(ready: r); done.succeed() }
            workerReady.append(r)
            finished.append(done)
        }
        for r in workerReady {
            if case .failure(let e) = r.wait() {
                ready.fail(e)
                return
            }
        }
        var stats = ServerStatistic()
        let runtime = RuntimeStatus(numProcess: config.numWorker + 1 + (config.httpPort == nil ? 0 : 1),
                                    ventilatorToWorker: names.backends, workerToSink: names.workerToSink,
                                    ventilatorToSink: names.ventilatorToSink,
                                    numConcurrentSocket: config.numConcurrentSocket)
        var nextJob: UInt64 = 0
        /// Sequences of registered jobs the sink has not answered yet (`-request_max_pending_texts`).
        var pendingTexts = 0
        var intakePaused = false
        let everything = Poller([frontend, sink])
        let sinkOnly = Poller([sink])
        logger.info("all set, ready to serve request!")
        ready.succeed()

        do {
            while true {
                // Backpressure: above the limit, only the sink's "answered" notices are read; new
                // requests wait in ZeroMQ's queue and then in TCP, which slows their senders down.
                // A lone request is always admitted, whatever its size.
                let full = pendingTexts > 0 && pendingTexts >= config.maxPendingTexts
                if full != intakePaused {
                    intakePaused = full
                    if full {
                        logger.warning("backpressure: \(pendingTexts) sentences pending (limit \(config.maxPendingTexts), -request_max_pending_texts), pausing intake")
                    } else {
                        logger.info("backpressure: \(pendingTexts) sentences pending, resuming intake")
                    }
                }
                let readable = try (full ? sinkOnly : everything).poll(timeoutMilliseconds: -1)
                if readable.last == true {
                    let notice = try sink.receive()
                    if notice.count == 3, notice[0] == PipelineFrames.answered, let count = PipelineFrames.int(notice[2]) {
                        pendingTexts = max(0, pendingTexts - count)
                    }
                }
                guard !full, readable[0] else { continue }
                let frames = try frontend.receive()
                let request: ClientRequest
                do {
                    request = try ClientRequest.parse(frames)
                } catch {
                    logger.error("received a wrongly-formatted request (expected 4 frames, got \(frames.count)): \(error)")
                    let fields = frames.enumerated().map { "field \($0.offset): \(WireError.show($0.element))" }
                    logger.error("\(fields.joined(separator: "\n"))")
                    continue
                }
                guard let msgLen = request.msgLen else {
                    let error = WireError.badMessageLength(request.msgLenBytes)
                    logger.error("bad request\treq id: \(String(decoding: request.reqID, as: UTF8.self))\tclient: \(WireError.show(request.client))\t\(error)")
                    try sink.send([PipelineFrames.fail, request.client, request.reqID, Array(error.description.utf8)])
                    continue
                }
                stats.update(request)
                let reqIDText = String(decoding: request.reqID, as: UTF8.self)
                switch request.command {
                case .terminate:
                    logger.info("shutting down...")
                    frontend.close()
                    // In-flight jobs still get their replies: wait for the sink to drain.
                    try sink.send([PipelineFrames.drain])
                    while true {
                        let reply = try sink.receive()
                        if reply.first == PipelineFrames.drained { break }
                    }
                    return
                case .showConfig, .showStatus:
                    logger.info("new config request\treq id: \(reqIDText)\tclient: \(WireError.show(request.client))")
                    let body = StatusReport.json(
                        client: request.client, runtime: runtime, currentTime: StatusReport.pythonNow(),
                        statistic: request.command == .showStatus ? stats.value : nil,
                        config: config, staticStatus: staticStatus)
                    try sink.send([PipelineFrames.reply, request.client, request.reqID, body])
                default:
                    logger.info("new encode request\treq id: \(reqIDText)\tsize: \(msgLen)\tclient: \(WireError.show(request.client))")
                    let payload: EncodePayload
                    do {
                        try EncodePayload.checkLimits(payloadBytes: request.payload.count, declaredCount: msgLen,
                                                      maxBytes: config.maxMessageBytes, maxCount: config.maxTexts)
                        payload = try EncodePayload.parse(request.payload, declaredCount: msgLen)
                    } catch {
                        logger.error("bad request\treq id: \(reqIDText)\tclient: \(WireError.show(request.client))\t\(error)")
                        try sink.send([PipelineFrames.fail, request.client, request.reqID, Array(error.description.utf8)])
                        if request.payload.count >= MemoryTrim.threshold { MemoryTrim.now() }
                        continue
                    }
                    nextJob += 1
                    let job = nextJob
                    pendingTexts += msgLen
                    let registration = [ServerCommand.newJob.bytes, PipelineFrames.number(job), request.client,
                                        request.reqID, PipelineFrames.number(msgLen),
                                        PipelineFrames.number(request.payload.count)]
                    // Every job but the priority lane's goes through socket 1, whose round robin
                    // hands the workers jobs in strict turn. The original picks a random socket per
                    // request (never 0, never the last one used), each socket with a round robin of
                    // its own, so two jobs in a row could go to one worker while another idled:
                    // MiniLM, -num_worker 2, 4 stock clients × 256 sentences on 2 cores, 27 % of the
                    // CPU idle and 504-938 sentences/s over 8 repeats, against 864-979 (one worker:
                    // 943). The other sockets stay open: SHOW_CONFIG and the status report them.
                    func push(_ part: Int, _ json: [UInt8], _ size: Int) throws(ZMQError) {
                        let socket = size <= config.priorityBatchSize ? backends[0] : backends[1]
                        try socket.send([PipelineFrames.jobKey(job, part: part), json])
                    }
                    if msgLen > config.maxBatchSize {
                        try sink.send(registration)
                        for start in stride(from: 0, to: msgLen, by: config.maxBatchSize) {
                            let part = payload.slice(start ..< min(msgLen, start + config.maxBatchSize))
                            try push(start, part.json(), part.count)
                        }
                    } else {
                        // A one-part job is registered after its push: the worker starts at once
                        // instead of after the sink, woken by the registration, has left the
                        // ventilator's core (measured: -80 µs p50 request to worker). The sink's
                        // table takes a job's results and its registration in either order.
                        try push(0, request.payload, msgLen)
                        try sink.send(registration)
                    }
                }
            }
        } catch {
            if error.isTerminated {
                logger.info("context terminated")
            } else {
                logger.error("ventilator stopped: \(error)")
            }
        }
    }
}

/// Starts a named thread running `body` (blocking work never runs on the cooperative pool).
func spawn(_ name: String, _ body: @escaping @Sendable () -> Void) {
    let thread = Thread(block: body)
    thread.name = name
    thread.stackSize = 8 << 20
    thread.start()
}
