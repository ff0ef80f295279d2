import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Serialises writes of the client threads (the server config blocks) and the main thread.
private let outputLock = Mutex(())

/// Unbuffered writes to stdout / stderr (the original prints with `flush=True`), plus the
/// progress line, which exists only when stdout is a terminal.
struct Console: Sendable {
    /// Whether to draw the progress line (`isatty(1)`).
    let showsProgress: Bool

    init(showsProgress: Bool = isatty(1) == 1) {
        self.showsProgress = showsProgress
    }

    static func write(_ text: String, to fd: Int32) {
        outputLock.withLock { _ in writeAll(Array(text.utf8), to: fd) }
    }

    private static func writeAll(_ bytes: [UInt8], to fd: Int32) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { systemWrite(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
    }

    /// One line on stdout (after clearing the progress line).
    func line(_ text: String) {
        Self.write((showsProgress ? "\r\u{1B}[K" : "") + text + "\n", to: 1)
    }

    /// Several lines on stdout at once (after clearing the progress line).
    func block(_ text: String) {
        Self.write((showsProgress ? "\r\u{1B}[K" : "") + text, to: 1)
    }

    /// One line on stderr, prefixed with the program name.
    func note(_ text: String) {
        if showsProgress { Self.write("\r\u{1B}[K", to: 1) }
        Self.write("bert-serving-benchmark: " + text + "\n", to: 2)
    }

    /// Redraws the progress line in place.
    func progress(_ text: String) {
        guard showsProgress else { return }
        Self.write("\r\u{1B}[K" + text, to: 1)
    }

    /// Erases the progress line.
    func clearProgress() {
        guard showsProgress else { return }
        Self.write("\r\u{1B}[K", to: 1)
    }
}

#if canImport(Glibc)
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    Glibc.write(fd, buffer, count)
}
#else
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    Darwin.write(fd, buffer, count)
}
#endif
