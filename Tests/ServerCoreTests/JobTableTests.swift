import Testing
@testable import ServerCore

private func b(_ s: String) -> [UInt8] { Array(s.utf8) }

struct JobTableTests {
    static let pooled = JobTable.Settings(withTokens: false, maxSeqLenUnset: false, maxPositionEmbeddings: 512, fixedEmbedLength: false)

    /// Rows of width `d` whose values are `row * 10 + column`.
    func rows(_ range: Range<Int>, d: Int) -> [Float] {
        range.flatMap { r in (0 ..< d).map { Float(r * 10 + $0) } }
    }

    @Test func singleJobFinishesWhenAllRowsArrived() {
        var t = JobTable(settings: Self.pooled)
        t.register(job: 1, client: b("c"), reqID: b("7"), count: 2)
        #expect(t.takeFinished().isEmpty)
        t.addEmbeddings(job: 1, partID: 0, shape: [2, 3], values: rows(0 ..< 2, d: 3))
        let done = t.takeFinished()
        #expect(done == [.init(job: 1, client: b("c"), reqID: b("7"), count: 2,
                               outcome: .embeddings(shape: [2, 3], values: rows(0 ..< 2, d: 3), tokens: nil))])
        #expect(t.pendingCount == 0)
        #expect(t.takeFinished().isEmpty)
    }

    @Test(arguments: [[0, 3, 6], [6, 3, 0], [3, 6, 0]])
    func partialJobsReassembleInRequestOrder(_ arrival: [Int]) {
        var t = JobTable(settings: Self.pooled)
        t.register(job: 9, client: b("c"), reqID: b("1"), count: 8)
        for start in arrival {
            #expect(t.takeFinished().isEmpty)
            let end = min(8, start + 3)
            t.addEmbeddings(job: 9, partID: start, shape: [end - start, 2], values: rows(start ..< end, d: 2))
        }
        let done = t.takeFinished()
        #expect(done.count == 1)
        #expect(done.first?.outcome == .embeddings(shape: [8, 2], values: rows(0 ..< 8, d: 2), tokens: nil))
    }

    @Test func resultsArrivingBeforeRegistrationAreKept() {
        var t = JobTable(settings: Self.pooled)
        t.addEmbeddings(job: 4, partID: 0, shape: [1, 2], values: [1, 2])
        #expect(t.takeFinished().isEmpty)
        #expect(t.pendingCount == 1)
        t.register(job: 4, client: b("c"), reqID: b("3"), count: 1)
        #expect(t.takeFinished().first?.outcome == .embeddings(shape: [1, 2], values: [1, 2], tokens: nil))
    }

    @Test func jobsSharingAClientAndRequestIDStayApart() {
        var t = JobTable(settings: Self.pooled)
        t.register(job: 1, client: b("same"), reqID: b("1"), count: 1)
        t.register(job: 2, client: b("same"), reqID: b("1"), count: 1)
        t.addEmbeddings(job: 2, partID: 0, shape: [1, 1], values: [2])
        t.addEmbeddings(job: 1, partID: 0, shape: [1, 1], values: [1])
        let done = t.takeFinished()
        #expect(done.map(\.job) == [1, 2])
        #expect(done.map(\.outcome) == [.embeddings(shape: [1, 1], values: [1], tokens: nil),
                                         .embeddings(shape: [1, 1], values: [2], tokens: nil)])
    }

    @Test func tokensAreRequiredAndChainedByPart() {
        var s = Self.pooled
        s.withTokens = true
        var t = JobTable(settings: s)
        t.register(job: 1, client: b("c"), reqID: b("1"), count: 3)
        t.addEmbeddings(job: 1, partID: 2, shape: [1, 1], values: [3])
        t.addEmbeddings(job: 1, partID: 0, shape: [2, 1], values: [1, 2])
        t.addTokens(job: 1, partID: 2, tokens: [["[CLS]", "c", "[SEP]"]])
        #expect(t.takeFinished().isEmpty)
        t.addTokens(job: 1, partID: 0, tokens: [["[CLS]", "a", "[SEP]"], ["[CLS]", "b", "[SEP]"]])
        #expect(t.takeFinished().first?.outcome == .embeddings(
            shape: [3, 1], values: [1, 2, 3],
            tokens: [["[CLS]", "a", "[SEP]"], ["[CLS]", "b", "[SEP]"], ["[CLS]", "c", "[SEP]"]]))
    }

    /// `-max_seq_len NONE -pooling_strategy NONE`: rows padded to max_position_embeddings and
    /// trimmed to the longest part of the whole request (SinkJob.result).
    @Test func noneLengthRowsAreTrimmedToTheLongestPart() {
        var t = JobTable(settings: .init(withTokens: false, maxSeqLenUnset: true, maxPositionEmbeddings: 8, fixedEmbedLength: false))
        t.register(job: 1, client: b("c"), reqID: b("1"), count: 2)
        t.addEmbeddings(job: 1, partID: 0, shape: [1, 2, 1], values: [1, 2])
        t.addEmbeddings(job: 1, partID: 1, shape: [1, 3, 1], values: [4, 5, 6])
        #expect(t.takeFinished().first?.outcome == .embeddings(shape: [2, 3, 1], values: [1, 2, 0, 4, 5, 6], tokens: nil))
    }

    @Test func fixedEmbedLengthKeepsMaxPositionEmbeddings() {
        var t = JobTable(settings: .init(withTokens: false, maxSeqLenUnset: true, maxPositionEmbeddings: 4, fixedEmbedLength: true))
        t.register(job: 1, client: b("c"), reqID: b("1"), count: 1)
        t.addEmbeddings(job: 1, partID: 0, shape: [1, 2, 1], values: [1, 2])
        #expect(t.takeFinished().first?.outcome == .embeddings(shape: [1, 4, 1], values: [1, 2, 0, 0], tokens: nil))
    }

    @Test func fixedMaxSeqLenKeepsItsLength() {
        var t = JobTable(settings: .init(withTokens: false, maxSeqLenUnset: false, maxPositionEmbeddings: 512, fixedEmbedLength: false))
        t.register(job: 1, client: b("c"), reqID: b("1"), count: 2)
        t.addEmbeddings(job: 1, partID: 1, shape: [1, 3, 1], values: [4, 0, 0])
        t.addEmbeddings(job: 1, partID: 0, shape: [1, 3, 1], values: [1, 2, 0])
        #expect(t.takeFinished().first?.outcome == .embeddings(shape: [2, 3, 1], values: [1, 2, 0, 4, 0, 0], tokens: nil))
    }

    @Test func aFailedPartFailsTheJobOnceAndLatePartsAreDropped() {
        var t = JobTable(settings: Self.pooled)
        t.register(job: 1, client: b("c"), reqID: b("5"), count: 6)
        t.addEmbeddings(job: 1, partID: 0, shape: [3, 1], values: [1, 2, 3])
        t.fail(job: 1, message: "boom")
        #expect(t.takeFinished() == [.init(job: 1, client: b("c"), reqID: b("5"), count: 6, outcome: .failure("boom"))])
        t.addEmbeddings(job: 1, partID: 3, shape: [3, 1], values: [4, 5, 6])
        #expect(t.takeFinished().isEmpty)
        #expect(t.pendingCount == 0)
    }

    @Test func failureBeforeRegistrationWaitsForTheClientAddress() {
        var t = JobTable(settings: Self.pooled)
        t.fail(job: 3, message: "bad")
        #expect(t.takeFinished().isEmpty)
        t.register(job: 3, client: b("c"), reqID: b("2"), count: 1)
        #expect(t.takeFinished().first?.outcome == .failure("bad"))
    }

    @Test func misfittingPartsBecomeAFailureNotACrash() {
        var t = JobTable(settings: Self.pooled)
        t.register(job: 1, client: b("c"), reqID: b("1"), count: 2)
        t.addEmbeddings(job: 1, partID: 0, shape: [1, 2], values: [1, 2])
        t.addEmbeddings(job: 1, partID: 1, shape: [1, 3], values: [1, 2, 3])
        guard case .failure = t.takeFinished().first?.outcome else {
            Issue.record("expected a failure")
            return
        }
    }
}
