import Foundation
import Testing
@testable import WordPiece

/// Every code point through `BasicTokenizer`, against hashes of the original's output per block
/// (tokenizer_exhaustive.json, written by gen_tokenizer_golden.py).
@Suite struct ExhaustiveTests {
    struct Hashes: Decodable {
        var block: Int
        var uncased: [String]
        var cased: [String]
    }

    /// Same text as gen_tokenizer_golden.py `exhaustive_text`.
    static func text(start: Int, block: Int) -> [UInt32] {
        var text: [UInt32] = []
        for value in start..<min(start + block, 0x110000) where !(0xD800...0xDFFF).contains(value) {
            let c = UInt32(value)
            if !text.isEmpty { text.append(0x20) }
            text += [0x41, 0x62, c, 0x63, 0x44, 0x20, c, 0x316, 0x301, c, 0x3A3, c, 0x20, 0x3A3, c]
        }
        return text
    }

    static func fnv1a64(_ tokens: [[UInt32]]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for (index, token) in tokens.enumerated() {
            if index > 0 { hash = (hash ^ 0x1F) &* 0x100_0000_01b3 }
            for byte in PythonText.utf8(token) {
                hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
            }
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    @Test(arguments: [true, false])
    func everyCodePointMatchesOriginal(doLowerCase: Bool) throws {
        let data = try Data(contentsOf: Golden.resources.appendingPathComponent("tokenizer_exhaustive.json"))
        let hashes = try JSONDecoder().decode(Hashes.self, from: data)
        let expected = doLowerCase ? hashes.uncased : hashes.cased
        #expect(expected.count == 0x110000 / hashes.block)
        let basic = BasicTokenizer(doLowerCase: doLowerCase)
        var mismatched: [String] = []
        for (number, hash) in expected.enumerated() {
            let start = number * hashes.block
            if Self.fnv1a64(basic.tokenize(scalars: Self.text(start: start, block: hashes.block))) != hash {
                mismatched.append(String(start, radix: 16, uppercase: true))
            }
        }
        #expect(mismatched.isEmpty, "blocks starting at U+\(mismatched.prefix(20).joined(separator: ", U+"))")
    }
}
