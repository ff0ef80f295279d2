/// Python 3.7 `str` semantics on code points (`[UInt32]`), the unit `tokenization.py` works in.
enum PythonText {
    /// The code points of a string (Python `list(text)`).
    static func scalars(_ text: String) -> [UInt32] {
        text.unicodeScalars.map(\.value)
    }

    /// `str.strip()` with no argument: drops leading and trailing `str.isspace()` code points.
    static func strip(_ text: some BidirectionalCollection<UInt32>) -> [UInt32] {
        let properties = UnicodeProperties.shared
        guard let first = text.firstIndex(where: { !properties.isPythonWhitespace($0) }),
              let last = text.lastIndex(where: { !properties.isPythonWhitespace($0) })
        else { return [] }
        return Array(text[first...last])
    }

    /// `str.split()` with no argument: runs of `str.isspace()` separate, empty pieces are dropped.
    static func split(_ text: some Collection<UInt32>, into output: inout [[UInt32]]) {
        let properties = UnicodeProperties.shared
        var piece: [UInt32] = []
        for scalar in text {
            if properties.isPythonWhitespace(scalar) {
                if !piece.isEmpty {
                    output.append(piece)
                    piece.removeAll(keepingCapacity: true)
                }
            } else {
                piece.append(scalar)
            }
        }
        if !piece.isEmpty {
            output.append(piece)
        }
    }

    /// `whitespace_tokenize` (bert/tokenization.py): `text.strip().split()`, which is `text.split()`.
    static func whitespaceTokenize(_ text: some Collection<UInt32>) -> [[UInt32]] {
        var output: [[UInt32]] = []
        split(text, into: &output)
        return output
    }

    /// UTF-8 encoding of code points; values that are not Unicode scalars become U+FFFD.
    static func utf8(_ scalars: some Sequence<UInt32>) -> [UInt8] {
        var bytes: [UInt8] = []
        for value in scalars {
            appendUTF8(value, to: &bytes)
        }
        return bytes
    }

    /// Appends the UTF-8 encoding of one code point (U+FFFD for a non-scalar value).
    @inline(__always)
    static func appendUTF8(_ value: UInt32, to bytes: inout [UInt8]) {
        let scalar = Unicode.Scalar(value) ?? "\u{FFFD}"
        switch scalar.value {
        case 0..<0x80:
            bytes.append(UInt8(scalar.value))
        case 0x80..<0x800:
            bytes.append(UInt8(0xC0 | scalar.value >> 6))
            bytes.append(UInt8(0x80 | scalar.value & 0x3F))
        case 0x800..<0x10000:
            bytes.append(UInt8(0xE0 | scalar.value >> 12))
            bytes.append(UInt8(0x80 | scalar.value >> 6 & 0x3F))
            bytes.append(UInt8(0x80 | scalar.value & 0x3F))
        default:
            bytes.append(UInt8(0xF0 | scalar.value >> 18))
            bytes.append(UInt8(0x80 | scalar.value >> 12 & 0x3F))
            bytes.append(UInt8(0x80 | scalar.value >> 6 & 0x3F))
            bytes.append(UInt8(0x80 | scalar.value & 0x3F))
        }
    }

    /// A `String` of code points.
    static func string(_ scalars: some Sequence<UInt32>) -> String {
        String(decoding: utf8(scalars), as: UTF8.self)
    }

    /// `re.match(r"^(.*) \|\|\| (.*)$", line)` without DOTALL (read_examples, bert/extract_features.py).
    ///
    /// `.` matches anything but `\n`, and `.*` is greedy, so the split is at the last `" ||| "`; a line
    /// holding `\n` anywhere matches only if the `\n` is the very last code point (`$` matches before a
    /// final newline), which `strip()` already removed.
    static func splitPair(_ line: [UInt32]) -> (first: [UInt32], second: [UInt32])? {
        let newline = UInt32(UInt8(ascii: "\n"))
        var end = line.count
        if end > 0 && line[end - 1] == newline {
            end -= 1
        }
        guard !line[0..<end].contains(newline) else { return nil }
        let separator: [UInt32] = [0x20, 0x7C, 0x7C, 0x7C, 0x20]
        var start = end - separator.count
        while start >= 0 {
            if line[start..<(start + separator.count)].elementsEqual(separator) {
                return (Array(line[0..<start]), Array(line[(start + separator.count)..<end]))
            }
            start -= 1
        }
        return nil
    }
}
