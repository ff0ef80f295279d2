#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped read-only into memory.
///
/// `@unchecked Sendable`: the mapping is created in `init`, never written (PROT_READ) and only
/// unmapped in `deinit`, when no other reference can exist, so concurrent reads are safe.
final class MappedFile: @unchecked Sendable {
    let path: String
    private let base: UnsafeRawPointer?
    let count: Int

    /// Maps `path`; an empty file maps to an empty buffer.
    /// - Throws: `.missingFile` when it does not exist, `.unreadable` for other failures.
    init(path: String, lookedFor: String) throws(CheckpointError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let err = errno
            if err == ENOENT || err == ENOTDIR {
                throw .missingFile(path: path, lookedFor: lookedFor)
            }
            throw .unreadable(path: path, reason: Self.message(err))
        }
        // mmap(2): "closing the file descriptor does not unmap the region", so close it either way.
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .unreadable(path: path, reason: Self.message(errno)) }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw .unreadable(path: path, reason: "not a regular file")
        }
        guard let size = Int(exactly: st.st_size), size >= 0 else {
            throw .unreadable(path: path, reason: "file size \(st.st_size) out of range")
        }
        count = size
        if size == 0 {
            base = nil
            return
        }
        let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else { throw .unreadable(path: path, reason: Self.message(errno)) }
        base = UnsafeRawPointer(p)
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), count) }
    }

    /// The mapped bytes; valid as long as `self` lives.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// `length` bytes at `offset`, or nil when they are not all inside the file.
    func slice(offset: Int, length: Int) -> UnsafeRawBufferPointer? {
        guard offset >= 0, length >= 0 else { return nil }
        let (end, overflow) = offset.addingReportingOverflow(length)
        guard !overflow, end <= count else { return nil }
        guard let base else { return length == 0 ? UnsafeRawBufferPointer(start: nil, count: 0) : nil }
        return UnsafeRawBufferPointer(start: base + offset, count: length)
    }

    /// Lets the kernel drop the resident pages of `length` bytes at `offset` (they are read again
    /// from the page cache if touched later). Called once a tensor has been converted into the
    /// engine's own buffers, so loading never holds the file and the weights in memory at once:
    /// without it, a BERT-base load peaked at twice the weights' size.
    func releasePages(offset: Int, length: Int) {
        guard let base, length > 0, offset >= 0, offset < count else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = offset / page * page
        let end = min(count, offset + length)
        _ = madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, MADV_DONTNEED)
    }

    static func message(_ err: Int32) -> String {
        guard let s = strerror(err) else { return "errno \(err)" }
        return String(cString: s)
    }
}
