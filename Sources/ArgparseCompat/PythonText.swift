// Python 3.7 text rules the original's command line depends on: int()/float() of a string,
// repr() of str and float, str.isprintable, json.dumps(ensure_ascii=True).
// Unicode properties follow Python 3.7's database (Unicode 11.0.0): a scalar assigned later is
// treated as unassigned (category Cn), as the original does.

/// Python 3.7 string and number rules, as free functions over Unicode scalars.
enum PythonText {
    /// True when `scalar` was assigned in Unicode 11.0 or earlier (Python 3.7's `unicodedata`).
    static func assignedInUnicode11(_ scalar: Unicode.Scalar) -> Bool {
        guard let age = scalar.properties.age else { return false }
        return age.major < 11 || (age.major == 11 && age.minor == 0)
    }

    /// `str.isspace()` for one code point (Python's `Py_UNICODE_ISSPACE`).
    static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// The decimal value of a Unicode decimal digit (category Nd), as `int()` and `re`'s `\d` see it.
    static func decimalValue(_ scalar: Unicode.Scalar) -> Int? {
        if scalar.isASCII {
            let v = scalar.value
            return (0x30...0x39).contains(v) ? Int(v - 0x30) : nil
        }
        guard scalar.properties.numericType == .decimal, assignedInUnicode11(scalar),
            let value = scalar.properties.numericValue, value >= 0, value <= 9
        else { return nil }
        return Int(value)
    }

    /// Port of `_PyUnicode_TransformDecimalAndSpaceToASCII`: spaces become ' ', decimal digits
    /// their ASCII digit; any other non-ASCII code point makes the number invalid (nil).
    static func transformDecimalAndSpace(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            if scalar.isASCII {
                out.append(UInt8(scalar.value))
            } else if isSpace(scalar) {
                out.append(0x20)
            } else if let digit = decimalValue(scalar) {
                out.append(0x30 + UInt8(digit))
            } else {
                return nil
            }
        }
        return out
    }

    private static func isASCIISpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (0x09...0x0D).contains(byte) || (0x1C...0x1F).contains(byte)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) }

    private static func stripped(_ bytes: [UInt8]) -> ArraySlice<UInt8> {
        var slice = bytes[...]
        while let first = slice.first, isASCIISpace(first) { slice.removeFirst() }
        while let last = slice.last, isASCIISpace(last) { slice.removeLast() }
        return slice
    }

    /// Python's `int(text)` (base 10): surrounding whitespace, a sign, digits with single
    /// underscores between them, Unicode decimal digits. Returns nil where Python raises
    /// ValueError, and also for values outside `Int` (Python would accept those; see README).
    static func parseInt(_ text: String) -> Int? {
        guard let bytes = transformDecimalAndSpace(text) else { return nil }
        var body = stripped(bytes)
        var negative = false
        if let first = body.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") {
            negative = first == UInt8(ascii: "-")
            body.removeFirst()
        }
        guard let first = body.first, isDigit(first) else { return nil }
        var magnitude = 0
        var previousWasDigit = false
        var index = body.startIndex
        while index < body.endIndex {
            let byte = body[index]
            if isDigit(byte) {
                let (times, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times.addingReportingOverflow(Int(byte - 0x30))
                if o1 || o2 { return nil }
                magnitude = sum
                previousWasDigit = true
            } else if byte == UInt8(ascii: "_") {
                let next = body.index(after: index)
                guard previousWasDigit, next < body.endIndex, isDigit(body[next]) else { return nil }
                previousWasDigit = false
            } else {
                return nil
            }
            index = body.index(after: index)
        }
        return negative ? -magnitude : magnitude
    }

    /// Python's `float(text)`: whitespace, Unicode digits, underscores between digits,
    /// `inf`/`infinity`/`nan` in any case, decimal and exponent forms; no hex.
    static func parseFloat(_ text: String) -> Double? {
        guard let bytes = transformDecimalAndSpace(text) else { return nil }
        let body = Array(stripped(bytes))
        // _Py_string_to_number_with_underscores: an underscore only between two digits.
        var clean: [UInt8] = []
        clean.reserveCapacity(body.count)
        for (i, byte) in body.enumerated() {
            if byte == UInt8(ascii: "_") {
                guard i > 0, isDigit(body[i - 1]), i + 1 < body.count, isDigit(body[i + 1]) else { return nil }
            } else {
                clean.append(byte)
            }
        }
        var rest = clean[...]
        var negative = false
        if let first = rest.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") {
            negative = first == UInt8(ascii: "-")
            rest.removeFirst()
        }
        let lowered = String(decoding: rest.map { ($0 >= 0x41 && $0 <= 0x5A) ? $0 + 0x20 : $0 }, as: UTF8.self)
        if lowered == "inf" || lowered == "infinity" { return negative ? -.infinity : .infinity }
        if lowered == "nan" { return .nan }
        // digits* [. digits*] [e sign? digits+], at least one mantissa digit.
        var i = rest.startIndex
        var mantissaDigits = 0
        while i < rest.endIndex, isDigit(rest[i]) { mantissaDigits += 1; i += 1 }
        if i < rest.endIndex, rest[i] == UInt8(ascii: ".") {
            i += 1
            while i < rest.endIndex, isDigit(rest[i]) { mantissaDigits += 1; i += 1 }
        }
        guard mantissaDigits > 0 else { return nil }
        if i < rest.endIndex, rest[i] == UInt8(ascii: "e") || rest[i] == UInt8(ascii: "E") {
            i += 1
            if i < rest.endIndex, rest[i] == UInt8(ascii: "+") || rest[i] == UInt8(ascii: "-") { i += 1 }
            var exponentDigits = 0
            while i < rest.endIndex, isDigit(rest[i]) { exponentDigits += 1; i += 1 }
            guard exponentDigits > 0 else { return nil }
        }
        guard i == rest.endIndex else { return nil }
        guard let magnitude = Double(String(decoding: rest, as: UTF8.self)) else { return nil }
        return negative ? -magnitude : magnitude
    }

    /// `str.isprintable()` for one code point: false for Cc, Cf, Cs, Co, Cn, Zl, Zp and Zs
    /// other than the ASCII space.
    static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value == 0x20 { return true }
        if !assignedInUnicode11(scalar) { return false }
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned,
            .lineSeparator, .paragraphSeparator, .spaceSeparator:
            return false
        default:
            return true
        }
    }

    private static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// Python's `repr(str)`: single quotes unless the text holds `'` and no `"`.
    static func repr(_ text: String) -> String {
        let hasSingle = text.unicodeScalars.contains("'")
        let hasDouble = text.unicodeScalars.contains("\"")
        let quote: Unicode.Scalar = (hasSingle && !hasDouble) ? "\"" : "'"
        var out = String.UnicodeScalarView()
        out.append(quote)
        for scalar in text.unicodeScalars {
            switch scalar {
            case quote, "\\":
                out.append("\\"); out.append(scalar)
            case "\t": out.append(contentsOf: "\\t".unicodeScalars)
            case "\n": out.append(contentsOf: "\\n".unicodeScalars)
            case "\r": out.append(contentsOf: "\\r".unicodeScalars)
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out.append(contentsOf: ("\\x" + hex(scalar.value, width: 2)).unicodeScalars)
                } else if scalar.isASCII || isPrintable(scalar) {
                    out.append(scalar)
                } else if scalar.value <= 0xFF {
                    out.append(contentsOf: ("\\x" + hex(scalar.value, width: 2)).unicodeScalars)
                } else if scalar.value <= 0xFFFF {
                    out.append(contentsOf: ("\\u" + hex(scalar.value, width: 4)).unicodeScalars)
                } else {
                    out.append(contentsOf: ("\\U" + hex(scalar.value, width: 8)).unicodeScalars)
                }
            }
        }
        out.append(quote)
        return String(out)
    }

    /// Python's `repr(float)` ('r' format, shortest round-trip digits): `0.5`, `1.0`, `1e-05`,
    /// `1e+16`, `inf`, `nan`.
    static func repr(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        let sign = value.sign == .minus ? "-" : ""
        let (digits, decimalPoint) = shortestDigits(abs(value))
        if digits.isEmpty { return sign + "0.0" }
        // format_float_short: exponent form when decpt <= -4 or decpt > 16.
        if decimalPoint <= -4 || decimalPoint > 16 {
            let exponent = decimalPoint - 1
            var mantissa = String(digits.first ?? "0")
            if digits.count > 1 { mantissa += "." + digits.dropFirst() }
            let expDigits = String(abs(exponent))
            return sign + mantissa + "e" + (exponent < 0 ? "-" : "+")
                + (expDigits.count < 2 ? "0" + expDigits : expDigits)
        }
        if decimalPoint <= 0 {
            return sign + "0." + String(repeating: "0", count: -decimalPoint) + digits
        }
        if decimalPoint >= digits.count {
            return sign + digits + String(repeating: "0", count: decimalPoint - digits.count) + ".0"
        }
        let split = digits.index(digits.startIndex, offsetBy: decimalPoint)
        return sign + digits[..<split] + "." + digits[split...]
    }

    /// The shortest round-trip decimal digits of a finite non-negative double and the position of
    /// the decimal point (value = 0.d1d2… × 10^point), read from Swift's shortest `description`.
    private static func shortestDigits(_ value: Double) -> (String, Int) {
        let text = value.description
        var mantissa = Substring(text)
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            exponent = Int(text[text.index(after: e)...]) ?? 0
        }
        let intPart: Substring
        let fracPart: Substring
        if let dot = mantissa.firstIndex(of: ".") {
            intPart = mantissa[..<dot]
            fracPart = mantissa[mantissa.index(after: dot)...]
        } else {
            intPart = mantissa
            fracPart = ""
        }
        var digits = Array(intPart + fracPart)
        var point = intPart.count + exponent
        while let first = digits.first, first == "0" { digits.removeFirst(); point -= 1 }
        while let last = digits.last, last == "0" { digits.removeLast() }
        return (String(digits), point)
    }

    /// Python's `json.dumps(text)` with `ensure_ascii=True`.
    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 || scalar.value > 0x7F {
                    if scalar.value > 0xFFFF {
                        let v = scalar.value - 0x10000
                        out += "\\u" + hex(0xD800 + (v >> 10), width: 4) + "\\u" + hex(0xDC00 + (v & 0x3FF), width: 4)
                    } else {
                        out += "\\u" + hex(scalar.value, width: 4)
                    }
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// Python's `json.dumps(float)`: `repr`, with `Infinity`, `-Infinity`, `NaN`.
    static func jsonNumber(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Infinity" : "Infinity" }
        return repr(value)
    }

    /// Number of code points, Python's `len(str)`.
    static func length(_ text: some StringProtocol) -> Int { text.unicodeScalars.count }

    /// Code-point-wise equality (Python `==`; Swift's `==` uses canonical equivalence).
    static func same(_ a: some StringProtocol, _ b: some StringProtocol) -> Bool {
        a.unicodeScalars.elementsEqual(b.unicodeScalars)
    }

    /// Code-point-wise `a.startswith(prefix)`.
    static func hasPrefix(_ a: some StringProtocol, _ prefix: some StringProtocol) -> Bool {
        a.unicodeScalars.starts(with: prefix.unicodeScalars)
    }
}
