/// Port of Python 3.7 `textwrap.TextWrapper` with the defaults argparse uses (`break_long_words`,
/// `break_on_hyphens`, `drop_whitespace`, no `max_lines`), on Unicode scalars (Python `len`).
enum TextWrap {
    typealias Scalars = [Unicode.Scalar]

    /// `textwrap._whitespace`: the ASCII whitespace the wrapper breaks on.
    static func isWrapSpace(_ s: Unicode.Scalar) -> Bool {
        switch s { case "\t", "\n", "\u{0B}", "\u{0C}", "\r", " ": return true; default: return false }
    }

    /// `re`'s `\w` on str patterns: alphanumeric or underscore.
    static func isWord(_ s: Unicode.Scalar) -> Bool {
        if s == "_" { return true }
        if s.isASCII {
            let v = s.value
            return (0x30...0x39).contains(v) || (0x41...0x5A).contains(v) || (0x61...0x7A).contains(v)
        }
        guard PythonText.assignedInUnicode11(s) else { return false }
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
            .decimalNumber, .letterNumber, .otherNumber:
            return true
        default:
            return false
        }
    }

    /// `letter = [^\d\W]`.
    static func isLetter(_ s: Unicode.Scalar) -> Bool { isWord(s) && PythonText.decimalValue(s) == nil }

    /// `word_punct = [\w!"'&.,?]`.
    static func isWordPunct(_ s: Unicode.Scalar) -> Bool {
        switch s { case "!", "\"", "'", "&", ".", ",", "?": return true; default: return isWord(s) }
    }

    /// `TextWrapper.wordsep_re` split: whitespace runs, em-dashes, words (possibly hyphenated).
    static func chunks(_ text: Scalars) -> [Scalars] {
        let n = text.count
        func at(_ i: Int) -> Unicode.Scalar? { i >= 0 && i < n ? text[i] : nil }
        func test(_ i: Int, _ predicate: (Unicode.Scalar) -> Bool) -> Bool { at(i).map(predicate) ?? false }
        // `-{2,}\w` at position p.
        func emDashAhead(_ p: Int) -> Bool {
            var j = p
            while at(j) == "-" { j += 1 }
            return j - p >= 2 && test(j, isWord)
        }
        var result: [Scalars] = []
        var i = 0
        while i < n {
            var end = i + 1
            if isWrapSpace(text[i]) {
                while end < n, isWrapSpace(text[end]) { end += 1 }
            } else if text[i] == "-", test(i - 1, isWordPunct), emDashAhead(i) {
                while at(end) == "-" { end += 1 }
            } else {
                var p = i + 1
                while true {
                    // hyphenated word: -(?:(?<=lt{2}-)|(?<=lt-lt-))(?=lt-?lt)
                    if at(p) == "-",
                        (test(p - 2, isLetter) && test(p - 1, isLetter))
                            || (test(p - 3, isLetter) && at(p - 2) == "-" && test(p - 1, isLetter)),
                        test(p + 1, isLetter),
                        test(p + 2, isLetter) || (at(p + 2) == "-" && test(p + 3, isLetter))
                    {
                        end = p + 1
                        break
                    }
                    // end of word: (?=ws|\Z)
                    if p == n || isWrapSpace(text[p]) { end = p; break }
                    // em-dash: (?<=wp)(?=-{2,}\w)
                    if test(p - 1, isWordPunct), emDashAhead(p) { end = p; break }
                    p += 1
                }
            }
            result.append(Array(text[i..<end]))
            i = end
        }
        return result
    }

    private static func isBlank(_ chunk: Scalars) -> Bool { chunk.allSatisfy(PythonText.isSpace) }

    /// `TextWrapper(width, initial_indent, subsequent_indent).wrap(text)` for text whose
    /// whitespace is already single spaces (argparse normalises it first).
    static func wrap(_ text: String, width: Int, initialIndent: String = "", subsequentIndent: String = "") -> [String] {
        let munged = text.unicodeScalars.map { isWrapSpace($0) ? " " : $0 }
        var stack = Array(chunks(munged).reversed())
        var lines: [String] = []
        let initial = Array(initialIndent.unicodeScalars)
        let subsequent = Array(subsequentIndent.unicodeScalars)
        while !stack.isEmpty {
            var line: [Scalars] = []
            var length = 0
            let indent = lines.isEmpty ? initial : subsequent
            let room = width - indent.count
            if let last = stack.last, isBlank(last), !lines.isEmpty { stack.removeLast() }
            while let last = stack.last {
                if length + last.count <= room {
                    line.append(last)
                    length += last.count
                    stack.removeLast()
                } else {
                    break
                }
            }
            if let last = stack.last, last.count > room {
                // _handle_long_word with break_long_words=True.
                let spaceLeft = room < 1 ? 1 : room - length
                let cut = min(max(spaceLeft, 0), last.count)
                line.append(Array(last[..<cut]))
                stack[stack.count - 1] = Array(last[cut...])
            }
            if let last = line.last, isBlank(last) { line.removeLast() }
            if !line.isEmpty {
                var scalars = String.UnicodeScalarView(indent)
                for chunk in line { scalars.append(contentsOf: chunk) }
                lines.append(String(scalars))
            }
        }
        return lines
    }
}
