import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A swift-log backend writing the original's log format to stderr
/// (`set_logger` in helper.py: `'%(levelname)-.1s:' + context + ':[%(filename).3s:%(funcName).3s:%(lineno)3d]:%(message)s'`),
/// e.g. `I:VENTILATOR:[Ven:run: 97]:all set, ready to serve request!`.
/// The logger label is the context (`VENTILATOR`, `SINK`, `WORKER-0`).
public struct ServerLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    public let label: String

    /// - Parameter verbose: `-verbose` lowers the level to debug.
    public init(label: String, verbose: Bool = false) {
        self.label = label
        self.logLevel = verbose ? .debug : .info
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let line = ServerLogHandler.format(label: label, level: event.level, message: "\(event.message)",
                                           file: event.file, function: event.function, line: event.line)
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        bytes.withUnsafeBytes { buf in
            guard let base = buf.baseAddress else { return }
            var off = 0
            while off < buf.count {
                let n = write(2, base + off, buf.count - off)
                if n <= 0 { break }
                off += n
            }
        }
    }

    /// One log line without the newline.
    public static func format(label: String, level: Logger.Level, message: String,
                              file: String, function: String, line: UInt) -> String {
        let letter: String
        switch level {
        case .trace, .debug: letter = "D"
        case .info, .notice: letter = "I"
        case .warning: letter = "W"
        case .error: letter = "E"
        case .critical: letter = "C"
        }
        let fileName = file.split(separator: "/").last.map(String.init) ?? file
        let lineText = String(line)
        let paddedLine = String(repeating: " ", count: max(0, 3 - lineText.count)) + lineText
        return "\(letter):\(label):[\(fileName.prefix(3)):\(function.prefix(3)):\(paddedLine)]:\(message)"
    }
}
