/// A JSON value that keeps object key order (Python 3.7 `json.loads` builds an ordered `dict`).
indirect enum OrderedJSON: Equatable {
    case string(String)
    case integer(String)
    case float(Double)
    case bool(Bool)
    case null
    case array([OrderedJSON])
    case object([(key: String, value: OrderedJSON)])

    static func == (lhs: OrderedJSON, rhs: OrderedJSON) -> Bool {
        switch (lhs, rhs) {
        case (.string(let a), .string(let b)), (.integer(let a), .integer(let b)): return a == b
        case (.float(let a), .float(let b)): return a == b
        case (.bool(let a), .bool(let b)): return a == b
        case (.null, .null): return true
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    /// Parses one JSON document; nil when it is not valid JSON.
    static func parse(_ bytes: [UInt8]) -> OrderedJSON? {
        var parser = Parser(scalars: Array(String(decoding: bytes, as: UTF8.self).unicodeScalars))
        guard let value = parser.value() else { return nil }
        parser.skipSpace()
        return parser.index == parser.scalars.count ? value : nil
    }

    /// Python `str(value)` after `json.loads`.
    var pythonStr: String {
        if case .string(let s) = self { return s }
        return pythonRepr
    }

    /// Python `repr(value)` after `json.loads`.
    var pythonRepr: String {
        switch self {
        case .string(let s): return Self.repr(s)
        case .integer(let digits): return digits
        case .float(let d): return d.isNaN ? "nan" : d.isInfinite ? (d < 0 ? "-inf" : "inf") : "\(d)"
        case .bool(let b): return b ? "True" : "False"
        case .null: return "None"
        case .array(let items): return "[" + items.map(\.pythonRepr).joined(separator: ", ") + "]"
        case .object(let items):
            return "{" + items.map { Self.repr($0.key) + ": " + $0.value.pythonRepr }.joined(separator: ", ") + "}"
        }
    }

    /// Python `repr(str)`: single quotes unless the text has `'` and no `"`.
    static func repr(_ text: String) -> String {
        let quote: Unicode.Scalar = text.unicodeScalars.contains("'") && !text.unicodeScalars.contains("\"") ? "\"" : "'"
        var out = String(quote)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case quote: out += "\\" + String(quote)
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\x" + (hex.count < 2 ? "0" : "") + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out.unicodeScalars.append(quote)
        return out
    }

    private struct Parser {
        let scalars: [Unicode.Scalar]
        var index = 0

        mutating func skipSpace() {
            while index < scalars.count, [" ", "\t", "\n", "\r"].contains(scalars[index]) { index += 1 }
        }

        mutating func literal(_ word: String) -> Bool {
            let w = Array(word.unicodeScalars)
            guard index + w.count <= scalars.count, Array(scalars[index..<index + w.count]) == w else { return false }
            index += w.count
            return true
        }

        mutating func value() -> OrderedJSON? {
            skipSpace()
            guard index < scalars.count else { return nil }
            switch scalars[index] {
            case "{":
                index += 1
                var items: [(key: String, value: OrderedJSON)] = []
                skipSpace()
                if index < scalars.count, scalars[index] == "}" { index += 1; return .object(items) }
                while true {
                    skipSpace()
                    guard let key = string() else { return nil }
                    skipSpace()
                    guard index < scalars.count, scalars[index] == ":" else { return nil }
                    index += 1
                    guard let v = value() else { return nil }
                    items.append((key, v))
                    skipSpace()
                    guard index < scalars.count else { return nil }
                    if scalars[index] == "," { index += 1; continue }
                    if scalars[index] == "}" { index += 1; return .object(items) }
                    return nil
                }
            case "[":
                index += 1
                var items: [OrderedJSON] = []
                skipSpace()
                if index < scalars.count, scalars[index] == "]" { index += 1; return .array(items) }
                while true {
                    guard let v = value() else { return nil }
                    items.append(v)
                    skipSpace()
                    guard index < scalars.count else { return nil }
                    if scalars[index] == "," { index += 1; continue }
                    if scalars[index] == "]" { index += 1; return .array(items) }
                    return nil
                }
            case "\"":
                return string().map(OrderedJSON.string)
            default:
                if literal("true") { return .bool(true) }
                if literal("false") { return .bool(false) }
                if literal("null") { return .null }
                if literal("NaN") { return .float(.nan) }
                if literal("Infinity") { return .float(.infinity) }
                if literal("-Infinity") { return .float(-.infinity) }
                return number()
            }
        }

        mutating func number() -> OrderedJSON? {
            let start = index
            var isFloat = false
            while index < scalars.count, "+-0123456789.eE".unicodeScalars.contains(scalars[index]) {
                if ".eE".unicodeScalars.contains(scalars[index]) { isFloat = true }
                index += 1
            }
            let text = String(String.UnicodeScalarView(scalars[start..<index]))
            if text.isEmpty { return nil }
            if isFloat { return Double(text).map(OrderedJSON.float) }
            let digits = text.hasPrefix("-") ? text.dropFirst() : Substring(text)
            guard !digits.isEmpty, digits.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) }) else { return nil }
            return .integer(text)
        }

        mutating func string() -> String? {
            guard index < scalars.count, scalars[index] == "\"" else { return nil }
            index += 1
            var out = String.UnicodeScalarView()
            var pendingHigh: UInt32?
            while index < scalars.count {
                let c = scalars[index]
                index += 1
                if c == "\"" { return String(out) }
                guard c == "\\" else { out.append(c); continue }
                guard index < scalars.count else { return nil }
                let e = scalars[index]
                index += 1
                switch e {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                case "b": out.append("\u{08}")
                case "f": out.append("\u{0C}")
                case "/", "\\", "\"": out.append(e)
                case "u":
                    guard index + 4 <= scalars.count,
                        let unit = UInt32(String(String.UnicodeScalarView(scalars[index..<index + 4])), radix: 16)
                    else { return nil }
                    index += 4
                    if (0xD800..<0xDC00).contains(unit) {
                        pendingHigh = unit
                        continue
                    }
                    if let high = pendingHigh, (0xDC00..<0xE000).contains(unit) {
                        pendingHigh = nil
                        if let s = Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (unit - 0xDC00)) { out.append(s) }
                        continue
                    }
                    if let s = Unicode.Scalar(unit) { out.append(s) }
                default: return nil
                }
            }
            return nil
        }
    }
}
