import CMsgPack

/// A decoded msgpack value; `str` and `bin` stay distinct, as the capture schema needs.
public enum MessagePackValue: Equatable, Sendable {
    case `nil`
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case string(String)
    case binary([UInt8])
    case array([MessagePackValue])
    case map([(key: MessagePackValue, value: MessagePackValue)])
    case ext(type: Int8, data: [UInt8])

    public static func == (lhs: MessagePackValue, rhs: MessagePackValue) -> Bool {
        switch (lhs, rhs) {
        case (.nil, .nil): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.int(a), .int(b)): return a == b
        case let (.uint(a), .uint(b)): return a == b
        case let (.double(a), .double(b)): return a == b
        case let (.string(a), .string(b)): return a == b
        case let (.binary(a), .binary(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.map(a), .map(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case let (.ext(t1, d1), .ext(t2, d2)): return t1 == t2 && d1 == d2
        default: return false
        }
    }

    /// The value under a string key of a map, or nil.
    public subscript(key: String) -> MessagePackValue? {
        guard case .map(let pairs) = self else { return nil }
        return pairs.first { $0.key == .string(key) }?.value
    }

    /// Decodes exactly one msgpack object from `bytes` with msgpack-c's `msgpack_unpack_next`.
    /// - Throws: `CaptureError.malformed` for bytes msgpack-c rejects or that end early,
    ///   `.trailingBytes` when more follows, `.tooDeep` past `maxDepth` levels.
    public static func decode(_ bytes: [UInt8], maxDepth: Int = 16) throws(CaptureError) -> MessagePackValue {
        var result = msgpack_unpacked()
        msgpack_unpacked_init(&result)
        defer { msgpack_unpacked_destroy(&result) }
        var offset = 0
        let status = bytes.withUnsafeBufferPointer { buf -> msgpack_unpack_return in
            buf.withMemoryRebound(to: CChar.self) { chars in
                msgpack_unpack_next(&result, chars.baseAddress, chars.count, &offset)
            }
        }
        // msgpack_unpack_next: SUCCESS (2) = one object decoded, `offset` just past it (more bytes may
        // follow); CONTINUE (0) = the bytes end inside the object; PARSE_ERROR (-1) / NOMEM_ERROR (-2,
        // also nesting past msgpack-c's own stack of 32) = negative.
        guard status == MSGPACK_UNPACK_SUCCESS else { throw .malformed(status: status.rawValue, offset: offset) }
        guard offset == bytes.count else { throw .trailingBytes(offset: offset, total: bytes.count) }
        return try convert(result.data, depth: 0, maxDepth: maxDepth)
    }

    private static func bytesOf(_ ptr: UnsafePointer<CChar>?, _ size: UInt32) -> [UInt8] {
        guard let ptr, size > 0 else { return [] }
        return ptr.withMemoryRebound(to: UInt8.self, capacity: Int(size)) {
            Array(UnsafeBufferPointer(start: $0, count: Int(size)))
        }
    }

    private static func convert(_ obj: msgpack_object, depth: Int, maxDepth: Int) throws(CaptureError) -> MessagePackValue {
        guard depth < maxDepth else { throw .tooDeep(limit: maxDepth) }
        switch obj.type {
        case MSGPACK_OBJECT_NIL:
            return .nil
        case MSGPACK_OBJECT_BOOLEAN:
            return .bool(obj.via.boolean)
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
            return .uint(obj.via.u64)
        case MSGPACK_OBJECT_NEGATIVE_INTEGER:
            return .int(obj.via.i64)
        case MSGPACK_OBJECT_FLOAT32, MSGPACK_OBJECT_FLOAT64:
            return .double(obj.via.f64)
        case MSGPACK_OBJECT_STR:
            // str is UTF-8 by the msgpack spec; invalid sequences are repaired, not trusted.
            return .string(String(decoding: bytesOf(obj.via.str.ptr, obj.via.str.size), as: UTF8.self))
        case MSGPACK_OBJECT_BIN:
            return .binary(bytesOf(obj.via.bin.ptr, obj.via.bin.size))
        case MSGPACK_OBJECT_EXT:
            return .ext(type: obj.via.ext.type, data: bytesOf(obj.via.ext.ptr, obj.via.ext.size))
        case MSGPACK_OBJECT_ARRAY:
            let arr = obj.via.array
            var out: [MessagePackValue] = []
            out.reserveCapacity(Int(arr.size))
            if let items = arr.ptr {
                for i in 0..<Int(arr.size) {
                    out.append(try convert(items[i], depth: depth + 1, maxDepth: maxDepth))
                }
            }
            return .array(out)
        case MSGPACK_OBJECT_MAP:
            let map = obj.via.map
            var out: [(key: MessagePackValue, value: MessagePackValue)] = []
            out.reserveCapacity(Int(map.size))
            if let pairs = map.ptr {
                for i in 0..<Int(map.size) {
                    let key = try convert(pairs[i].key, depth: depth + 1, maxDepth: maxDepth)
                    let value = try convert(pairs[i].val, depth: depth + 1, maxDepth: maxDepth)
                    out.append((key: key, value: value))
                }
            }
            return .map(out)
        default:
            throw .malformed(status: -1, offset: 0)
        }
    }
}
