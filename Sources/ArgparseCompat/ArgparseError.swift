/// Why parsing ended without a namespace, with the exact text and exit status the original
/// produces. Printing and exiting are the executable's job.
public enum ArgparseError: Error, Sendable, Equatable {
    /// `-h/--help`: `output` goes to stdout, exit status 0.
    case helpRequested(output: String)
    /// `-version`: `output` goes to stdout, exit status 0.
    case versionRequested(output: String)
    /// `parser.error(message)`: usage plus `prog: error: message` on stderr, exit status 2.
    case usage(message: String, output: String)
    /// A command line on which the original argparse raises an uncaught exception (e.g.
    /// `-cpu=`: `IndexError: string index out of range`): the exception line on stderr, exit 1.
    case uncaughtException(String)
    /// A parsed value without its option's type (argparse stores `[]` for `-model_dir=--`);
    /// the original crashes later with a traceback, we stop with exit 1.
    case unexpectedValue(dest: String, value: String)

    /// The process exit status the original uses.
    public var exitCode: Int32 {
        switch self {
        case .helpRequested, .versionRequested: return 0
        case .usage: return 2
        case .uncaughtException, .unexpectedValue: return 1
        }
    }

    /// Text for stdout.
    public var standardOutput: String {
        switch self {
        case .helpRequested(let text), .versionRequested(let text): return text
        case .usage, .uncaughtException, .unexpectedValue: return ""
        }
    }

    /// Text for stderr.
    public var standardError: String {
        switch self {
        case .usage(_, let text): return text
        case .uncaughtException(let line): return line + "\n"
        case .unexpectedValue(let dest, let value): return "error: argument \(dest) has an unusable value \(value)\n"
        case .helpRequested, .versionRequested: return ""
        }
    }
}
