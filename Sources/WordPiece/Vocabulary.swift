import Foundation

/// A WordPiece vocabulary: token bytes <-> ids, loaded like `load_vocab` (bert/tokenization.py).
///
/// Tokens are keyed by their UTF-8 bytes, as Python `dict` keys `str` by code points: Swift `String`
/// equality is canonical equivalence and would merge NFC and NFD spellings. Immutable and `Sendable`.
public struct Vocabulary: Sendable {
    /// All token bytes, back to back.
    private let storage: [UInt8]
    /// Start of entry `e` in `storage` is `starts[e]`, its end `starts[e + 1]`.
    private let starts: [Int32]
    /// The id of each entry (its last line number, counted from 0).
    private let entryIds: [Int32]
    /// Open-addressing hash table of entry numbers; -1 is empty.
    private let slots: [Int32]
    /// Entry of each id, or -1 where a later duplicate line took the token over.
    private let entryOfId: [Int32]

    /// The id of `[UNK]`.
    public let unknownId: Int32
    /// The id of `[CLS]`.
    public let classId: Int32
    /// The id of `[SEP]`.
    public let separatorId: Int32

    /// Number of distinct tokens (`len(vocab)` in Python).
    public var count: Int { entryIds.count }

    /// Loads `vocab.txt`: one token per line, `str.strip()`ped, a repeated token keeps its last line's id.
    ///
    /// As TensorFlow's `GFile.readline` does, carriage returns are dropped wherever they occur.
    /// - Throws: `VocabularyError` naming the file when it is missing, unreadable, empty, not UTF-8,
    ///   or lacks `[CLS]`, `[SEP]` or `[UNK]`.
    public init(contentsOfFile path: String) throws(VocabularyError) {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "\(error)" : "no such file"
            throw .unreadable(path: path, reason: reason)
        }
        try self.init(bytes: [UInt8](data), path: path)
    }

    /// Builds a vocabulary from the bytes of a `vocab.txt`; `path` only names it in errors.
    public init(bytes: [UInt8], path: String = "<memory>") throws(VocabularyError) {
        var tokens: [[UInt8]] = []
        var line: [UInt8] = []
        var lineNumber = 0
        let properties = UnicodeProperties.shared
        func finishLine() throws(VocabularyError) {
            lineNumber += 1
            if line.allSatisfy({ $0 < 0x80 }) {
                // ASCII, as nearly every line of a BERT vocabulary: bytes are code points, so strip
                // the bytes (decoding each line to code points and back was a tenth of start-up).
                let first = line.firstIndex { !properties.isPythonWhitespace(UInt32($0)) }
                let last = line.lastIndex { !properties.isPythonWhitespace(UInt32($0)) }
                if let first, let last {
                    tokens.append(Array(line[first...last]))
                } else {
                    tokens.append([])
                }
            } else {
                guard let text = String(validating: line, as: UTF8.self) else {
                    throw .invalidUTF8(path: path, line: lineNumber)
                }
                tokens.append(PythonText.utf8(PythonText.strip(PythonText.scalars(text))))
            }
            line.removeAll(keepingCapacity: true)
        }
        var pendingLine = false
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\n"):
                try finishLine()
                pendingLine = false
            case UInt8(ascii: "\r"):
                continue
            default:
                line.append(byte)
                pendingLine = true
            }
        }
        if pendingLine {
            try finishLine()
        }
        guard !tokens.isEmpty else { throw .empty(path: path) }
        try self.init(tokens: tokens, path: path)
    }

    private init(tokens: [[UInt8]], path: String) throws(VocabularyError) {
        var capacity = 16
        while capacity < tokens.count * 2 { capacity <<= 1 }
        var slots = [Int32](repeating: -1, count: capacity)
        var storage: [UInt8] = []
        var starts: [Int32] = [0]
        var entryIds: [Int32] = []
        var entryOfId = [Int32](repeating: -1, count: tokens.count)
        storage.reserveCapacity(tokens.reduce(0) { $0 + $1.count })
        for (index, token) in tokens.enumerated() {
            var slot = Int(Self.hash(prefixed: false, token) & UInt64(capacity - 1))
            while true {
                let entry = slots[slot]
                if entry < 0 {
                    let newEntry = Int32(entryIds.count)
                    slots[slot] = newEntry
                    storage.append(contentsOf: token)
                    starts.append(Int32(storage.count))
                    entryIds.append(Int32(index))
                    entryOfId[index] = newEntry
                    break
                }
                let range = Int(starts[Int(entry)])..<Int(starts[Int(entry) + 1])
                if storage[range].elementsEqual(token) {
                    // Python: `vocab[token] = index` again; the earlier id leaves `inv_vocab`.
                    entryOfId[Int(entryIds[Int(entry)])] = -1
                    entryIds[Int(entry)] = Int32(index)
                    entryOfId[index] = entry
                    break
                }
                slot = (slot + 1) & (capacity - 1)
            }
        }
        self.storage = storage
        self.starts = starts
        self.entryIds = entryIds
        self.slots = slots
        self.entryOfId = entryOfId
        func required(_ token: String) throws(VocabularyError) -> Int32 {
            guard let id = Self.find(prefixed: false, Array(token.utf8), storage, starts, entryIds, slots) else {
                throw .missingSpecialToken(path: path, token: token)
            }
            return id
        }
        unknownId = try required("[UNK]")
        classId = try required("[CLS]")
        separatorId = try required("[SEP]")
    }

    /// The id of a token given as UTF-8 bytes (`vocab[token]`), or nil if it is not in the vocabulary.
    public func id(of token: some Collection<UInt8>) -> Int32? {
        let bytes = Array(token)
        return bytes.withUnsafeBufferPointer { id(prefixed: false, $0) }
    }

    /// The id of a token (`vocab[token]`), compared code point by code point.
    public func id(of token: String) -> Int32? {
        id(of: token.utf8)
    }

    /// The token of an id (`inv_vocab[id]`), or nil when no token has that id.
    public func token(at id: Int32) -> String? {
        guard let bytes = tokenBytes(at: id) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The UTF-8 bytes of the token of an id, or nil when no token has that id.
    public func tokenBytes(at id: Int32) -> ArraySlice<UInt8>? {
        guard id >= 0, Int(id) < entryOfId.count else { return nil }
        let entry = Int(entryOfId[Int(id)])
        guard entry >= 0 else { return nil }
        return storage[Int(starts[entry])..<Int(starts[entry + 1])]
    }

    /// Looks up `"##" + bytes` when `prefixed`, else `bytes`, without building the string.
    func id(prefixed: Bool, _ bytes: UnsafeBufferPointer<UInt8>) -> Int32? {
        Self.find(prefixed: prefixed, bytes, storage, starts, entryIds, slots)
    }

    private static func find(
        prefixed: Bool, _ bytes: some Collection<UInt8>,
        _ storage: [UInt8], _ starts: [Int32], _ entryIds: [Int32], _ slots: [Int32]
    ) -> Int32? {
        let mask = slots.count - 1
        var slot = Int(hash(prefixed: prefixed, bytes) & UInt64(mask))
        let length = bytes.count + (prefixed ? 2 : 0)
        while true {
            let entry = Int(slots[slot])
            if entry < 0 { return nil }
            let start = Int(starts[entry])
            let end = Int(starts[entry + 1])
            if end - start == length {
                var body = start
                var same = true
                if prefixed {
                    same = storage[start] == UInt8(ascii: "#") && storage[start + 1] == UInt8(ascii: "#")
                    body += 2
                }
                if same && storage[body..<end].elementsEqual(bytes) {
                    return entryIds[entry]
                }
            }
            slot = (slot + 1) & mask
        }
    }

    /// FNV-1a over `"##" + bytes` (when `prefixed`) or `bytes`.
    @inline(__always)
    private static func hash(prefixed: Bool, _ bytes: some Collection<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        if prefixed {
            hash = (hash ^ UInt64(UInt8(ascii: "#"))) &* 0x100_0000_01b3
            hash = (hash ^ UInt64(UInt8(ascii: "#"))) &* 0x100_0000_01b3
        }
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        // Final avalanche so that the low bits used as the slot depend on every byte.
        hash ^= hash >> 29
        hash = hash &* 0xbf58_476d_1ce4_e5b9
        hash ^= hash >> 32
        return hash
    }
}
