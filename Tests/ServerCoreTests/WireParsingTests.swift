import Testing
@testable import ServerCore

private func b(_ s: String) -> [UInt8] { Array(s.utf8) }

struct WireParsingTests {
    struct FrameCase: CustomTestStringConvertible, Sendable {
        let name: String
        let frames: [[UInt8]]
        let expected: WireError?
        var testDescription: String { name }
    }

    static let frameCases: [FrameCase] = [
        .init(name: "good encode", frames: [b("id"), b("[\"a\"]"), b("1"), b("1")], expected: nil),
        .init(name: "good command", frames: [b("id"), b("SHOW_CONFIG"), b("12"), b("0")], expected: nil),
        .init(name: "three frames", frames: [b("id"), b("x"), b("1")], expected: .wrongFrameCount(3)),
        .init(name: "five frames", frames: [b("id"), b("x"), b("1"), b("1"), b("1")], expected: .wrongFrameCount(5)),
        .init(name: "no frames", frames: [], expected: .wrongFrameCount(0)),
        .init(name: "empty identity", frames: [[], b("x"), b("1"), b("1")], expected: .emptyIdentity),
        .init(name: "non-digit req_id", frames: [b("id"), b("x"), b("1a"), b("1")], expected: .badRequestID(b("1a"))),
        .init(name: "negative req_id", frames: [b("id"), b("x"), b("-1"), b("1")], expected: .badRequestID(b("-1"))),
        .init(name: "empty req_id", frames: [b("id"), b("x"), [], b("1")], expected: .badRequestID([])),
    ]

    @Test(arguments: frameCases)
    func clientFrames(_ c: FrameCase) {
        do {
            let r = try ClientRequest.parse(c.frames)
            #expect(c.expected == nil, "parsed \(r)")
            #expect(r.client == c.frames[0])
            #expect(r.reqID == c.frames[2])
        } catch {
            #expect(error == c.expected)
            #expect(error.isUnanswerable)
        }
    }

    @Test func badMessageLengthStillNamesTheClient() throws {
        let r = try ClientRequest.parse([b("id"), b("[\"a\"]"), b("7"), b("x1")])
        #expect(r.msgLen == nil)
        #expect(r.msgLenBytes == b("x1"))
        #expect(!WireError.badMessageLength(b("x1")).isUnanswerable)
    }

    @Test func commandsAreRecognisedByExactBytes() throws {
        #expect(try ClientRequest.parse([b("id"), b("SHOW_STATUS"), b("1"), b("0")]).command == .showStatus)
        #expect(try ClientRequest.parse([b("id"), b("TERMINATION"), b("1"), b("0")]).command == .terminate)
        #expect(try ClientRequest.parse([b("id"), b("show_config"), b("1"), b("0")]).command == nil)
        #expect(try ClientRequest.parse([b("id"), b("[\"SHOW_CONFIG\"]"), b("1"), b("1")]).command == nil)
    }

    struct PayloadCase: CustomTestStringConvertible, Sendable {
        let name: String
        let json: String
        let declared: Int?
        let expected: Result<EncodePayload, WireError>
        var testDescription: String { name }
    }

    static let payloadCases: [PayloadCase] = [
        .init(name: "texts", json: "[\"hello world\", \"a ||| b\"]", declared: 2, expected: .success(.texts(["hello world", "a ||| b"]))),
        .init(name: "unicode escapes", json: "[\"caf\\u00e9 \\ud83d\\ude00\"]", declared: 1, expected: .success(.texts(["café 😀"]))),
        .init(name: "tokenized", json: "[[\"a\", \"b\"], []]", declared: 2, expected: .success(.tokenized([["a", "b"], []]))),
        .init(name: "whitespace-only text is served", json: "[\"  \"]", declared: 1, expected: .success(.texts(["  "]))),
        .init(name: "not JSON", json: "[\"a\"", declared: 1, expected: .failure(.invalidJSON(""))),
        .init(name: "object", json: "{\"a\": 1}", declared: 1, expected: .failure(.notStringList)),
        .init(name: "numbers", json: "[1, 2]", declared: 2, expected: .failure(.notStringList)),
        .init(name: "mixed strings and lists", json: "[\"a\", [\"b\"]]", declared: 2, expected: .failure(.notStringList)),
        .init(name: "null element", json: "[\"a\", null]", declared: 2, expected: .failure(.notStringList)),
        .init(name: "empty list", json: "[]", declared: 0, expected: .failure(.emptyList)),
        .init(name: "empty string", json: "[\"a\", \"\"]", declared: 2, expected: .failure(.emptyString(index: 1))),
        .init(name: "msg_len too small", json: "[\"a\", \"b\"]", declared: 1, expected: .failure(.lengthMismatch(declared: 1, actual: 2))),
        .init(name: "msg_len too large", json: "[\"a\"]", declared: 3, expected: .failure(.lengthMismatch(declared: 3, actual: 1))),
    ]

    @Test(arguments: payloadCases)
    func encodePayloads(_ c: PayloadCase) {
        let got = Result { () throws(WireError) -> EncodePayload in try EncodePayload.parse(b(c.json), declaredCount: c.declared) }
        switch (got, c.expected) {
        case let (.success(g), .success(e)): #expect(g == e)
        case let (.failure(g), .failure(e)):
            if case .invalidJSON = e {
                guard case .invalidJSON = g else { Issue.record("got \(g)"); return }
            } else {
                #expect(g == e)
            }
            #expect(!g.isUnanswerable)
        default: Issue.record("\(c.name): got \(got), expected \(c.expected)")
        }
    }

    @Test func slicesReencodeLikeTheClient() {
        let p = EncodePayload.texts(["a", "b\u{e9}", "c"])
        #expect(String(decoding: p.slice(1 ..< 3).json(), as: UTF8.self) == "[\"b\\u00e9\", \"c\"]")
        let t = EncodePayload.tokenized([["x"], ["y", "z"]])
        #expect(String(decoding: t.slice(1 ..< 2).json(), as: UTF8.self) == "[[\"y\", \"z\"]]")
    }

    @Test func pythonBytesRepr() {
        #expect(WireError.show(b("abc")) == "b'abc'")
        #expect(WireError.show([0, 0x27, 0xff]) == "b'\\x00\\x27\\xff'")
    }
}
