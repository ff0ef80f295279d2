/// Why a capture file (CompatTests/capture/SCHEMA.md) could not be read.
public enum CaptureError: Error, Equatable, Sendable {
    /// The file could not be opened or read.
    case unreadable(path: String, errno: Int32)
    /// msgpack-c could not decode the bytes (`status` is its `msgpack_unpack_return`).
    case malformed(status: Int32, offset: Int)
    /// Bytes follow the single top-level map.
    case trailingBytes(offset: Int, total: Int)
    /// Nested deeper than the reader accepts.
    case tooDeep(limit: Int)
    /// The top level is not a `bert-serving-capture` map of a version this reader knows.
    case notACapture(String)
    /// A required key is missing or has the wrong msgpack type.
    case badField(path: String, expected: String)
    /// An event has a `dir` this reader does not know.
    case unknownDirection(index: Int, dir: String)
}
