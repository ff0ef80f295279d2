/// Reads a TensorFlow 1 checkpoint (a "tensor bundle": `<prefix>.index` plus
/// `<prefix>.data-NNNNN-of-NNNNN`) as a `TensorStore`, without TensorFlow.
///
/// The index is a LevelDB table (`SSTable`) whose empty key holds a `BundleHeaderProto` and whose
/// other keys are variable names mapping to `BundleEntryProto`s (dtype, shape, shard, offset,
/// size, masked CRC-32C) — tensorflow/core/protobuf/tensor_bundle.proto, util/tensor_bundle.cc.
/// Opening reads the whole index and maps the data shards; a tensor's bytes are only touched
/// when it is asked for (so optimizer slots such as `…/adam_m` are never read), and are then
/// checked against their CRC-32C. Immutable after `init`; safe to read from several threads.
public struct TensorBundleReader: TensorStore {
    struct Entry: Sendable {
        let info: TensorInfo
        let dtypeCode: Int
        let shard: Int
        let offset: Int
        let size: Int
        let maskedCRC: UInt32
        let isPartitioned: Bool
    }

    /// The checkpoint prefix (`…/bert_model.ckpt`).
    public let prefix: String
    /// `<prefix>.index`.
    public let indexPath: String
    private let shards: [MappedFile]
    private let entries: [String: Entry]
    /// Every variable in the bundle, sorted.
    public let tensorNames: [String]

    /// Opens `<prefix>.index` and maps every `<prefix>.data-*` shard it names.
    /// - Throws: `.missingFile` (index or a shard), `.truncated` / `.malformed` /
    ///   `.checksumMismatch` / `.unsupportedCompression` for a damaged index.
    public init(prefix: String) throws(CheckpointError) {
        self.prefix = prefix
        let indexPath = prefix + ".index"
        self.indexPath = indexPath
        let index = try MappedFile(path: indexPath, lookedFor: "TensorFlow checkpoint index of '\(prefix)'")
        var header: (numShards: Int, bigEndian: Bool)?
        var entries: [String: Entry] = [:]
        try SSTable(path: indexPath, bytes: index.bytes).forEach { (keyBytes, value) throws(CheckpointError) in
            if keyBytes.isEmpty {
                header = try Self.decodeHeader(value, path: indexPath)
                return
            }
            let name = String(decoding: keyBytes, as: UTF8.self)
            entries[name] = try Self.decodeEntry(value, name: name, path: indexPath)
        }
        guard let header else { throw .malformed(path: indexPath, detail: "no BundleHeaderProto (empty key)") }
        guard !header.bigEndian else {
            throw .malformed(path: indexPath, detail: "bundle was written big-endian; only little-endian bundles are supported")
        }
        guard header.numShards >= 1, header.numShards <= 99_999 else {
            throw .malformed(path: indexPath, detail: "num_shards is \(header.numShards)")
        }
        for (name, e) in entries where e.shard >= header.numShards {
            throw .malformed(path: indexPath, detail: "tensor '\(name)' is in shard \(e.shard) of \(header.numShards)")
        }
        var shards: [MappedFile] = []
        for shard in 0..<header.numShards {
            let path = Self.shardPath(prefix: prefix, shard: shard, of: header.numShards)
            shards.append(try MappedFile(path: path, lookedFor: "data shard \(shard) of \(header.numShards) named by \(indexPath)"))
        }
        self.shards = shards
        self.entries = entries
        self.tensorNames = entries.keys.sorted()
    }

    /// The path errors name.
    public var storePath: String { prefix }

    /// Shape and dtype of `name` (Google naming), without reading data.
    public func info(_ name: String) -> TensorInfo? { entries[name]?.info }

    /// Reads `name` as float32 in Google layout (see `TensorStore.floats(_:)`).
    public func floats(_ name: String) throws(CheckpointError) -> [Float] {
        guard let entry = entries[name] else { throw .missingTensor(path: prefix, tensor: name) }
        let kind: StoredFloat
        switch entry.dtypeCode {
        case 1: kind = .float32
        case 19: kind = .float16
        case 14: kind = .bfloat16
        default:
            throw .unsupportedDType(path: indexPath, tensor: name, dtype: Self.dtypeName(entry.dtypeCode))
        }
        guard !entry.isPartitioned else {
            throw .malformed(path: indexPath, detail: "tensor '\(name)' is a partitioned variable (slices); not supported")
        }
        let count = entry.info.elementCount
        let (need, o) = count.multipliedReportingOverflow(by: kind.byteWidth)
        guard !o, need == entry.size else {
            throw .malformed(path: indexPath, detail: "tensor '\(name)' has \(entry.size) bytes, its shape \(entry.info.shape) needs \(o ? Int.max : need)")
        }
        let file = shards[entry.shard]
        guard let raw = file.slice(offset: entry.offset, length: entry.size) else {
            let (end, o) = entry.offset.addingReportingOverflow(entry.size)
            throw .truncated(path: file.path, tensor: name, need: o ? Int.max : end, have: file.count)
        }
        defer { file.releasePages(offset: entry.offset, length: entry.size) }
        let actual = CRC32C.checksum(raw)
        let stored = CRC32C.unmask(entry.maskedCRC)
        guard actual == stored else {
            throw .checksumMismatch(path: file.path, tensor: name, expected: stored, actual: actual)
        }
        return FloatDecoding.decode(raw, as: kind, count: count)
    }

    // MARK: - Index decoding

    /// `<prefix>.data-%05d-of-%05d` (tensor_bundle.cc `DataFilename`).
    static func shardPath(prefix: String, shard: Int, of count: Int) -> String {
        func pad(_ n: Int) -> String {
            let s = String(n)
            return String(repeating: "0", count: max(0, 5 - s.count)) + s
        }
        return "\(prefix).data-\(pad(shard))-of-\(pad(count))"
    }

    /// BundleHeaderProto: 1 num_shards (int32), 2 endianness (LITTLE = 0, BIG = 1), 3 version.
    private static func decodeHeader(_ bytes: UnsafeRawBufferPointer, path: String) throws(CheckpointError) -> (numShards: Int, bigEndian: Bool) {
        var r = ProtoReader(bytes)
        var numShards: Int64 = 0
        var endianness: UInt64 = 0
        do throws(ProtoReader.Failure) {
            while let (field, wire) = try r.tag() {
                switch field {
                case 1:
                    try ProtoReader.expect(.varint, wire, field: "num_shards")
                    numShards = try r.int64()
                case 2:
                    try ProtoReader.expect(.varint, wire, field: "endianness")
                    endianness = try r.varint()
                default:
                    try r.skip(wire)
                }
            }
        } catch {
            throw .malformed(path: path, detail: "BundleHeaderProto: \(error.detail)")
        }
        return (Int(clamping: numShards), endianness != 0)
    }

    /// BundleEntryProto: 1 dtype, 2 shape (TensorShapeProto), 3 shard_id, 4 offset, 5 size,
    /// 6 crc32c (fixed32, masked), 7 slices (repeated).
    private static func decodeEntry(_ bytes: UnsafeRawBufferPointer, name: String, path: String) throws(CheckpointError) -> Entry {
        var r = ProtoReader(bytes)
        var dtype: UInt64 = 0
        var shape: [Int] = []
        var shard: Int64 = 0, offset: Int64 = 0, size: Int64 = 0
        var crc: UInt32 = 0
        var partitioned = false
        do throws(ProtoReader.Failure) {
            while let (field, wire) = try r.tag() {
                switch field {
                case 1:
                    try ProtoReader.expect(.varint, wire, field: "dtype")
                    dtype = try r.varint()
                case 2:
                    try ProtoReader.expect(.lengthDelimited, wire, field: "shape")
                    shape = try decodeShape(try r.lengthDelimited())
                case 3:
                    try ProtoReader.expect(.varint, wire, field: "shard_id")
                    shard = try r.int64()
                case 4:
                    try ProtoReader.expect(.varint, wire, field: "offset")
                    offset = try r.int64()
                case 5:
                    try ProtoReader.expect(.varint, wire, field: "size")
                    size = try r.int64()
                case 6:
                    try ProtoReader.expect(.fixed32, wire, field: "crc32c")
                    crc = try r.fixed32()
                case 7:
                    partitioned = true
                    try r.skip(wire)
                default:
                    try r.skip(wire)
                }
            }
        } catch {
            throw .malformed(path: path, detail: "entry for '\(name)': \(error.detail)")
        }
        guard shard >= 0, offset >= 0, size >= 0, let shardIndex = Int(exactly: shard),
              let offsetValue = Int(exactly: offset), let sizeValue = Int(exactly: size) else {
            throw .malformed(path: path, detail: "entry for '\(name)' has shard \(shard), offset \(offset), size \(size)")
        }
        let info = TensorInfo(name: name, shape: shape, dtype: tensorDType(Int(clamping: dtype)))
        return Entry(info: info, dtypeCode: Int(clamping: dtype), shard: shardIndex, offset: offsetValue,
                     size: sizeValue, maskedCRC: crc, isPartitioned: partitioned)
    }

    /// TensorShapeProto: 2 dim (repeated Dim: 1 size int64, 2 name), 3 unknown_rank.
    private static func decodeShape(_ bytes: UnsafeRawBufferPointer) throws(ProtoReader.Failure) -> [Int] {
        var r = ProtoReader(bytes)
        var dims: [Int] = []
        var elements = 1
        while let (field, wire) = try r.tag() {
            switch field {
            case 2:
                try ProtoReader.expect(.lengthDelimited, wire, field: "shape.dim")
                var d = ProtoReader(try r.lengthDelimited())
                var size: Int64 = 0
                while let (f, w) = try d.tag() {
                    if f == 1 {
                        try ProtoReader.expect(.varint, w, field: "shape.dim.size")
                        size = try d.int64()
                    } else {
                        try d.skip(w)
                    }
                }
                guard size >= 0, let n = Int(exactly: size) else { throw ProtoReader.Failure(detail: "dimension of size \(size)") }
                let (p, o) = elements.multipliedReportingOverflow(by: n)
                guard !o else { throw ProtoReader.Failure(detail: "shape has too many elements") }
                elements = p
                dims.append(n)
            case 3:
                try ProtoReader.expect(.varint, wire, field: "shape.unknown_rank")
                if try r.varint() != 0 { throw ProtoReader.Failure(detail: "shape of unknown rank") }
            default:
                try r.skip(wire)
            }
        }
        return dims
    }

    /// tensorflow/core/framework/types.proto `DataType` values.
    private static func tensorDType(_ code: Int) -> TensorDType {
        switch code {
        case 1: return .float32
        case 2: return .float64
        case 3: return .int32
        case 9: return .int64
        case 14: return .bfloat16
        case 19: return .float16
        default: return .other
        }
    }

    static func dtypeName(_ code: Int) -> String {
        let names = [1: "DT_FLOAT", 2: "DT_DOUBLE", 3: "DT_INT32", 4: "DT_UINT8", 5: "DT_INT16", 6: "DT_INT8",
                     7: "DT_STRING", 8: "DT_COMPLEX64", 9: "DT_INT64", 10: "DT_BOOL", 11: "DT_QINT8",
                     12: "DT_QUINT8", 13: "DT_QINT32", 14: "DT_BFLOAT16", 17: "DT_UINT16", 18: "DT_COMPLEX128",
                     19: "DT_HALF", 20: "DT_RESOURCE", 21: "DT_VARIANT", 22: "DT_UINT32", 23: "DT_UINT64"]
        return names[code] ?? "DataType \(code)"
    }
}
