import BertEngine
import Foundation
import Logging
import ZeroMQ

/// One `BertWorker` (bert_serving/server/__init__.py) as a thread: pulls (partial) jobs from
/// every ventilator socket, tokenizes and encodes them, pushes tokens and embeddings to the sink.
/// A job that fails is reported to the sink (which answers the client with an error) and the
/// worker keeps serving: after a fault that is not the request's (anything but an `EngineError`
/// refusing the input) it restarts, i.e. replaces its encoder and scratch buffers with fresh ones,
/// keeping its sockets so no queued job is lost. Parts of jobs the sink already answered with an
/// error are skipped. Its sockets and encoder live on its own thread.
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
        let poller = Poller(receivers)
        var restarts = 0
        do {
            while true {
                let readable = try poller.poll(timeoutMilliseconds: -1)
                // Socket 0 is the ventilator's priority lane: it is served first in every round.
                for (i, isReadable) in readable.enumerated() where isReadable {
                    let frames = try receivers[i].receive()
                    guard let fault = try handle(frames, socketIndex: i, encoder: encoder, sink: sink, logger: logger) else {
                        continue
                    }
                    do {
                        encoder = try backend.makeEncoder(worker: index)
                        restarts += 1
                        logger.warning("restarted with a fresh encoder after: \(fault) (restart \(restarts))")
                    } catch {
                        // Keep the old encoder; the next fault tries again.
                        logger.error("could not restart after: \(fault): \(error)")
                    }
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

    /// Encodes one (partial) job and sends its result or error to the sink.
    /// - Returns: the fault after which the encoder must be replaced, or nil.
    private func handle(_ frames: [[UInt8]], socketIndex: Int, encoder: any SequenceEncoder, sink: Socket,
                        logger: Logger) throws(ZMQError) -> (any Error)? {
        guard frames.count == 2 else {
            logger.error("received a wrongly-formatted job (expected 2 frames, got \(frames.count))")
            return nil
        }
        let key = frames[0]
        if let (job, _) = PipelineFrames.parseJobKey(key), cancelled.isCancelled(job) {
            logger.info("skip job\tclient: \(WireError.show(key))\t(the request was already answered with an error)")
            return nil
        }
        let payload: EncodePayload
        do {
            payload = try EncodePayload.parse(frames[1], declaredCount: nil)
        } catch {
            try sink.send([key, Array(error.description.utf8), PipelineFrames.number(0), PipelineFrames.fail])
            return nil
        }
        logger.info("new job\tsocket: \(socketIndex)\tsize: \(payload.count)\tclient: \(WireError.show(key))")
        do {
            try failPoints.beforeEncode()
            let result = try encoder.encode(payload)
            guard result.shape.first == payload.count, result.values.count == result.shape.reduce(1, *) else {
                throw StartupError(component: "WORKER-\(index)",
                                   message: "encoder returned shape \(result.shape) for \(payload.count) sequences")
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
            try sink.send([key, Array("\(error)".utf8), PipelineFrames.number(payload.count), PipelineFrames.fail])
            // The engine refusing this input (as the original graph would) says nothing about the
            // encoder's state; any other fault does.
            return error is EngineError ? nil : error
        }
    }
}
