import Foundation
import Logging
import ZeroMQ
import CZeroMQ

/// `BertSink` (bert_serving/server/__init__.py) as a thread: collects results from the workers,
/// reassembles partial jobs with `JobTable`, and publishes replies on `-port_out`.
///
/// The result socket is an `XPUB` rather than the original's `PUB`: it reads the clients'
/// subscriptions and holds a reply until its client has subscribed (`ReplyHolder`), instead of
/// the original's fixed 0.1 s sleep. Its sockets live on its own thread.
struct Sink: Sendable {
    let context: Context
    let config: ServerConfig
    let workerAddress: String
    let ventilatorAddress: String
    let gate: ReplyGate
    let cancelled: CancelledJobs

    func run(ready: Latch) {
        let logger = Logger(label: "SINK")
        var sockets: [Socket] = []
        defer { for s in sockets { s.close() } }
        let receiver: Socket, frontend: Socket, sender: Socket
        do {
            receiver = try Socket(context, .pull)
            sockets.append(receiver)
            try receiver.setLinger(0)
            try receiver.bind(workerAddress)
            frontend = try Socket(context, .pair)
            sockets.append(frontend)
            try frontend.setLinger(0)
            try frontend.connect(ventilatorAddress)
            sender = try Socket(context, .xpub)
            sockets.append(sender)
            // Every subscribe and unsubscribe, duplicates included, so the book can count them.
            try sender.setOption(ZMQ_XPUB_VERBOSER, 1)
            // Replies still queued when we shut down get this long to leave (ms).
            try sender.setLinger(2000)
            try sender.bind("tcp://\(config.bindHost):\(config.portOut)")
        } catch {
            ready.fail(StartupError(component: "SINK", message: "\(error)"))
            return
        }
        logger.info("ready")
        ready.succeed()

        var table = JobTable(settings: .init(withTokens: config.showTokensToClient,
                                             maxSeqLenUnset: config.maxSeqLen == nil,
                                             maxPositionEmbeddings: config.maxPositionEmbeddings,
                                             fixedEmbedLength: config.fixedEmbedLength))
        var holder = ReplyHolder(gate: gate)
        var draining = false
        var lastActivity = ServerStatistic.monotonicSeconds()
        let poller = Poller([receiver, frontend, sender])
        let dtype = config.fp16 ? "float16" : "float32"
        /// Unfinished jobs' `-request_timeout` deadlines.
        var deadlines: [UInt64: Double] = [:]
        /// Unfinished jobs whose payload reached `MemoryTrim.threshold`.
        var largeJobs: Set<UInt64> = []
        /// Answered sequences not yet reported to the ventilator (its backpressure count). Sent
        /// without blocking: a ventilator blocked on a full worker queue must never stall the sink.
        var unreportedAnswered = 0

        func publish(_ client: [UInt8], _ frames: [[UInt8]], isConfig: Bool) throws(ZMQError) {
            for f in holder.reply(to: client, frames: frames, isConfig: isConfig, now: ServerStatistic.monotonicSeconds()) {
                try sender.send(f)
            }
        }

        do {
            while true {
                var timeout = -1
                if let next = ([holder.nextDeadline].compactMap { $0 } + deadlines.values).min() {
                    timeout = max(0, Int(((next - ServerStatistic.monotonicSeconds()) * 1000).rounded(.up)))
                }
                if draining { timeout = timeout < 0 ? 1000 : min(timeout, 1000) }
                if unreportedAnswered > 0 { timeout = timeout < 0 ? 10 : min(timeout, 10) }
                let readable = try poller.poll(timeoutMilliseconds: timeout)
                if readable[2] {
                    let message = try sender.receive()
                    if let first = message.first {
                        holder.subscription(first, now: ServerStatistic.monotonicSeconds())
                    }
                }
                if readable[0] {
                    lastActivity = ServerStatistic.monotonicSeconds()
                    handleWorker(try receiver.receive(), table: &table, logger: logger)
                }
                if readable[1] {
                    lastActivity = ServerStatistic.monotonicSeconds()
                    let msg = try frontend.receive()
                    if msg.first == PipelineFrames.drain {
                        draining = true
                    } else if msg.count == 6, msg[0] == ServerCommand.newJob.bytes,
                              let job = PipelineFrames.uint64(msg[1]), let count = PipelineFrames.int(msg[4]) {
                        table.register(job: job, client: msg[2], reqID: msg[3], count: count)
                        if let bytes = PipelineFrames.int(msg[5]), bytes >= MemoryTrim.threshold { largeJobs.insert(job) }
                        if let timeout = config.requestTimeout {
                            deadlines[job] = ServerStatistic.monotonicSeconds() + timeout
                        }
                        logger.info("job register\tsize: \(count)\tjob id: \(WireError.show(msg[2] + Array("#".utf8) + msg[3]))")
                    } else if msg.count == 4, msg[0] == PipelineFrames.reply {
                        logger.info("send config\tclient \(WireError.show(msg[1]))")
                        try publish(msg[1], [msg[1], msg[3], msg[2]], isConfig: true)
                    } else if msg.count == 4, msg[0] == PipelineFrames.fail {
                        logger.info("send error\tclient \(WireError.show(msg[1]))")
                        try publish(msg[1], [msg[1], PipelineFrames.errorHeader(String(decoding: msg[3], as: UTF8.self)),
                                             [], msg[2]], isConfig: false)
                    } else {
                        logger.error("unexpected message from the ventilator (\(msg.count) frames)")
                    }
                }
                if !deadlines.isEmpty {
                    let now = ServerStatistic.monotonicSeconds()
                    for (job, deadline) in deadlines where deadline <= now {
                        table.fail(job: job, message: "request not finished within \(config.requestTimeout ?? 0) s (-request_timeout)")
                        deadlines[job] = nil
                    }
                }
                var trim = false
                for done in table.takeFinished() {
                    deadlines[done.job] = nil
                    unreportedAnswered += done.count
                    if largeJobs.remove(done.job) != nil { trim = true }
                    let frames: [[UInt8]]
                    switch done.outcome {
                    case .embeddings(let shape, let values, let tokens):
                        let body = config.fp16 ? PipelineFrames.halfBytes(values) : PipelineFrames.floatBytes(values)
                        frames = [done.client, PipelineFrames.header(dtype: dtype, shape: shape, tokens: tokens), body, done.reqID]
                    case .failure(let message):
                        // Parts of this job still queued at the workers are skipped, not computed.
                        cancelled.cancel(done.job)
                        frames = [done.client, PipelineFrames.errorHeader(message), [], done.reqID]
                        logger.error("send error\tjob id: \(WireError.show(done.client + Array("#".utf8) + done.reqID))\t\(message)")
                    }
                    try publish(done.client, frames, isConfig: false)
                    // Logged after the reply left: the line costs the client nothing.
                    if case .embeddings(let shape, _, _) = done.outcome {
                        logger.info("send back\tsize: \(shape.first ?? 0)\tjob id: \(WireError.show(done.client + Array("#".utf8) + done.reqID))")
                    }
                }
                if unreportedAnswered > 0 {
                    do {
                        try frontend.send([PipelineFrames.answered, [], PipelineFrames.number(unreportedAnswered)],
                                          dontWait: true)
                        unreportedAnswered = 0
                    } catch where error.isTimeout {
                        // The ventilator's queue is full; retried on the next round (≤ 10 ms).
                    }
                }
                // Give the memory of a large request back to the system (glibc keeps it otherwise).
                if trim { MemoryTrim.now() }
                let now = ServerStatistic.monotonicSeconds()
                for reply in holder.release(now: now) {
                    if reply.isUnreachable, let client = reply.frames.first {
                        logger.warning("no subscriber for client \(WireError.show(client)) after waiting, reply dropped")
                    }
                    try sender.send(reply.frames)
                }
                if draining {
                    let idle = now - lastActivity > 30
                    if (table.pendingCount == 0 && holder.heldCount == 0) || idle {
                        if idle { logger.warning("\(table.pendingCount) jobs unfinished after 30 s idle, giving up") }
                        try frontend.send([PipelineFrames.drained])
                        break
                    }
                }
            }
        } catch {
            if error.isTerminated {
                logger.info("terminated!")
            } else {
                logger.error("sink stopped: \(error)")
            }
        }
    }

    private func handleWorker(_ msg: [[UInt8]], table: inout JobTable, logger: Logger) {
        guard msg.count == 4, let (job, part) = PipelineFrames.parseJobKey(msg[0]) else {
            logger.error("received a wrongly-formatted request (expected 4 frames, got \(msg.count))")
            return
        }
        if msg[3] == ServerCommand.dataEmbed.bytes {
            guard let shape = PipelineFrames.parseShape(msg[1]), let values = PipelineFrames.floats(msg[2]),
                  values.count == shape.reduce(1, *) else {
                table.fail(job: job, message: "internal error: malformed embeddings from a worker")
                return
            }
            table.addEmbeddings(job: job, partID: part, shape: shape, values: values)
        } else if msg[3] == ServerCommand.dataToken.bytes {
            guard let tokens = try? JSONDecoder().decode([[String]].self, from: Data(msg[1])) else {
                table.fail(job: job, message: "internal error: malformed tokens from a worker")
                return
            }
            table.addTokens(job: job, partID: part, tokens: tokens)
        } else if msg[3] == PipelineFrames.fail {
            table.fail(job: job, message: String(decoding: msg[1], as: UTF8.self))
        } else {
            logger.error("received a wrongly-formatted request (expected 4 frames, got \(msg.count))")
            return
        }
        let p = table.progress(job)
        logger.info("collect \(WireError.show(msg[3])) \(WireError.show(msg[0])) (E:\(p.embeds)/T:\(p.tokens)/A:\(p.checksum))")
    }
}
