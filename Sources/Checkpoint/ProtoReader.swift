/// A cursor over protocol-buffer wire format (varints, fixed32/64, length-delimited), enough to
/// decode `BundleHeaderProto` and `BundleEntryProto` (tensorflow/core/protobuf/tensor_bundle.proto)
/// by hand. Unknown fields are skipped by wire type, as protobuf parsers must.
struct ProtoReader {
    enum WireType: UInt64 {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, startGroup = 3, endGroup = 4, fixed32 = 5
    }

    /// Why decoding stopped; the caller turns it into a `CheckpointError` naming file and key.
    struct Failure: Error {
        let detail: String
    }

    private let bytes: UnsafeRawBufferPointer
    private(set) var position: Int

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        self.position = 0
    }

    var isAtEnd: Bool { position >= bytes.count }

    mutating func varint() throws(Failure) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < bytes.count else { throw Failure(detail: "varint runs past the end") }
            let b = bytes[position]
            position += 1
            guard shift < 64 else { throw Failure(detail: "varint longer than 10 bytes") }
            result |= UInt64(b & 0x7f) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
        }
    }

    mutating func fixed32() throws(Failure) -> UInt32 {
        guard bytes.count - position >= 4 else { throw Failure(detail: "fixed32 runs past the end") }
        let v = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self))
        position += 4
        return v
    }

    mutating func lengthDelimited() throws(Failure) -> UnsafeRawBufferPointer {
        let n = try varint()
        guard n <= UInt64(bytes.count - position) else {
            throw Failure(detail: "length-delimited field of \(n) bytes runs past the end")
        }
        let start = position
        position += Int(n)
        return UnsafeRawBufferPointer(rebasing: bytes[start..<position])
    }

    /// The next field number and wire type, or nil at the end.
    mutating func tag() throws(Failure) -> (field: UInt64, wire: WireType)? {
        if isAtEnd { return nil }
        let key = try varint()
        guard let wire = WireType(rawValue: key & 7), key >> 3 != 0 else {
            throw Failure(detail: "bad field key \(key)")
        }
        return (key >> 3, wire)
    }

    mutating func skipBytes(_ n: Int) throws(Failure) {
        guard n >= 0, n <= bytes.count - position else { throw Failure(detail: "\(n) bytes run past the end") }
        position += n
    }

    mutating func skip(_ wire: WireType) throws(Failure) {
        switch wire {
        case .varint: _ = try varint()
        case .fixed64:
            guard bytes.count - position >= 8 else { throw Failure(detail: "fixed64 runs past the end") }
            position += 8
        case .lengthDelimited: _ = try lengthDelimited()
        case .fixed32: _ = try fixed32()
        case .startGroup, .endGroup: throw Failure(detail: "groups are not used by tensor_bundle.proto")
        }
    }

    /// A varint field read as a signed 64-bit integer (int32/int64 encode negatives as 10-byte varints).
    mutating func int64() throws(Failure) -> Int64 { Int64(bitPattern: try varint()) }

    /// Checks that a field has the wire type the schema gives it.
    static func expect(_ wire: WireType, _ actual: WireType, field: String) throws(Failure) {
        guard wire == actual else { throw Failure(detail: "field \(field) has wire type \(actual.rawValue), expected \(wire.rawValue)") }
    }
}
