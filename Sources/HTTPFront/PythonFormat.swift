/// Python's `repr`/`str` and `json.dumps` spellings, so our HTTP answers read like the Flask proxy's.
public enum PythonFormat {
    /// Python `repr(float)`: shortest round-trip digits, fixed notation for 1e-4 <= |x| < 1e16, else `1e-05` style.
    public static func floatRepr(_ x: Double) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x < 0 ? "-inf" : "inf" }
        if x == 0 { return x.sign == .minus ? "-0.0" : "0.0" }
        // Swift's description also prints the shortest round-trip digits; only the layout differs.
        var text = x.description
        // Fast path: Swift already prints fixed notation the way Python does inside Python's fixed range.
        let magnitude = abs(x)
        if magnitude >= 1e-4, magnitude < 1e16, !text.contains("e") { return text }
        var negative = false
        if text.hasPrefix("-") {
            negative = true
            text.removeFirst()
        }
        var mantissa = Substring(text)
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            exponent = Int(text[text.index(after: e)...]) ?? 0
        }
        var digits = ""
        var pointAt = mantissa.count
        if let dot = mantissa.firstIndex(of: ".") {
            pointAt = mantissa.distance(from: mantissa.startIndex, to: dot)
        }
        for c in mantissa where c != "." { digits.append(c) }
        // value = 0.d1d2d3… × 10^(pointAt + exponent); strip leading zeros, moving the point.
        var decimalExponent = pointAt + exponent
        while digits.count > 1, digits.first == "0" {
            digits.removeFirst()
            decimalExponent -= 1
        }
        while digits.count > 1, digits.last == "0" { digits.removeLast() }
        let sci = decimalExponent - 1  // exponent in d.ddd × 10^sci
        var out = negative ? "-" : ""
        if sci < -4 || sci >= 16 {
            out += String(digits.prefix(1))
            if digits.count > 1 { out += "." + digits.dropFirst() }
            out += sci < 0 ? "e-" : "e+"
            let mag = abs(sci)
            out += mag < 10 ? "0\(mag)" : "\(mag)"
        } else if decimalExponent <= 0 {
            out += "0." + String(repeating: "0", count: -decimalExponent) + digits
        } else if decimalExponent >= digits.count {
            out += digits + String(repeating: "0", count: decimalExponent - digits.count) + ".0"
        } else {
            let i = digits.index(digits.startIndex, offsetBy: decimalExponent)
            out += digits[..<i] + "." + digits[i...]
        }
        return out
    }

    /// Python `repr(str)`: single quotes unless the text has `'` and no `"`; escapes what is not printable.
    public static func stringRepr(_ s: String) -> String {
        let quote: Character = s.contains("'") && !s.contains("\"") ? "\"" : "'"
        var out = String(quote)
        for u in s.unicodeScalars {
            switch u {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if Character(u) == quote {
                    out += "\\" + String(quote)
                } else if isPrintable(u) {
                    out.unicodeScalars.append(u)
                } else if u.value < 0x100 {
                    out += "\\x" + hex(u.value, width: 2)
                } else if u.value < 0x10000 {
                    out += "\\u" + hex(u.value, width: 4)
                } else {
                    out += "\\U" + hex(u.value, width: 8)
                }
            }
        }
        out.append(quote)
        return out
    }

    /// Python `str.isprintable` for one code point: not Cc/Cf/Cs/Co/Cn/Zl/Zp/Zs, except the space itself.
    static func isPrintable(_ u: Unicode.Scalar) -> Bool {
        if u == " " { return true }
        switch u.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator, .spaceSeparator:
            return false
        default:
            return true
        }
    }

    static func hex(_ v: UInt32, width: Int) -> String {
        let h = String(v, radix: 16)
        return String(repeating: "0", count: max(0, width - h.count)) + h
    }

    /// Python `repr()` of the value `json.loads` would build.
    public static func repr(_ v: JSONValue) -> String {
        switch v {
        case .null: "None"
        case .bool(let b): b ? "True" : "False"
        case .integer(let s): s.hasPrefix("-0") && s.count == 2 ? "0" : s
        case .float(let d): floatRepr(d)
        case .string(let s): stringRepr(s)
        case .array(let a): "[" + a.map(repr).joined(separator: ", ") + "]"
        case .object(let o): "{" + o.map { stringRepr($0.0) + ": " + repr($0.1) }.joined(separator: ", ") + "}"
        }
    }

    /// Python `str()`: like `repr` except that a string is itself.
    public static func str(_ v: JSONValue) -> String {
        if case .string(let s) = v { return s }
        return repr(v)
    }

    /// Python `str.isspace` per code point (Unicode White_Space, as CPython's table for our purposes).
    public static func isBlank(_ s: String) -> Bool {
        s.unicodeScalars.allSatisfy { $0.properties.isWhitespace || (0x1C...0x1F).contains($0.value) }
    }
}

/// Writes JSON the way Flask's `jsonify` does here (compact separators, sorted keys, `ensure_ascii`).
public struct JSONWriter {
    public var bytes: [UInt8] = []
    /// Sort object keys (Flask's default `JSON_SORT_KEYS`); otherwise keep document order.
    public var sortKeys: Bool
    /// Escape non-ASCII as `\uXXXX` (Python's `ensure_ascii=True`); otherwise write UTF-8.
    public var ensureASCII: Bool

    public init(sortKeys: Bool = true, ensureASCII: Bool = false, capacity: Int = 256) {
        self.sortKeys = sortKeys
        self.ensureASCII = ensureASCII
        bytes.reserveCapacity(capacity)
    }

    public mutating func raw(_ s: String) { bytes.append(contentsOf: s.utf8) }

    public mutating func write(_ v: JSONValue) {
        switch v {
        case .null: raw("null")
        case .bool(let b): raw(b ? "true" : "false")
        case .integer(let s): raw(s)
        case .float(let d): writeDouble(d)
        case .string(let s): writeString(s)
        case .array(let a):
            bytes.append(UInt8(ascii: "["))
            for (i, x) in a.enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                write(x)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let o):
            let pairs = sortKeys ? o.sorted { $0.0.unicodeScalars.lexicographicallyPrecedes($1.0.unicodeScalars) } : o
            bytes.append(UInt8(ascii: "{"))
            for (i, (k, x)) in pairs.enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                writeString(k)
                bytes.append(UInt8(ascii: ":"))
                write(x)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    /// Python `json.dumps(float)`: `repr`, with `NaN` / `Infinity` / `-Infinity` spelled as Python does.
    public mutating func writeDouble(_ d: Double) {
        if d.isNaN { raw("NaN") } else if d.isInfinite { raw(d < 0 ? "-Infinity" : "Infinity") } else { raw(PythonFormat.floatRepr(d)) }
    }

    public mutating func writeString(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        for u in s.unicodeScalars {
            switch u {
            case "\"": raw("\\\"")
            case "\\": raw("\\\\")
            case "\n": raw("\\n")
            case "\r": raw("\\r")
            case "\t": raw("\\t")
            case "\u{08}": raw("\\b")
            case "\u{0C}": raw("\\f")
            default:
                if u.value < 0x20 || (ensureASCII && u.value > 0x7F) {
                    if u.value > 0xFFFF {
                        let v = u.value - 0x10000
                        raw("\\u" + PythonFormat.hex(0xD800 + (v >> 10), width: 4))
                        raw("\\u" + PythonFormat.hex(0xDC00 + (v & 0x3FF), width: 4))
                    } else {
                        raw("\\u" + PythonFormat.hex(u.value, width: 4))
                    }
                } else {
                    bytes.append(contentsOf: String(u).utf8)
                }
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
