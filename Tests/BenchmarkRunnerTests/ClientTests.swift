import Foundation
import Testing

@testable import BenchmarkRunner

@Suite struct ClientTests {
    @Test func vocabularySplitsOnPythonWhitespaceAndDeduplicates() {
        let words = ClientVocabulary.split("a\u{85}b\u{A0}c\u{3000}d\u{1F}e  f\u{200B}g\n a")
        #expect(words == ["a", "b", "c", "d", "e", "f\u{200B}g", "a"])
        #expect(ClientVocabulary(words: words).words.count == 6)
    }

    @Test func vocabularyErrorsNameTheFile() throws {
        #expect(throws: BenchmarkError.vocabularyUnreadable(path: "/nonexistent/x", reason: "no such file or not readable")) {
            try ClientVocabulary(contentsOfFile: "/nonexistent/x")
        }
        let path = NSTemporaryDirectory() + "bench-empty-\(getpid()).txt"
        _ = FileManager.default.createFile(atPath: path, contents: Data(" \n\t".utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: BenchmarkError.vocabularyEmpty(path: path)) { try ClientVocabulary(contentsOfFile: path) }
        _ = FileManager.default.createFile(atPath: path, contents: Data([0x61, 0xFF]))
        #expect(throws: BenchmarkError.self) { try ClientVocabulary(contentsOfFile: path) }
    }

    @Test func modelVocabularyFallbackDropsSpecialTokensAndPieces() throws {
        let path = NSTemporaryDirectory() + "bench-vocab-\(getpid()).txt"
        _ = FileManager.default.createFile(atPath: path, contents: Data("[PAD]\n[unused0]\n##ing\nthe\n[\nrun\n".utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try ClientVocabulary(modelVocabularyAt: path).words == ["[", "run", "the"])
    }

    @Test func requestBodyIsPythonJSONWithEnsureASCII() {
        #expect(StockClient.jsonList(["a b", "é\"\\\n", "😀\u{7F}\u{01}"])
            == #"["a b", "\u00e9\"\\\n", "\ud83d\ude00\#u{7F}\u0001"]"#)
    }

    static func reply(_ header: String, bytes: Int) -> [[UInt8]] {
        [Array("id".utf8), Array(header.utf8), Array(repeating: 0, count: bytes), Array("1".utf8)]
    }

    @Test func encodeRepliesAreChecked() throws {
        #expect(try StockClient.checkEncodeReply(Self.reply(#"{"dtype": "float32", "shape": [2, 384], "tokens": ""}"#, bytes: 3072), expectedRows: 2) == 2)
        #expect(try StockClient.checkEncodeReply(Self.reply(#"{"dtype": "float16", "shape": [1, 4]}"#, bytes: 8), expectedRows: 1) == 1)
        #expect(throws: StockClientError.serverError("ERROR: bad")) {
            try StockClient.checkEncodeReply(Self.reply(#"{"dtype": "ERROR: bad", "shape": []}"#, bytes: 0), expectedRows: 1)
        }
        #expect(throws: StockClientError.self) {
            try StockClient.checkEncodeReply(Self.reply(#"{"dtype": "float32", "shape": [2, 384]}"#, bytes: 3071), expectedRows: 2)
        }
        #expect(throws: StockClientError.self) {
            try StockClient.checkEncodeReply(Self.reply(#"{"dtype": "float32", "shape": [1, 384]}"#, bytes: 1536), expectedRows: 2)
        }
        #expect(throws: StockClientError.self) {
            try StockClient.checkEncodeReply(Array(Self.reply("{}", bytes: 0).prefix(3)), expectedRows: 1)
        }
    }

    @Test func resultFileNameFollowsWorkersAndPrecision() {
        #expect(BenchmarkReport.resultFileName(numWorker: 1, fp16: false) == "benchmark-1.result")
        #expect(BenchmarkReport.resultFileName(numWorker: 4, fp16: true) == "benchmark-4-fp16.result")
    }
}
