import BertEngine
import Foundation
import Logging
import ZeroMQ

/// One `BertWorker` (bert_serving/server/__init__.py) as two threads: the receiving thread pulls
/// (partial) jobs from every ventilator socket and tokenizes them; the encoding thread encodes
/// them and pushes tokens and embeddings to the sink. Between them sits a `JobHandoff` of one
/// job, so the next job is tokenized while the current one is computed (the original tokenized
/// inside its `input_fn` generator, in turn with the graph).
///
/// A job that fails is reported to the sink (which answers the client with an error) and the
/// worker keeps serving: after a fault that is not the request's (anything but an `EngineError`
/// refusing the input) it restarts, i.e. replaces its encoder and scratch buffers with fresh ones,
/// keeping its sockets so no queued job is lost. Parts of jobs the sink already answered with an
/// error are skipped. Each socket lives on the one thread that uses it: the receivers on the
/// receiving thread, the sink socket and the encoder on the encoding thread.
struct Worker: Sendable {
    let index: Int
    let context: Context
    let backendAddresses: [String]
    let sinkAddress: String
    let backend: any PipelineBackend
    let showTokens: Bool
    let cancelled: CancelledJobs
    let failPoints: FailPoints

    /// Jobs tokenized ahead of the one being encoded. One is enough to hide tokenization behind
    /// the encoder; more would only take jobs from the ventilator's queue earlier, where the
    /// priority lane can still overtake them.
    static let jobsTokenizedAhead = 1

    func run(ready: Latch) {
        let logger = Logger(label: "WORKER-\(index)")
        logger.info("use device cpu, load model from \(backendAddresses.count) sockets")
        let handoff = JobHandoff(capacity: Self.jobsTokenizedAhead)
        let encoderReady = Latch(), encoderDone = Latch()
        let worker = self
        spawn("WORKER-\(index)-ENCODE") {
            worker.encodeJobs(from: handoff, ready: encoderReady, logger: logger)
            handoff.close()
            encoderDone.succeed()
        }
        var receivers: [Socket] = []
        defer {
            for r in receivers { r.close() }
            handoff.close()
            _ = encoderDone.wait()
        }
        do {
            for address in backendAddresses {
                let r = try Socket(context, .pull)
                try r.setLinger(0)
                try r.connect(address)
                receivers.append(r)
            }
        } catch {
            ready.fail(StartupError(component: "WORKER-\(index)", message: "\(error)"))
            return
        }
        if case .failure(let e) = encoderReady.wait() {
            ready.fail(e)
            return
        }
        logger.info("ready and listening!")
        ready.succeed()
        let poller = Poller(receivers)
        do {
            receiving: while true {
                let readable = try poller.poll(timeoutMilliseconds: -1)
                // Socket 0 is the ventilator's priority lane: it is served first in every round.
                for (i, isReadable) in readable.enumerated() where isReadable {
                    let frames = try receivers[i].receive()
                    guard let job = prepare(frames, socketIndex: i, logger: logger) else { continue }
                    // Blocks while the encoder is still busy with the job before; false once it stopped.
                    guard handoff.put(job) else { break receiving }
                }
            }
        } catch {
            if error.isTerminated {
                logger.info("terminated!")
            } else {
                logger.error("worker stopped: \(error)")
            }
        }
    }

    /// Checks and tokenizes one (partial) job on the receiving thread.
    /// - Returns: what the encoding thread has to do with it, or nil for nothing.
    private func prepare(_ frames: [[UInt8]], socketIndex: Int, logger: Logger) -> WorkerJob? {
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
        return .encode(key: key, batch: backend.tokenize(payload))
    }

    /// Whether the sink already answered the job of `key` with an error (logged when it did).
    private func isCancelled(_ key: [UInt8], logger: Logger) -> Bool {
        guard let (job, _) = PipelineFrames.parseJobKey(key), cancelled.isCancelled(job) else { return false }
        logger.info("skip job\tclient: \(WireError.show(key))\t(the request was already answered with an error)")
        return true
    }

    /// The encoding thread: makes the encoder and the sink socket, then encodes what `handoff`
    /// brings until it is closed or the context is terminated.
    private func encodeJobs(from handoff: JobHandoff, ready: Latch, logger: Logger) {
        var sink: Socket? = nil
        defer { sink?.close() }
        var encoder: any SequenceEncoder
        do {
            encoder = try backend.makeEncoder(worker: index)
            let s = try Socket(context, .push)
            try s.setLinger(0)
            try s.connect(sinkAddress)
            sink = s
        } catch {
            ready.fail(StartupError(component: "WORKER-\(index)", message: "\(error)"))
            return
        }
        guard let sink else { return }
        ready.succeed()
        var restarts = 0
        do {
            while let job = handoff.take() {
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
            if !error.isTerminated { logger.error("encoder stopped: \(error)") }
        }
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
        // The request may have failed elsewhere while this part waited for the encoder.
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
