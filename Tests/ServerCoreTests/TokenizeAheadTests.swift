import Foundation
import Synchronization
import Testing
import ZeroMQ
@testable import ServerCore

/// FakeBackend whose encoder takes 0.2 s per batch and which records, for every tokenization,
/// whether an encode was running as it ended.
final class OverlapProbeBackend: PipelineBackend {
    struct State { var encoding = false; var tokenizedWhileEncoding = 0; var tokenized = 0 }
    let state = Mutex(State())

    final class Encoder: SequenceEncoder {
        let backend: OverlapProbeBackend
        init(_ backend: OverlapProbeBackend) { self.backend = backend }
        func encode(_ batch: TokenizedBatch) throws -> EncodedSequences {
            backend.state.withLock { $0.encoding = true }
            Thread.sleep(forTimeInterval: 0.2)
            backend.state.withLock { $0.encoding = false }
            return try FakeBackend.Encoder().encode(batch)
        }
    }

    /// Takes 0.05 s and counts as overlapped when an encode runs as it ends: a job taken ahead
    /// starts tokenizing as the encode before it is about to start, and a tokenization of no
    /// duration could finish before (which made this test fail now and then on a loaded machine).
    func tokenize(_ payload: EncodePayload) -> TokenizedBatch {
        Thread.sleep(forTimeInterval: 0.05)
        state.withLock {
            $0.tokenized += 1
            if $0.encoding { $0.tokenizedWhileEncoding += 1 }
        }
        return FakeBackend().tokenize(payload)
    }

    func makeEncoder(worker index: Int) throws -> any SequenceEncoder { Encoder(self) }
}

@Suite(.serialized, .timeLimit(.minutes(1)))
struct TokenizeAheadTests {
    @Test func aWaitingJobIsTokenizedWhileTheOneBeforeIsEncoded() throws {
        let backend = OverlapProbeBackend()
        try withTestServer(workers: 1, backend: backend) { _, c in
            // Four requests at once: while one is encoded (0.2 s), the next has long arrived.
            let texts = ["a", "bb", "ccc", "dddd"]
            let ids = try texts.map { try c.send(EncodePayload.texts([$0]).json(), msgLen: 1) }
            for (id, text) in zip(ids, texts) {
                let frames = try c.reply(for: id)
                let values = try #require(PipelineFrames.floats(frames[2]))
                #expect(values.first == Float(text.count), "request \(id) got another request's vector")
            }
        }
        let seen = backend.state.withLock { $0 }
        #expect(seen.tokenized == 4)
        #expect(seen.tokenizedWhileEncoding >= 2, "tokenized during an encode: \(seen.tokenizedWhileEncoding) of 4")
    }
}
