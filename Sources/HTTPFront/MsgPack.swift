import CMsgPack

/// MessagePack bodies for `/encode` (`Content-Type` / `Accept: application/msgpack`), through msgpack-c.
public enum MsgPack {
    /// Why a body is not a MessagePack document.
    public struct DecodeError: Error, Equatable, CustomStringConvertible {
        public let reason: String
        public var description: String { reason }
    }

    /// Decodes one MessagePack document (maps with string keys, arrays, scalars) into a `JSONValue`.
    /// `bin` becomes a UTF-8 string (Python's msgpack with `raw=False` decodes str, not bin; we accept both).
    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> JSONValue {
        var unpacked = msgpack_unpacked()
        msgpack_unpacked_init(&unpacked)
        defer { msgpack_unpacked_destroy(&unpacked) }
        var offset = 0
        let rc = bytes.withUnsafeBufferPointer { buf in
            buf.withMemoryRebound(to: CChar.self) { chars in
                msgpack_unpack_next(&unpacked, chars.baseAddress, chars.count, &offset)
            }
        }
        guard rc == MSGPACK_UNPACK_SUCCESS else {
            throw DecodeError(reason: rc == MSGPACK_UNPACK_CONTINUE ? "truncated MessagePack document" : "not a MessagePack document")
        }
        guard offset == bytes.count else { throw DecodeError(reason: "extra data after the MessagePack document at byte \(offset)") }
        return try convert(unpacked.data, depth: 0)
    }

    private static func string(_ ptr: UnsafePointer<CChar>?, _ size: UInt32) -> String {
        guard let ptr, size > 0 else { return "" }
        return ptr.withMemoryRebound(to: UInt8.self, capacity: Int(size)) {
            String(decoding: UnsafeBufferPointer(start: $0, count: Int(size)), as: UTF8.self)
        }
    }

    private static func convert(_ o: msgpack_object, depth: Int) throws(DecodeError) -> JSONValue {
        guard depth < 64 else { throw DecodeError(reason: "MessagePack nesting deeper than 64") }
        switch o.type {
        case MSGPACK_OBJECT_NIL: return .null
        case MSGPACK_OBJECT_BOOLEAN: return .bool(o.via.boolean)
        case MSGPACK_OBJECT_POSITIVE_INTEGER: return .integer(String(o.via.u64))
        case MSGPACK_OBJECT_NEGATIVE_INTEGER: return .integer(String(o.via.i64))
        case MSGPACK_OBJECT_FLOAT32, MSGPACK_OBJECT_FLOAT64: return .float(o.via.f64)
        case MSGPACK_OBJECT_STR: return .string(string(o.via.str.ptr, o.via.str.size))
        case MSGPACK_OBJECT_BIN: return .string(string(o.via.bin.ptr, o.via.bin.size))
        case MSGPACK_OBJECT_ARRAY:
            var items: [JSONValue] = []
            let n = Int(o.via.array.size)
            items.reserveCapacity(n)
            if n > 0, let p = o.via.array.ptr {
                for i in 0..<n { items.append(try convert(p[i], depth: depth + 1)) }
            }
            return .array(items)
        case MSGPACK_OBJECT_MAP:
            var pairs: [(String, JSONValue)] = []
            let n = Int(o.via.map.size)
            if n > 0, let p = o.via.map.ptr {
                for i in 0..<n {
                    let kv = p[i]
                    guard kv.key.type == MSGPACK_OBJECT_STR || kv.key.type == MSGPACK_OBJECT_BIN else {
                        throw DecodeError(reason: "MessagePack map keys must be strings")
                    }
                    let key = kv.key.type == MSGPACK_OBJECT_STR ? string(kv.key.via.str.ptr, kv.key.via.str.size) : string(kv.key.via.bin.ptr, kv.key.via.bin.size)
                    let value = try convert(kv.val, depth: depth + 1)
                    if let at = pairs.firstIndex(where: { $0.0 == key }) { pairs[at].1 = value } else { pairs.append((key, value)) }
                }
            }
            return .object(pairs)
        default:
            throw DecodeError(reason: "unsupported MessagePack type (ext)")
        }
    }
}

/// Builds one MessagePack document with msgpack-c's packer into an `sbuffer`.
///
/// Not thread-safe; one packer per response.
public final class MsgPackPacker {
    private let buffer: UnsafeMutablePointer<msgpack_sbuffer>
    private let packer: UnsafeMutablePointer<msgpack_packer>

    public init() {
        buffer = .allocate(capacity: 1)
        msgpack_sbuffer_init(buffer)
        packer = .allocate(capacity: 1)
        msgpack_packer_init(packer, UnsafeMutableRawPointer(buffer), msgpack_sbuffer_write)
    }

    deinit {
        msgpack_sbuffer_destroy(buffer)
        buffer.deallocate()
        packer.deallocate()
    }

    /// The document so far.
    public var bytes: [UInt8] {
        guard let data = buffer.pointee.data, buffer.pointee.size > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: data, count: buffer.pointee.size))
    }

    public func packMap(count: Int) { _ = msgpack_pack_map(packer, count) }
    public func packArray(count: Int) { _ = msgpack_pack_array(packer, count) }
    public func packFloat(_ v: Float) { _ = msgpack_pack_float(packer, v) }
    public func packDouble(_ v: Double) { _ = msgpack_pack_double(packer, v) }
    public func packInt(_ v: Int64) { _ = msgpack_pack_int64(packer, v) }
    public func packNil() { _ = msgpack_pack_nil(packer) }
    public func packBool(_ v: Bool) { _ = v ? msgpack_pack_true(packer) : msgpack_pack_false(packer) }

    public func packString(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            _ = msgpack_pack_str(packer, utf8.count)
            _ = msgpack_pack_str_body(packer, utf8.baseAddress, utf8.count)
        }
    }

    /// Any `JSONValue`; integers that do not fit `Int64` are packed as doubles.
    public func pack(_ v: JSONValue) {
        switch v {
        case .null: packNil()
        case .bool(let b): packBool(b)
        case .integer(let s):
            if let i = Int64(s) { packInt(i) } else { packDouble(Double(s) ?? 0) }
        case .float(let d): packDouble(d)
        case .string(let s): packString(s)
        case .array(let a):
            packArray(count: a.count)
            for x in a { pack(x) }
        case .object(let o):
            packMap(count: o.count)
            for (k, x) in o {
                packString(k)
                pack(x)
            }
        }
    }
}
