import HTTPFront
import Testing

/// Python spellings, expected values from CPython 3.7 (`repr`, `json.dumps`).
struct PythonFormatTests {
    @Test(arguments: [
        (0.1, "0.1"), (1.0, "1.0"), (-0.0, "-0.0"), (1e-05, "1e-05"), (0.0001, "0.0001"), (1e16, "1e+16"),
        (1234567890123456.0, "1234567890123456.0"), (1.5e-300, "1.5e-300"), (Double(Float(-1e-5)), "-9.999999747378752e-06"),
        (Double(Float(0.1)), "0.10000000149011612"), (123.456, "123.456"), (2.5e22, "2.5e+22"), (Double(Float(0.00048755109)), "0.00048755109310150146"),
    ])
    func floatRepr(_ value: Double, _ python: String) {
        #expect(PythonFormat.floatRepr(value) == python)
    }

    @Test func reprOfParsedJSON() throws {
        let v = try JSONValue.parse(#"{"a": [1, 2.5, null, true, "it's", "say \"hi\"", "tab\t", "\u0085é"], "b": {}}"#)
        #expect(PythonFormat.repr(v) == #"{'a': [1, 2.5, None, True, "it's", 'say "hi"', 'tab\t', '\x85é'], 'b': {}}"#)
    }

    @Test func jsonParserRejectsGarbageAndKeepsIntegers() throws {
        #expect(try JSONValue.parse("12345678901234567890123") == .integer("12345678901234567890123"))
        #expect(try JSONValue.parse(#"{"a":1,"a":2}"#) == .object([("a", .integer("2"))]))
        #expect(try JSONValue.parse(#""\ud83d\ude00""#) == .string("😀"))
        for bad in ["{bad", "[1,]", "01", "\"\u{01}\"", "[1] x", "", String(repeating: "[", count: 100) + String(repeating: "]", count: 100)] {
            #expect(throws: JSONParseError.self) { try JSONValue.parse(Array(bad.utf8)) }
        }
    }

    @Test func payloadIsPyzmqJSON() {
        #expect(EncodeRequest.texts(["a\"b", "é😀"]).payload == Array(#"["a\"b", "\u00e9\ud83d\ude00"]"#.utf8))
        #expect(EncodeRequest.tokenized([["a"], ["b", "c"]]).payload == Array(#"[["a"], ["b", "c"]]"#.utf8))
    }
}
