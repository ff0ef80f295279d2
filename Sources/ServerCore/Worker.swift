import BertEngine
import Foundation
import Logging
import ZeroMQ

/// One `BertWorker` (bert_serving/server/__init__.py) as a thread: pulls (partial) jobs from
/// every ventilator socket, tokenizes and encodes them, pushes tokens and embeddings to the sink.
/// When the next job is already waiting as the worker starts encoding one, it is received then
/// and tokenized on a helper queue meanwhile (the original tokenized inside its `input_fn`
/// generator, in turn with the graph); a lone job is tokenized and encoded on the worker's
/// thread, with no handoff between threads on the one-sentence path.
///
/// A job that fails is reported to the sink (which answers the client with an error) and the
/// worker keeps serving: after a fault that is not the request's (anything but an `EngineError`
/// refusing the input) it restarts, i.e. replaces its encoder and scratch buffers with fresh ones,
/// keeping its sockets so no queued job is lost. Parts of jobs the sink already answered with an
/// error are skipped. Its sockets and encoder live on its own thread; the helper queue only
/// tokenizes.
struct Worker: Sendable {
    let index: Int
    let context: Context
    let backendAddresses: [String]
    let sinkAddress: String
    let backend: any PipelineBackend
    let showTokens: Bool
    let cancelled: CancelledJobs
    let failPoints: FailPoints

    func run(ready: Latch) {
        let logger = Logger(label: "WORKER-\(index)")
        var receivers: [Socket] = []
        var sink: Socket? = nil
        defer {
            for r in receivers { r.close() }
            sink?.close()
        }
        var encoder: any SequenceEncoder
        do {
            logger.info("use device cpu, load model from \(backendAddresses.count) sockets")
            encoder = try backend.makeEncoder(worker: index)
            for address in backendAddresses {
                let r = try Socket(context, .pull)
                try r.setLinger(0)
                try r.connect(address)
                receivers.append(r)
            }
            let s = try Socket(context, .push)
            try s.setLinger(0)
            try s.connect(sinkAddress)
            sink = s
        } catch {
            ready.fail(StartupError(component: "WORKER-\(index)", message: "\(error)"))
            return
        }
        guard let sink else { return }
        logger.info("ready and listening!")
        ready.succeed()
        var inbox = Inbox(receivers)
        let tokenizing = DispatchQueue(label: "WORKER-\(index)-TOKENIZE")
        // The job received while the one before was encoded, its tokenization under way.
        var ahead: JobAhead? = nil
        var restarts = 0
        do {
            while true {
                let job: WorkerJob
                if let next = ahead {
                    job = next.wait()
                    ahead = nil
                } else {
                    guard let (frames, i) = try inbox.next(timeoutMilliseconds: -1),
                          let received = check(frames, socketIndex: i, logger: logger) else { continue }
                    job = received.tokenized(by: backend)
                }
                // One job at most is taken ahead: the rest stay in the ventilator's queues, where
                // the priority lane can still overtake them.
                if let (frames, i) = try inbox.next(timeoutMilliseconds: 0),
                   let received = check(frames, socketIndex: i, logger: logger) {
                    ahead = JobAhead(received, backend: backend, queue: tokenizing)
                }
                guard let fault = try handle(job, encoder: encoder, sink: sink, logger: logger) else { continue }
                do {
                    encoder = try backend.makeEncoder(worker: index)
                    restarts += 1
                    logger.warning("restarted with a fresh encoder after: \(fault) (restart \(restarts))")
                } catch {
                    // Keep the old encoder; the next fault tries again.
                    logger.error("could not restart after: \(fault): \(error)")
                }
            }
        } catch {
            if error.isTerminated {
                logger.info("terminated!")
            } else {
                logger.error("worker stopped: \(error)")
            }
        }
        _ = ahead?.wait()
    }

    /// Checks one (partial) job as received.
    /// - Returns: the job to tokenize or to answer with an error, or nil for nothing.
    private func check(_ frames: [[UInt8]], socketIndex: Int, logger: Logger) -> ReceivedJob? {
        guard frames.count == 2 else {
            logger.error("received a wrongly-formatted job (expected 2 frames, got \(frames.count))")
            return nil
        }
        let key = frames[0]
        if isCancelled(key, logger: logger) { return nil }
        let payload: EncodePayload
        do {
            payload = try EncodePayload.parse(frames[1], declaredCount: nil)
        } catch {
            return .fail(key: key, message: error.description, count: 0)
        }
        logger.info("new job\tsocket: \(socketIndex)\tsize: \(payload.count)\tclient: \(WireError.show(key))")
        return .encode(key: key, payload: payload)
    }

    /// Whether the sink already answered the job of `key` with an error (logged when it did).
    private func isCancelled(_ key: [UInt8], logger: Logger) -> Bool {
        guard let (job, _) = PipelineFrames.parseJobKey(key), cancelled.isCancelled(job) else { return false }
        logger.info("skip job\tclient: \(WireError.show(key))\t(the request was already answered with an error)")
        return true
    }

    /// Encodes one (partial) job and sends its result or error to the sink.
    /// - Returns: the fault after which the encoder must be replaced, or nil.
    private func handle(_ job: WorkerJob, encoder: any SequenceEncoder, sink: Socket, logger: Logger)
        throws(ZMQError) -> (any Error)?
    {
        let key: [UInt8], batch: TokenizedBatch
        switch job {
        case .fail(let failedKey, let message, let count):
            try sink.send([failedKey, Array(message.utf8), PipelineFrames.number(count), PipelineFrames.fail])
            return nil
        case .encode(let k, let b):
            (key, batch) = (k, b)
        }
        // The request may have failed elsewhere while this part was tokenized ahead.
        if isCancelled(key, logger: logger) { return nil }
        do {
            try failPoints.beforeEncode()
            let result = try encoder.encode(batch)
            guard result.shape.first == batch.count, result.values.count == result.shape.reduce(1, *) else {
                throw StartupError(component: "WORKER-\(index)",
                                   message: "encoder returned shape \(result.shape) for \(batch.count) sequences")
            }
            if showTokens {
                let tokens = PyJSON.array(result.tokens.map { .array($0.map { .string($0) }) }).dumps()
                try sink.send([key, tokens, [], ServerCommand.dataToken.bytes])
            }
            try sink.send([key, PipelineFrames.shape(result.shape), PipelineFrames.floatBytes(result.values),
                           ServerCommand.dataEmbed.bytes])
            logger.info("job done\tsize: \(result.shape)\tclient: \(WireError.show(key))")
            return nil
        } catch let error as ZMQError {
            throw error
        } catch {
            logger.error("job failed\tclient: \(WireError.show(key))\t\(error)")
            try sink.send([key, Array("\(error)".utf8), PipelineFrames.number(batch.count), PipelineFrames.fail])
            // The engine refusing this input (as the original graph would) says nothing about the
            // encoder's state; any other fault does.
            return error is EngineError ? nil : error
        }
    }
}
