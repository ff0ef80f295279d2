import ArgparseCompat
import Testing
@testable import ServerCore

/// Backpressure limit, fail points and job cancellation (issue 8). The end-to-end behaviour is
/// checked on the real binary by CompatTests/reliability/limits_and_faults.py.
struct OverloadAndFaultTests {
    @Test func pendingTextsLimitDefaultsAboveTwoFullSizeRequests() throws {
        let parser = ArgumentParser(spec: ParserSpec.start, prog: "bert-serving-start")
        let d = try ServerConfig(arguments: try parser.parse(["-model_dir", "/m"]))
        #expect(d.maxPendingTexts == 100_000 && d.maxPendingTexts >= 2 * d.maxTexts)
        let c = try ServerConfig(arguments: try parser.parse(["-model_dir", "/m", "-request_max_pending_texts", "32"]))
        #expect(c.maxPendingTexts == 32)
    }

    @Test func failPointsParseAndRejectTypos() throws {
        #expect(try FailPoints.fromEnvironment([:]) == FailPoints())
        #expect(!FailPoints().isActive)
        let f = try FailPoints(parsing: "encode_error_every=3, encode_delay_ms=1500")
        #expect(f.encodeErrorEvery == 3 && f.encodeDelayMilliseconds == 1500 && f.isActive)
        #expect(throws: StartupError.self) { try FailPoints(parsing: "encode_eror_every=3") }
        #expect(throws: StartupError.self) { try FailPoints(parsing: "encode_error_every=0") }
        #expect(throws: StartupError.self) { try FailPoints(parsing: "encode_error_every") }
    }

    @Test func cancelledJobsForgetTheOldestBeyondCapacity() {
        let c = CancelledJobs(capacity: 3)
        for job in UInt64(1) ... 5 { c.cancel(job) }
        #expect(!c.isCancelled(1) && !c.isCancelled(2))
        #expect(c.isCancelled(3) && c.isCancelled(4) && c.isCancelled(5))
        c.cancel(5)
        #expect(c.count == 3)
        for job in UInt64(6) ... 100 { c.cancel(job) }
        #expect(c.count == 3 && c.isCancelled(100) && !c.isCancelled(97))
    }

    @Test func finishedJobsReportTheirDeclaredCount() {
        var table = JobTable(settings: .init(withTokens: false, maxSeqLenUnset: false, maxPositionEmbeddings: 512,
                                             fixedEmbedLength: false))
        table.register(job: 1, client: Array("c".utf8), reqID: Array("1".utf8), count: 2)
        table.addEmbeddings(job: 1, partID: 0, shape: [2, 1], values: [1, 2])
        table.register(job: 2, client: Array("c".utf8), reqID: Array("2".utf8), count: 5)
        table.fail(job: 2, message: "boom")
        let done = table.takeFinished()
        #expect(done.map(\.count) == [2, 5])
    }
}
