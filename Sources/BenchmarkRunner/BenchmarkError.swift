#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a benchmark stopped, with what an operator needs to act.
public enum BenchmarkError: Error, Equatable, CustomStringConvertible {
    /// `-client_vocab_file` could not be read (the original raises `FileNotFoundError`).
    case vocabularyUnreadable(path: String, reason: String)
    /// `-client_vocab_file` holds no word (the original raises `IndexError` in `random.choices`).
    case vocabularyEmpty(path: String)
    /// A setting the benchmark cannot run with (e.g. `-num_repeat 0`).
    case invalidSetting(String)
    /// `bert-serving-start` could not be launched.
    case serverLaunchFailed(path: String, errno: Int32)
    /// The server process ended before the run was over.
    case serverExited(experiment: String, value: String, status: String)
    /// A client could not talk to the server or got an unusable reply.
    case clientFailed(experiment: String, value: String, reason: String)

    public var description: String {
        switch self {
        case .vocabularyUnreadable(let path, let reason):
            return "cannot read -client_vocab_file \(path): \(reason)"
        case .vocabularyEmpty(let path):
            return "-client_vocab_file \(path) contains no word"
        case .invalidSetting(let text):
            return text
        case .serverLaunchFailed(let path, let errno):
            return "cannot launch \(path): \(String(cString: strerror(errno))) (errno \(errno))"
        case .serverExited(let experiment, let value, let status):
            return "the server for \(experiment)=\(value) \(status) before the run was over (see its log above)"
        case .clientFailed(let experiment, let value, let reason):
            return "a client failed during \(experiment)=\(value): \(reason)"
        }
    }
}
