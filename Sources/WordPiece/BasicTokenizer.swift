/// Port of `BasicTokenizer` (bert/tokenization.py): cleaning, CJK spacing, whitespace split, optional
/// lower-casing + accent stripping, punctuation split. Works on code points (`[UInt32]`).
public struct BasicTokenizer: Sendable {
    /// Whether to lower-case and strip accents (`do_lower_case`; off with `-cased_tokenization`).
    public let doLowerCase: Bool
    private let properties = UnicodeProperties.shared

    /// Creates a basic tokenizer.
    public init(doLowerCase: Bool) {
        self.doLowerCase = doLowerCase
    }

    /// Port of `BasicTokenizer.tokenize`: the tokens of `text`, as strings.
    public func tokenize(_ text: String) -> [String] {
        tokenize(scalars: PythonText.scalars(text)).map { PythonText.string($0) }
    }

    /// Port of `BasicTokenizer.tokenize` on code points.
    func tokenize(scalars text: [UInt32]) -> [[UInt32]] {
        let cleaned = tokenizeChineseChars(cleanText(text))
        var splitTokens: [[UInt32]] = []
        for var token in PythonText.whitespaceTokenize(cleaned) {
            if doLowerCase {
                token = lower(token)
                token = runStripAccents(token)
            }
            // `whitespace_tokenize(" ".join(split_tokens))`: re-split every piece on whitespace.
            for piece in runSplitOnPunc(token) {
                PythonText.split(piece, into: &splitTokens)
            }
        }
        return splitTokens
    }

    /// Port of `BasicTokenizer._clean_text`: drops NUL, U+FFFD and controls, maps whitespace to " ".
    func cleanText(_ text: [UInt32]) -> [UInt32] {
        var output: [UInt32] = []
        output.reserveCapacity(text.count)
        for scalar in text {
            if scalar == 0 || scalar == 0xFFFD || isControl(scalar) {
                continue
            }
            output.append(isWhitespace(scalar) ? 0x20 : scalar)
        }
        return output
    }

    /// Port of `BasicTokenizer._tokenize_chinese_chars`: spaces around every CJK ideograph.
    func tokenizeChineseChars(_ text: [UInt32]) -> [UInt32] {
        guard text.contains(where: Self.isChineseChar) else { return text }
        var output: [UInt32] = []
        output.reserveCapacity(text.count + 16)
        for scalar in text {
            if Self.isChineseChar(scalar) {
                output.append(0x20)
                output.append(scalar)
                output.append(0x20)
            } else {
                output.append(scalar)
            }
        }
        return output
    }

    /// Python `str.lower()` of one whitespace-free token: full case mapping, with CPython's
    /// Final_Sigma rule for U+03A3 (unicodeobject.c `handle_capital_sigma`).
    func lower(_ token: [UInt32]) -> [UInt32] {
        var output: [UInt32] = []
        output.reserveCapacity(token.count)
        for (position, scalar) in token.enumerated() {
            if scalar == 0x3A3 {
                output.append(isFinalSigma(token, at: position) ? 0x3C2 : 0x3C3)
            } else {
                properties.appendLowercase(of: scalar, to: &output)
            }
        }
        return output
    }

    /// `\p{cased}\p{case-ignorable}* U+03A3 !(\p{case-ignorable}*\p{cased})`, as CPython tests it.
    private func isFinalSigma(_ text: [UInt32], at position: Int) -> Bool {
        var index = position - 1
        while index >= 0 && isCaseIgnorable(text[index]) {
            index -= 1
        }
        guard index >= 0, isCased(text[index]) else { return false }
        index = position + 1
        while index < text.count && isCaseIgnorable(text[index]) {
            index += 1
        }
        return index == text.count || !isCased(text[index])
    }

    private func isCased(_ scalar: UInt32) -> Bool {
        properties.flags(of: scalar) & UnicodeProperties.Flag.cased != 0
    }

    private func isCaseIgnorable(_ scalar: UInt32) -> Bool {
        properties.flags(of: scalar) & UnicodeProperties.Flag.caseIgnorable != 0
    }

    /// Port of `BasicTokenizer._run_strip_accents`: NFD, then drop category Mn.
    func runStripAccents(_ text: [UInt32]) -> [UInt32] {
        let decomposed = nfd(text)
        return decomposed.filter { properties.categoryClass(of: $0) != .nonspacingMark }
    }

    /// `unicodedata.normalize("NFD", text)`: full canonical decomposition, then canonical ordering
    /// (the stable insertion sort of CPython's `nfd_nfkd`).
    func nfd(_ text: [UInt32]) -> [UInt32] {
        var output: [UInt32] = []
        output.reserveCapacity(text.count + 4)
        for scalar in text {
            properties.appendDecomposition(of: scalar, to: &output)
        }
        guard output.count > 1 else { return output }
        var previous = properties.combiningClass(of: output[0])
        for index in 1..<output.count {
            let current = properties.combiningClass(of: output[index])
            if previous == 0 || current == 0 || previous <= current {
                previous = current
                continue
            }
            var slot = index - 1
            while true {
                output.swapAt(slot, slot + 1)
                if slot == 0 { break }
                slot -= 1
                let before = properties.combiningClass(of: output[slot])
                if before == 0 || before <= current { break }
            }
            previous = properties.combiningClass(of: output[index])
        }
        return output
    }

    /// Port of `BasicTokenizer._run_split_on_punc`: every punctuation code point is its own piece.
    func runSplitOnPunc(_ text: [UInt32]) -> [[UInt32]] {
        var output: [[UInt32]] = []
        var startNewWord = true
        for scalar in text {
            if isPunctuation(scalar) {
                output.append([scalar])
                startNewWord = true
            } else {
                if startNewWord {
                    output.append([])
                }
                startNewWord = false
                output[output.count - 1].append(scalar)
            }
        }
        return output
    }

    /// Port of `_is_whitespace`: space, tab, newline, carriage return, or category Zs.
    func isWhitespace(_ scalar: UInt32) -> Bool {
        scalar == 0x20 || scalar == 0x09 || scalar == 0x0A || scalar == 0x0D
            || properties.categoryClass(of: scalar) == .spaceSeparator
    }

    /// Port of `_is_control`: any category C* (Cc, Cf, Cn, Co, Cs) except tab, newline, carriage return.
    func isControl(_ scalar: UInt32) -> Bool {
        if scalar == 0x09 || scalar == 0x0A || scalar == 0x0D {
            return false
        }
        return properties.categoryClass(of: scalar) == .control
    }

    /// Port of `_is_punctuation`: non-alphanumeric printable ASCII, or category P*.
    func isPunctuation(_ scalar: UInt32) -> Bool {
        if (33...47).contains(scalar) || (58...64).contains(scalar)
            || (91...96).contains(scalar) || (123...126).contains(scalar) {
            return true
        }
        return properties.categoryClass(of: scalar) == .punctuation
    }

    /// Port of `BasicTokenizer._is_chinese_char`: the CJK Unified Ideographs blocks it lists.
    static func isChineseChar(_ scalar: UInt32) -> Bool {
        (0x4E00...0x9FFF).contains(scalar) || (0x3400...0x4DBF).contains(scalar)
            || (0x20000...0x2A6DF).contains(scalar) || (0x2A700...0x2B73F).contains(scalar)
            || (0x2B740...0x2B81F).contains(scalar) || (0x2B820...0x2CEAF).contains(scalar)
            || (0xF900...0xFAFF).contains(scalar) || (0x2F800...0x2FA1F).contains(scalar)
    }
}
