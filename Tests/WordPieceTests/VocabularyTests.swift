import Foundation
import Testing
@testable import WordPiece

@Suite struct VocabularyTests {
    static func temporaryFile(_ bytes: [UInt8]) throws -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("wordpiece-\(UUID().uuidString).txt").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    static let specials = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n"

    @Test func missingFileNamesThePath() {
        let path = "/nonexistent/dir/vocab.txt"
        #expect(throws: VocabularyError.unreadable(path: path, reason: "no such file")) {
            try Vocabulary(contentsOfFile: path)
        }
        let error = VocabularyError.unreadable(path: path, reason: "no such file")
        #expect(error.description.contains(path))
    }

    @Test func directoryIsUnreadable() throws {
        let path = FileManager.default.temporaryDirectory.path
        do {
            _ = try Vocabulary(contentsOfFile: path)
            Issue.record("a directory loaded as a vocabulary")
        } catch {
            guard case let .unreadable(errorPath, _) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(errorPath == path)
        }
    }

    @Test func emptyFileNamesThePath() throws {
        let path = try Self.temporaryFile([])
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: VocabularyError.empty(path: path)) { try Vocabulary(contentsOfFile: path) }
        #expect(VocabularyError.empty(path: path).description.contains(path))
    }

    @Test func nonUTF8FileNamesThePathAndLine() throws {
        let path = try Self.temporaryFile(Array(Self.specials.utf8) + [0x61, 0x0A, 0xFF, 0xFE, 0x0A])
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: VocabularyError.invalidUTF8(path: path, line: 6)) { try Vocabulary(contentsOfFile: path) }
        #expect(VocabularyError.invalidUTF8(path: path, line: 6).description.contains(path))
    }

    @Test func missingSpecialTokenIsReported() throws {
        #expect(throws: VocabularyError.missingSpecialToken(path: "<memory>", token: "[SEP]")) {
            try Vocabulary(bytes: Array("[UNK]\n[CLS]\nhello\n".utf8))
        }
    }

    /// load_vocab: strip() each line, TF's readline drops every "\r", a repeated token keeps its LAST id,
    /// and the earlier id leaves inv_vocab (checked against the rig: [('a', 5), ('', 1), ('b', 2), ('cd', 3) …]).
    @Test func linesAreLoadedLikeLoadVocab() throws {
        let text = Self.specials + "a\n\nb\r\nc\rd\n \u{A0}e\u{2003}\na\nlast"
        let vocabulary = try Vocabulary(bytes: Array(text.utf8))
        #expect(vocabulary.id(of: "a") == 9)
        #expect(vocabulary.id(of: "") == 5)
        #expect(vocabulary.id(of: "b") == 6)
        #expect(vocabulary.id(of: "cd") == 7)
        #expect(vocabulary.id(of: "e") == 8)
        #expect(vocabulary.id(of: "last") == 10)
        #expect(vocabulary.token(at: 4) == "a" || vocabulary.token(at: 4) == nil)
        #expect(vocabulary.token(at: 4) == nil)
        #expect(vocabulary.token(at: 9) == "a")
        #expect(vocabulary.count == 10)
        #expect(vocabulary.token(at: 11) == nil)
        #expect(vocabulary.token(at: -1) == nil)
    }

    /// ASCII lines take a byte path: it must strip exactly Python's ASCII `isspace` set (\t \n \v \f
    /// \r, 0x1C-0x1F, space) and keep other control characters, as the code-point path does.
    @Test func asciiLinesStripPythonWhitespace() throws {
        let text = Self.specials + "\t\u{0B}f\u{1C} \u{1F}\n\u{0C}g h\u{1D}\u{1E}\n\u{01}i\u{7F}\n\u{1F}\u{A0}j\u{85}\n"
        let vocabulary = try Vocabulary(bytes: Array(text.utf8))
        #expect(vocabulary.id(of: "f") == 4)
        #expect(vocabulary.id(of: "g h") == 5)
        #expect(vocabulary.id(of: "\u{01}i\u{7F}") == 6)
        #expect(vocabulary.id(of: "j") == 7)
        #expect(vocabulary.count == 8)
    }

    /// Python dict keys compare code points: NFC and NFD spellings are different tokens.
    @Test func canonicallyEquivalentTokensStayDistinct() throws {
        let vocabulary = try Vocabulary(bytes: Array((Self.specials + "caf\u{E9}\ncafe\u{301}\n").utf8))
        #expect(vocabulary.id(of: "caf\u{E9}") == 4)
        #expect(vocabulary.id(of: "cafe\u{301}") == 5)
        #expect(vocabulary.id(of: Array("cafe\u{301}".utf8)) == 5)
        let tokenizer = FullTokenizer(vocabulary: vocabulary, doLowerCase: false)
        #expect(tokenizer.markUnknownTokens(["caf\u{E9}", "cafe\u{301}", "cafe"]) == ["caf\u{E9}", "cafe\u{301}", "[UNK]"])
    }

    @Test func realVocabularyLoads() throws {
        let vocabulary = try Golden.requireVocabulary()
        #expect(vocabulary.count == 30522)
        #expect(vocabulary.classId == 101)
        #expect(vocabulary.separatorId == 102)
        #expect(vocabulary.unknownId == 100)
        #expect(vocabulary.token(at: 1996) == "the")
    }
}
