import Testing
@testable import ServerCore

struct PyJSONTests {
    /// `repr(float)` on Python 3.7, recorded by hand from the interpreter.
    @Test(arguments: [
        (0.5, "0.5"), (2.0, "2.0"), (1e-4, "0.0001"), (1e-5, "1e-05"), (1e16, "1e+16"), (1.5e16, "1.5e+16"),
        (9999999999999998.0, "9999999999999998.0"), (123456789012345.6, "123456789012345.6"),
        (0.1 + 0.2, "0.30000000000000004"), (1e22, "1e+22"), (1e-7, "1e-07"), (12345678.9, "12345678.9"),
        (-2.5, "-2.5"), (0.0, "0.0"), (-0.0, "-0.0"), (1.0 / 3.0, "0.3333333333333333"), (123.0, "123.0"),
        (1e300, "1e+300"), (Double.leastNonzeroMagnitude, "5e-324"), (Double.infinity, "Infinity"),
    ] as [(Double, String)])
    func floatRepr(_ value: Double, _ text: String) {
        #expect(PyJSON.pythonFloatRepr(value) == text)
    }

    @Test func separatorsAndOrderAreJsonapiDumps() {
        let v = PyJSON.object([("b", .int(1)), ("a", .array([.bool(true), .null, .double(0.5)])), ("c", .object([]))])
        #expect(v.text == "{\"b\": 1, \"a\": [true, null, 0.5], \"c\": {}}")
    }

    @Test func stringsAreEnsureAscii() {
        let v = PyJSON.string("q\"\\\n\r\t\u{8}\u{c}\u{1}\u{7f}é中😀")
        #expect(v.text == "\"q\\\"\\\\\\n\\r\\t\\b\\f\\u0001\\u007f\\u00e9\\u4e2d\\ud83d\\ude00\"")
    }
}
