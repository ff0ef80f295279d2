import ServerCore

extension PyJSON {
    /// Parses a JSON document as Python's `json.loads` would, keeping object key order, so a
    /// backend's SHOW_CONFIG / SHOW_STATUS body can be edited and written back with `dumps()`
    /// byte for byte (numbers with `.`/`e` become `.double`, whose `repr` round-trips).
    /// Returns nil for anything that is not one well-formed JSON value (the proxy then treats
    /// the backend's reply as a failed probe).
    public static func parse(_ bytes: [UInt8]) -> PyJSON? {
        var reader = JSONReader(bytes: bytes)
        guard let value = reader.value(depth: 0) else { return nil }
        reader.skipSpace()
        return reader.index == bytes.count ? value : nil
    }

    /// The value under `key` of an object, nil when absent or not an object.
    public subscript(key: String) -> PyJSON? {
        guard case .object(let items) = self else { return nil }
        return items.first { $0.0 == key }?.1
    }

    /// This object with `key` set to `value`: in place when present, appended otherwise
    /// (a Python dict assignment). Non-objects are returned unchanged.
    public func setting(_ key: String, _ value: PyJSON) -> PyJSON {
        guard case .object(var items) = self else { return self }
        if let i = items.firstIndex(where: { $0.0 == key }) { items[i].1 = value } else { items.append((key, value)) }
        return .object(items)
    }

    /// This object without `key`.
    public func removing(_ key: String) -> PyJSON {
        guard case .object(let items) = self else { return self }
        return .object(items.filter { $0.0 != key })
    }
}

/// A recursive-descent JSON reader over UTF-8 bytes (RFC 8259, plus Python's `NaN` / `Infinity`).
private struct JSONReader {
    let bytes: [UInt8]
    var index = 0
    /// Deeper documents are refused rather than overflowing the stack.
    static let maxDepth = 64

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func skipSpace() {
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }

    mutating func literal(_ word: String) -> Bool {
        let w = Array(word.utf8)
        guard index + w.count <= bytes.count, Array(bytes[index ..< index + w.count]) == w else { return false }
        index += w.count
        return true
    }

    mutating func value(depth: Int) -> PyJSON? {
        guard depth < Self.maxDepth else { return nil }
        skipSpace()
        guard index < bytes.count else { return nil }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            index += 1
            var items: [(String, PyJSON)] = []
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .object(items) }
            while true {
                skipSpace()
                guard let key = string() else { return nil }
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
                index += 1
                guard let v = value(depth: depth + 1) else { return nil }
                // A repeated key keeps its first position and takes the later value (Python dict).
                if let i = items.firstIndex(where: { $0.0 == key }) { items[i].1 = v } else { items.append((key, v)) }
                skipSpace()
                guard index < bytes.count else { return nil }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(items) }
                return nil
            }
        case UInt8(ascii: "["):
            index += 1
            var items: [PyJSON] = []
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
            while true {
                guard let v = value(depth: depth + 1) else { return nil }
                items.append(v)
                skipSpace()
                guard index < bytes.count else { return nil }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
                return nil
            }
        case UInt8(ascii: "\""):
            return string().map(PyJSON.string)
        case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
        case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
        case UInt8(ascii: "n"): return literal("null") ? .null : nil
        case UInt8(ascii: "N"): return literal("NaN") ? .double(.nan) : nil
        case UInt8(ascii: "I"): return literal("Infinity") ? .double(.infinity) : nil
        default: return number()
        }
    }

    mutating func number() -> PyJSON? {
        if literal("-Infinity") { return .double(-.infinity) }
        let start = index
        var isFloat = false
        while index < bytes.count {
            let b = bytes[index]
            if b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") || b == UInt8(ascii: "-") || b == UInt8(ascii: "+") {
                index += 1
            } else if b == UInt8(ascii: ".") || b == UInt8(ascii: "e") || b == UInt8(ascii: "E") {
                isFloat = true
                index += 1
            } else {
                break
            }
        }
        let text = String(decoding: bytes[start ..< index], as: UTF8.self)
        guard !text.isEmpty else { return nil }
        if !isFloat, let i = Int(text) { return .int(i) }
        return Double(text).map(PyJSON.double)
    }

    /// A string literal at `index` (which must be `"`), escapes decoded, surrogate pairs joined.
    mutating func string() -> String? {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
        index += 1
        var out: [UInt8] = []
        while index < bytes.count {
            let b = bytes[index]
            index += 1
            if b == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
            guard b == UInt8(ascii: "\\") else { out.append(b); continue }
            guard index < bytes.count else { return nil }
            let e = bytes[index]
            index += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "u"):
                guard var unit = hex4() else { return nil }
                var scalarValue = UInt32(unit)
                if (0xD800 ..< 0xDC00).contains(unit), index + 1 < bytes.count,
                   bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") {
                    let save = index
                    index += 2
                    if let low = hex4(), (0xDC00 ..< 0xE000).contains(low) {
                        scalarValue = 0x10000 + (UInt32(unit - 0xD800) << 10) + UInt32(low - 0xDC00)
                    } else {
                        index = save
                    }
                }
                // A lone surrogate cannot be UTF-8: Python keeps it, we write U+FFFD.
                if (0xD800 ..< 0xE000).contains(scalarValue) { unit = 0xFFFD; scalarValue = UInt32(unit) }
                out.append(contentsOf: String(Unicode.Scalar(scalarValue).map(Character.init) ?? "\u{FFFD}").utf8)
            default: return nil
            }
        }
        return nil
    }

    mutating func hex4() -> UInt16? {
        guard index + 4 <= bytes.count else { return nil }
        var v: UInt16 = 0
        for b in bytes[index ..< index + 4] {
            guard let d = Self.hexDigit(b) else { return nil }
            v = v << 4 | UInt16(d)
        }
        index += 4
        return v
    }

    static func hexDigit(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0") ... UInt8(ascii: "9"): b - UInt8(ascii: "0")
        case UInt8(ascii: "a") ... UInt8(ascii: "f"): b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A") ... UInt8(ascii: "F"): b - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
