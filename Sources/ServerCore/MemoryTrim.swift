#if canImport(Glibc)
import Glibc
#endif

/// Hands freed heap memory back to the system after a large request. glibc keeps it otherwise
/// (its mmap threshold grows with every large free), so one 10 MB request left the server's
/// RSS hundreds of MB above its baseline for good.
enum MemoryTrim {
    /// Payload size (bytes) from which a request's memory is trimmed once it is answered.
    static let threshold = 1 << 20

    private typealias TrimFunction = @convention(c) (Int) -> Int32

    /// glibc's `malloc_trim` (`<malloc.h>` is not part of the Glibc module): looked up once.
    private static let trim: TrimFunction? = {
        #if canImport(Glibc)
        guard let symbol = dlsym(nil, "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: TrimFunction.self)
        #else
        return nil
        #endif
    }()

    /// `malloc_trim(0)` (every arena) where glibc provides it; nothing elsewhere.
    static func now() {
        _ = trim?(0)
    }
}
