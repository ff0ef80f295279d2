import Foundation
import Synchronization
import Testing
import ZeroMQ
@testable import ServerCore

/// FakeBackend whose encoders record which worker encoded each batch, 0.05 s per batch.
final class WorkerRecordingBackend: PipelineBackend {
    let jobsPerWorker = Mutex([Int: Int]())

    final class Encoder: SequenceEncoder {
        let backend: WorkerRecordingBackend
        let worker: Int
        init(_ backend: WorkerRecordingBackend, worker: Int) {
            self.backend = backend
            self.worker = worker
        }
        func encode(_ batch: TokenizedBatch) throws -> EncodedSequences {
            backend.jobsPerWorker.withLock { $0[worker, default: 0] += 1 }
            Thread.sleep(forTimeInterval: 0.05)
            return try FakeBackend.Encoder().encode(batch)
        }
    }

    func tokenize(_ payload: EncodePayload) -> TokenizedBatch { FakeBackend().tokenize(payload) }

    func makeEncoder(worker index: Int) throws -> any SequenceEncoder { Encoder(self, worker: index) }
}

@Suite(.serialized, .timeLimit(.minutes(1)))
struct JobDistributionTests {
    /// Jobs above `priority_batch_size` reach the workers in strict turn, so none idles while
    /// another has two queued. (With the original's random socket per request, each socket
    /// with a round robin of its own, these 8 jobs split 6 : 2 in 6 runs of 6.)
    @Test func workersTakeJobsInTurn() throws {
        let backend = WorkerRecordingBackend()
        try withTestServer(workers: 2, backend: backend) { config, c in
            let size = config.priorityBatchSize + 4
            let texts = (0..<size).map { "w\($0)" }
            let ids = try (0..<8).map { _ in try c.send(EncodePayload.texts(texts).json(), msgLen: size) }
            // Two workers answer out of order: wait for the last reply of all, whichever comes last.
            var answered = Set<[UInt8]>()
            while answered.count < ids.count { answered.insert(try c.sub.receive().last ?? []) }
            #expect(answered == Set(ids.map { Array(String($0).utf8) }))
        }
        let counts = backend.jobsPerWorker.withLock { $0 }
        #expect(counts == [0: 4, 1: 4], "jobs per worker: \(counts)")
    }
}
