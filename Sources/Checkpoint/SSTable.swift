/// Reads every key/value of a LevelDB-format table, the format of a TensorFlow bundle's
/// `.index` file (tensorflow/core/lib/io/table.cc, format.cc, block.cc — LevelDB's
/// `doc/table_format.md`).
///
/// A table ends with a 48-byte footer: the metaindex and index block handles (two varints each),
/// zero padding, and the 8-byte magic `0xdb4775248b80fb57`. The index block maps separator keys to
/// data block handles. Every block is followed by a 5-byte trailer: the compression type (0 = none;
/// anything else is rejected here) and the masked CRC-32C of the block contents plus that byte.
/// Inside a block, entries are `varint shared, varint nonShared, varint valueLength, key delta,
/// value`, followed by `uint32` restart offsets and their `uint32` count.
struct SSTable {
    static let magic: UInt64 = 0xdb47_7524_8b80_fb57
    static let footerLength = 48
    static let trailerLength = 5

    let path: String
    let bytes: UnsafeRawBufferPointer

    /// Calls `body` with each key and value, in table order. `body`'s buffers are views into the file.
    /// - Returns: the number of data blocks read.
    @discardableResult
    func forEach(_ body: (_ key: [UInt8], _ value: UnsafeRawBufferPointer) throws(CheckpointError) -> Void) throws(CheckpointError) -> Int {
        guard bytes.count >= Self.footerLength else {
            throw .truncated(path: path, tensor: "", need: Self.footerLength, have: bytes.count)
        }
        let footerStart = bytes.count - Self.footerLength
        let magic = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: bytes.count - 8, as: UInt64.self))
        guard magic == Self.magic else {
            throw .malformed(path: path, detail: "table footer magic is 0x\(String(magic, radix: 16)), expected 0x\(String(Self.magic, radix: 16)) (not a bundle index, or truncated)")
        }
        var footer = ProtoReader(UnsafeRawBufferPointer(rebasing: bytes[footerStart..<(bytes.count - 8)]))
        let indexHandle: (offset: UInt64, size: UInt64)
        do throws(ProtoReader.Failure) {
            _ = (try footer.varint(), try footer.varint()) // metaindex: unused by bundles
            indexHandle = (try footer.varint(), try footer.varint())
        } catch {
            throw .malformed(path: path, detail: "table footer: \(error.detail)")
        }
        let index = try block(at: indexHandle, what: "index block")
        var dataBlocks = 0
        try Self.entries(of: index, path: path, what: "index block") { (_, handleBytes) throws(CheckpointError) in
            var r = ProtoReader(handleBytes)
            let handle: (offset: UInt64, size: UInt64)
            do throws(ProtoReader.Failure) {
                handle = (try r.varint(), try r.varint())
            } catch {
                throw .malformed(path: path, detail: "index block handle: \(error.detail)")
            }
            let data = try block(at: handle, what: "data block at \(handle.offset)")
            dataBlocks += 1
            try Self.entries(of: data, path: path, what: "data block at \(handle.offset)", body)
        }
        return dataBlocks
    }

    /// The contents of the block at `handle`, after checking its trailer.
    private func block(at handle: (offset: UInt64, size: UInt64), what: String) throws(CheckpointError) -> UnsafeRawBufferPointer {
        let limit = UInt64(bytes.count - Self.footerLength)
        guard handle.offset <= limit, handle.size <= limit - handle.offset,
              UInt64(Self.trailerLength) <= limit - handle.offset - handle.size else {
            let need = handle.offset.addingReportingOverflow(handle.size).partialValue &+ UInt64(Self.trailerLength + Self.footerLength)
            throw .truncated(path: path, tensor: "", need: Int(clamping: need), have: bytes.count)
        }
        let start = Int(handle.offset), size = Int(handle.size)
        let contents = UnsafeRawBufferPointer(rebasing: bytes[start..<(start + size)])
        let type = bytes[start + size]
        let stored = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: start + size + 1, as: UInt32.self))
        let actual = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[start..<(start + size + 1)]))
        guard CRC32C.unmask(stored) == actual else {
            throw .checksumMismatch(path: path, tensor: "", expected: CRC32C.unmask(stored), actual: actual)
        }
        guard type == 0 else { throw .unsupportedCompression(path: path, kind: Int(type)) }
        return contents
    }

    /// Decodes the prefix-compressed entries of one block.
    private static func entries(
        of block: UnsafeRawBufferPointer, path: String, what: String,
        _ body: (_ key: [UInt8], _ value: UnsafeRawBufferPointer) throws(CheckpointError) -> Void
    ) throws(CheckpointError) {
        guard block.count >= 4 else { throw .malformed(path: path, detail: "\(what) is \(block.count) bytes, too short") }
        let restarts = Int(UInt32(littleEndian: block.loadUnaligned(fromByteOffset: block.count - 4, as: UInt32.self)))
        let (restartBytes, o) = restarts.multipliedReportingOverflow(by: 4)
        guard !o, restartBytes <= block.count - 4 else {
            throw .malformed(path: path, detail: "\(what) claims \(restarts) restart points")
        }
        let entriesEnd = block.count - 4 - restartBytes
        var r = ProtoReader(UnsafeRawBufferPointer(rebasing: block[0..<entriesEnd]))
        var key: [UInt8] = []
        while !r.isAtEnd {
            let value: UnsafeRawBufferPointer
            do throws(ProtoReader.Failure) {
                let shared = try r.varint(), nonShared = try r.varint(), valueLength = try r.varint()
                guard shared <= UInt64(key.count), nonShared <= UInt64(entriesEnd - r.position) else {
                    throw ProtoReader.Failure(detail: "entry at byte \(r.position) has a bad key length")
                }
                let keyStart = r.position
                let keyEnd = keyStart + Int(nonShared)
                guard valueLength <= UInt64(entriesEnd - keyEnd) else {
                    throw ProtoReader.Failure(detail: "entry at byte \(keyStart) has a value past the block end")
                }
                key.removeSubrange(Int(shared)...)
                key.append(contentsOf: UnsafeRawBufferPointer(rebasing: block[keyStart..<keyEnd]))
                value = UnsafeRawBufferPointer(rebasing: block[keyEnd..<(keyEnd + Int(valueLength))])
                try r.skipBytes(Int(nonShared) + Int(valueLength))
            } catch {
                throw .malformed(path: path, detail: "\(what): \(error.detail)")
            }
            try body(key, value)
        }
    }
}
