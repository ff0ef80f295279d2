import Foundation

/// The words the benchmark clients build random sentences from.
///
/// Port of `vocab = list(set(vv for v in fp for vv in v.strip().split()))` (benchmark.py): every
/// whitespace-separated word of a UTF-8 file, once each.
public struct ClientVocabulary: Sendable, Equatable {
    /// Distinct words, sorted (the original's order is the arbitrary order of a Python set).
    public let words: [String]

    public init(words: [String]) {
        self.words = Array(Set(words)).sorted()
    }

    /// Reads `path` (`open(path, encoding='utf8')`).
    /// - Throws: `BenchmarkError.vocabularyUnreadable` (missing file, invalid UTF-8) or `.vocabularyEmpty`.
    public init(contentsOfFile path: String) throws(BenchmarkError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .vocabularyUnreadable(path: path, reason: "no such file or not readable")
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            throw .vocabularyUnreadable(path: path, reason: "not valid UTF-8")
        }
        self.init(words: Self.split(text))
        if words.isEmpty { throw .vocabularyEmpty(path: path) }
    }

    /// The fallback when the default `-client_vocab_file README.md` is absent from the working
    /// directory (the original raises `FileNotFoundError`): the model's `vocab.txt` without its
    /// `[special]` entries and `##` continuation pieces.
    public init(modelVocabularyAt path: String) throws(BenchmarkError) {
        let all = try ClientVocabulary(contentsOfFile: path)
        let words = all.words.filter { word in
            !word.hasPrefix("##") && !(word.hasPrefix("[") && word.hasSuffix("]") && word.count > 2)
        }
        self.init(words: words)
        if self.words.isEmpty { throw .vocabularyEmpty(path: path) }
    }

    /// Python 3 `str.split()` without arguments: runs of whitespace separate words.
    public static func split(_ text: String) -> [String] {
        var words: [String] = []
        var current = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if isPythonWhitespace(scalar) {
                if !current.isEmpty { words.append(String(current)) }
                current = String.UnicodeScalarView()
            } else {
                current.append(scalar)
            }
        }
        if !current.isEmpty { words.append(String(current)) }
        return words
    }

    /// `str.isspace()` in Python 3.7 (Unicode 11): bidirectional class WS/B/S or category Zs.
    static func isPythonWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }
}
