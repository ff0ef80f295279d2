/// Everything that can go wrong while finding and reading model weights.
///
/// Every case names the file it concerns and, where one is involved, the tensor, so the
/// server can print one line an operator can act on.
public enum CheckpointError: Error, Equatable, Sendable {
    /// A file the model needs is not there; `lookedFor` says what it was meant to be.
    case missingFile(path: String, lookedFor: String)
    /// The file exists but could not be opened or mapped (`reason` is the system error).
    case unreadable(path: String, reason: String)
    /// The file ends before `need` bytes (it has `have`); `tensor` is empty for headers and indexes.
    case truncated(path: String, tensor: String, need: Int, have: Int)
    /// A header or index is not what the format says it must be.
    case malformed(path: String, detail: String)
    /// A tensor's bytes lie (partly) outside the file, or their length disagrees with the shape.
    case outOfBounds(path: String, tensor: String, offset: Int, length: Int, available: Int)
    /// A stored checksum disagrees with the bytes read (`tensor` is empty for index blocks).
    case checksumMismatch(path: String, tensor: String, expected: UInt32, actual: UInt32)
    /// A block or file uses a compression this reader does not implement.
    case unsupportedCompression(path: String, kind: Int)
    /// The checkpoint has no tensor of that (Google-BERT) name.
    case missingTensor(path: String, tensor: String)
    /// The stored shape is not the one the model configuration implies.
    case shapeMismatch(path: String, tensor: String, expected: [Int], actual: [Int])
    /// The tensor is not stored as float32, float16 or bfloat16.
    case unsupportedDType(path: String, tensor: String, dtype: String)
}

extension CheckpointError: CustomStringConvertible {
    /// One line naming the file, the tensor and what was expected.
    public var description: String {
        switch self {
        case let .missingFile(path, lookedFor):
            return "\(path): no such file (looked for \(lookedFor))"
        case let .unreadable(path, reason):
            return "\(path): cannot read: \(reason)"
        case let .truncated(path, tensor, need, have):
            return "\(path): truncated\(Self.tensorPart(tensor)): need \(need) bytes, file has \(have)"
        case let .malformed(path, detail):
            return "\(path): malformed: \(detail)"
        case let .outOfBounds(path, tensor, offset, length, available):
            return "\(path): tensor '\(tensor)' bytes [\(offset), +\(length)) do not fit in \(available) available bytes"
        case let .checksumMismatch(path, tensor, expected, actual):
            return "\(path): crc32c mismatch\(Self.tensorPart(tensor)): stored 0x\(String(expected, radix: 16)), computed 0x\(String(actual, radix: 16))"
        case let .unsupportedCompression(path, kind):
            return "\(path): unsupported block compression type \(kind) (only 0, uncompressed, is supported)"
        case let .missingTensor(path, tensor):
            return "\(path): checkpoint has no tensor '\(tensor)'"
        case let .shapeMismatch(path, tensor, expected, actual):
            return "\(path): tensor '\(tensor)' has shape \(actual), the model configuration expects \(expected)"
        case let .unsupportedDType(path, tensor, dtype):
            return "\(path): tensor '\(tensor)' has dtype \(dtype); only float32, float16 and bfloat16 weights are supported"
        }
    }

    private static func tensorPart(_ tensor: String) -> String {
        tensor.isEmpty ? "" : " in tensor '\(tensor)'"
    }
}
