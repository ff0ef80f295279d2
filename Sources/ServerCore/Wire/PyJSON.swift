/// A JSON value written exactly as pyzmq's `jsonapi.dumps` writes it on Python 3.7
/// (`json.dumps` with separators `", "` / `": "`, `ensure_ascii=True`, insertion-ordered keys,
/// `repr`-style floats), so config, status and encode headers are byte-compatible with the original.
public indirect enum PyJSON: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([PyJSON])
    /// Keys in insertion order, as a Python 3.7 dict keeps them.
    case object([(String, PyJSON)])

    public static func == (lhs: PyJSON, rhs: PyJSON) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case let (.bool(a), .bool(b)): a == b
        case let (.int(a), .int(b)): a == b
        case let (.double(a), .double(b)): a == b || (a.isNaN && b.isNaN)
        case let (.string(a), .string(b)): a == b
        case let (.array(a), .array(b)): a == b
        case let (.object(a), .object(b)): a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    /// The ASCII bytes `json.dumps(value, separators=(", ", ": "), ensure_ascii=True)` produces.
    public func dumps() -> [UInt8] {
        var out: [UInt8] = []
        write(into: &out)
        return out
    }

    /// `dumps()` as a String.
    public var text: String { String(decoding: dumps(), as: UTF8.self) }

    public func write(into out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .double(let d): out.append(contentsOf: PyJSON.pythonFloatRepr(d).utf8)
        case .string(let s): PyJSON.writeString(s, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(contentsOf: ", ".utf8) }
                item.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (i, (key, value)) in members.enumerated() {
                if i > 0 { out.append(contentsOf: ", ".utf8) }
                PyJSON.writeString(key, into: &out)
                out.append(contentsOf: ": ".utf8)
                value.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Port of `json.encoder.py_encode_basestring_ascii`: `\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f`,
    /// other code points outside 0x20...0x7E as `\uXXXX` (UTF-16 surrogate pairs above U+FFFF).
    static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out.append(contentsOf: "\\\"".utf8)
            case "\\": out.append(contentsOf: "\\\\".utf8)
            case "\n": out.append(contentsOf: "\\n".utf8)
            case "\r": out.append(contentsOf: "\\r".utf8)
            case "\t": out.append(contentsOf: "\\t".utf8)
            case "\u{08}": out.append(contentsOf: "\\b".utf8)
            case "\u{0C}": out.append(contentsOf: "\\f".utf8)
            default:
                if scalar.value >= 0x20 && scalar.value < 0x7F {
                    out.append(UInt8(scalar.value))
                } else {
                    for unit in String(scalar).utf16 { appendEscape(unit, into: &out) }
                }
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func appendEscape(_ unit: UInt16, into out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        out.append(contentsOf: "\\u".utf8)
        for shift in stride(from: 12, through: 0, by: -4) {
            out.append(hex[Int((unit >> UInt16(shift)) & 0xF)])
        }
    }

    /// Python 3 `float.__repr__`: shortest round-trip digits; positional when the decimal
    /// exponent is in -4..<16 (`2.0`, `0.0001`, `9999999999999998.0`), else `1e-05` / `1.5e+16`.
    /// `json.dumps` writes non-finite values as `NaN`, `Infinity`, `-Infinity`.
    public static func pythonFloatRepr(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
        if d == 0 { return d.sign == .minus ? "-0.0" : "0.0" }
        // Swift's description is also shortest round-trip; take its digits and exponent.
        let desc = abs(d).description
        var mantissa = desc
        var exp10 = 0
        if let e = desc.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = String(desc[..<e])
            exp10 = Int(desc[desc.index(after: e)...]) ?? 0
        }
        let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        let intPart = String(parts.first ?? "0")
        let fracPart = parts.count > 1 ? String(parts[1]) : ""
        var digits = intPart + fracPart
        var pointPos = intPart.count + exp10  // position of the decimal point within `digits`
        while digits.hasPrefix("0") && digits.count > 1 { digits.removeFirst(); pointPos -= 1 }
        while digits.hasSuffix("0") && digits.count > 1 { digits.removeLast() }
        let sciExp = pointPos - 1
        var body: String
        if sciExp < -4 || sciExp >= 16 {
            body = String(digits.prefix(1))
            if digits.count > 1 { body += "." + digits.dropFirst() }
            body += "e" + (sciExp < 0 ? "-" : "+") + (abs(sciExp) < 10 ? "0" : "") + String(abs(sciExp))
        } else if pointPos <= 0 {
            body = "0." + String(repeating: "0", count: -pointPos) + digits
        } else if pointPos >= digits.count {
            body = digits + String(repeating: "0", count: pointPos - digits.count) + ".0"
        } else {
            body = String(digits.prefix(pointPos)) + "." + digits.dropFirst(pointPos)
        }
        return (d < 0 ? "-" : "") + body
    }
}
