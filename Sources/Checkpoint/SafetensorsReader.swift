import Foundation

/// Reads a Hugging Face `model.safetensors` file as a `TensorStore` in Google-BERT naming.
///
/// Layout (safetensors spec): 8-byte little-endian header length N, N bytes of JSON mapping each
/// tensor name to `{"dtype", "shape", "data_offsets": [begin, end]}` (offsets relative to the
/// byte after the header), then the raw little-endian data. The file is memory-mapped; every
/// header field is validated when the file is opened, tensors are converted when read.
/// Immutable after `init`; safe to read from several threads.
public struct SafetensorsReader: TensorStore {
    struct Entry: Sendable {
        let info: TensorInfo
        let sourceName: String
        let storedShape: [Int]
        let dtypeName: String
        let kind: StoredFloat?
        let offset: Int
        let length: Int
        let transpose: Bool
    }

    /// The file read.
    public let path: String
    private let file: MappedFile
    private let entries: [String: Entry]
    /// Every tensor in Google-BERT naming, sorted.
    public let tensorNames: [String]

    /// Opens and validates `path`.
    /// - Throws: `.missingFile`, `.truncated` (header), `.malformed` (JSON, dtype/shape fields,
    ///   two names for one tensor), `.outOfBounds` (data_offsets outside the file or not matching
    ///   the shape).
    public init(path: String) throws(CheckpointError) {
        self.path = path
        let file = try MappedFile(path: path, lookedFor: "safetensors weights")
        self.file = file
        let bytes = file.bytes
        guard bytes.count >= 8 else { throw .truncated(path: path, tensor: "", need: 8, have: bytes.count) }
        let rawLength = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        guard let headerLength = Int(exactly: rawLength), headerLength <= bytes.count - 8 else {
            let need = Int(exactly: rawLength).flatMap { $0.addingReportingOverflow(8).overflow ? nil : $0 + 8 } ?? Int.max
            throw .truncated(path: path, tensor: "", need: need, have: bytes.count)
        }
        let dataStart = 8 + headerLength
        let dataSize = bytes.count - dataStart
        guard let headerBytes = file.slice(offset: 8, length: headerLength) else {
            throw .truncated(path: path, tensor: "", need: dataStart, have: bytes.count)
        }
        let header = try Self.parseHeader(headerBytes, path: path)

        var entries: [String: Entry] = [:]
        for (name, raw) in header.sorted(by: { $0.key < $1.key }) {
            let (begin, end) = (raw.dataOffsets[0], raw.dataOffsets[1])
            guard begin <= end, end <= UInt64(dataSize) else {
                throw .outOfBounds(path: path, tensor: name, offset: Int(clamping: begin),
                                   length: Int(clamping: end &- min(begin, end)), available: dataSize)
            }
            let offset = Int(begin), length = Int(end - begin)
            let kind = Self.storedFloat(raw.dtype)
            var count = 1
            for d in raw.shape {
                let (p, o) = count.multipliedReportingOverflow(by: d)
                guard d >= 0, !o else { throw .malformed(path: path, detail: "tensor '\(name)' has shape \(raw.shape)") }
                count = p
            }
            if let width = Self.byteWidth(raw.dtype) {
                let (need, o) = count.multipliedReportingOverflow(by: width)
                guard !o, need == length else {
                    throw .malformed(path: path, detail: "tensor '\(name)' data_offsets span \(length) bytes, but \(raw.dtype) \(raw.shape) needs \(o ? "more than Int.max" : String(need))")
                }
            }
            guard let mapping = HFNames.google(for: name) else { continue }
            if mapping.transpose && raw.shape.count != 2 {
                throw .malformed(path: path, detail: "tensor '\(name)' should be a matrix, has shape \(raw.shape)")
            }
            let shape = mapping.transpose ? Array(raw.shape.reversed()) : raw.shape
            let info = TensorInfo(name: mapping.googleName, shape: shape, dtype: Self.tensorDType(raw.dtype))
            if let other = entries[mapping.googleName] {
                throw .malformed(path: path, detail: "'\(other.sourceName)' and '\(name)' both map to '\(mapping.googleName)'")
            }
            entries[mapping.googleName] = Entry(
                info: info, sourceName: name, storedShape: raw.shape, dtypeName: raw.dtype, kind: kind,
                offset: dataStart + offset, length: length, transpose: mapping.transpose)
        }
        self.entries = entries
        self.tensorNames = entries.keys.sorted()
    }

    /// The path errors name.
    public var storePath: String { path }

    /// The name in the file, with the Google name it is read as (shapes in errors are in
    /// Google layout, hence "transposed" for linear weights).
    public func errorName(_ name: String) -> String {
        guard let entry = entries[name] else { return name }
        return "\(entry.sourceName) (as \(name)\(entry.transpose ? ", transposed" : ""))"
    }

    /// Shape and dtype of `name` (Google naming), without reading data.
    public func info(_ name: String) -> TensorInfo? { entries[name]?.info }

    /// Reads `name` as float32 in Google layout (see `TensorStore.floats(_:)`).
    public func floats(_ name: String) throws(CheckpointError) -> [Float] {
        guard let entry = entries[name] else { throw .missingTensor(path: path, tensor: name) }
        guard let kind = entry.kind else {
            throw .unsupportedDType(path: path, tensor: errorName(name), dtype: entry.dtypeName)
        }
        guard let raw = file.slice(offset: entry.offset, length: entry.length) else {
            throw .outOfBounds(path: path, tensor: errorName(name), offset: entry.offset, length: entry.length, available: file.count)
        }
        defer { file.releasePages(offset: entry.offset, length: entry.length) }
        guard entry.transpose else { return FloatDecoding.decode(raw, as: kind, count: entry.info.elementCount) }
        return FloatDecoding.decodeTransposed(raw, as: kind, rows: entry.storedShape[0], cols: entry.storedShape[1])
    }

    // MARK: - Header

    struct RawEntry: Decodable {
        let dtype: String
        let shape: [Int]
        let dataOffsets: [UInt64]

        enum CodingKeys: String, CodingKey {
            case dtype, shape
            case dataOffsets = "data_offsets"
        }
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    private struct Header: Decodable {
        var entries: [String: RawEntry] = [:]
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: AnyKey.self)
            for key in container.allKeys where key.stringValue != "__metadata__" {
                entries[key.stringValue] = try container.decode(RawEntry.self, forKey: key)
            }
        }
    }

    private static func parseHeader(_ bytes: UnsafeRawBufferPointer, path: String) throws(CheckpointError) -> [String: RawEntry] {
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: Data(bytes))
        } catch let DecodingError.dataCorrupted(context) {
            throw .malformed(path: path, detail: "header is not valid JSON: \(context.debugDescription)")
        } catch let DecodingError.typeMismatch(_, context) {
            throw .malformed(path: path, detail: "header field \(Self.where(context)) has the wrong type")
        } catch let DecodingError.keyNotFound(key, context) {
            throw .malformed(path: path, detail: "header entry \(Self.where(context)) lacks '\(key.stringValue)'")
        } catch {
            throw .malformed(path: path, detail: "header: \(error)")
        }
        for (name, e) in header.entries where e.dataOffsets.count != 2 {
            throw .malformed(path: path, detail: "tensor '\(name)' data_offsets has \(e.dataOffsets.count) numbers, not 2")
        }
        return header.entries
    }

    private static func `where`(_ context: DecodingError.Context) -> String {
        "'" + context.codingPath.map(\.stringValue).joined(separator: ".") + "'"
    }

    private static func storedFloat(_ dtype: String) -> StoredFloat? {
        switch dtype {
        case "F32": return .float32
        case "F16": return .float16
        case "BF16": return .bfloat16
        default: return nil
        }
    }

    private static func tensorDType(_ dtype: String) -> TensorDType {
        switch dtype {
        case "F32": return .float32
        case "F16": return .float16
        case "BF16": return .bfloat16
        case "F64": return .float64
        case "I32": return .int32
        case "I64": return .int64
        default: return .other
        }
    }

    /// Bytes per element of the dtypes the safetensors spec defines; nil for unknown ones.
    private static func byteWidth(_ dtype: String) -> Int? {
        switch dtype {
        case "F64", "I64", "U64": return 8
        case "F32", "I32", "U32": return 4
        case "F16", "BF16", "I16", "U16": return 2
        case "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2": return 1
        default: return nil
        }
    }
}
