/// Why a `vocab.txt` could not be loaded. Every case names the file.
public enum VocabularyError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file does not exist or cannot be read.
    case unreadable(path: String, reason: String)
    /// The file holds no token at all.
    case empty(path: String)
    /// The file is not valid UTF-8 (the original fails with `UnicodeDecodeError` too); `line` is 1-based.
    case invalidUTF8(path: String, line: Int)
    /// A token `convert_lst_to_features` always needs is absent, so every request would fail.
    case missingSpecialToken(path: String, token: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "cannot read vocabulary file \(path): \(reason)"
        case let .empty(path):
            return "vocabulary file \(path) is empty"
        case let .invalidUTF8(path, line):
            return "vocabulary file \(path) is not valid UTF-8 (line \(line))"
        case let .missingSpecialToken(path, token):
            return "vocabulary file \(path) has no \(token) token"
        }
    }
}
