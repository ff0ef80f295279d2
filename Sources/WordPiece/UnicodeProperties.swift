/// The Unicode facts `bert/tokenization.py` reads from Python 3.7 (`unicodedata`, `str.lower`, `str.isspace`),
/// decoded once from `UnicodeTables` into two-level lookup tables.
///
/// Immutable after construction; `shared` is safe to use from any thread.
struct UnicodeProperties: Sendable {
    /// The process-wide tables (built lazily, once, on first use).
    static let shared = UnicodeProperties()

    /// Flag bits of `flags(of:)`.
    enum Flag {
        static let classMask: UInt8 = 0x07
        static let whitespace: UInt8 = 0x08
        static let cased: UInt8 = 0x10
        static let caseIgnorable: UInt8 = 0x20
        static let hasLowercase: UInt8 = 0x40
        static let hasDecomposition: UInt8 = 0x80
    }

    /// The coarse general-category classes the tokenizer distinguishes.
    enum CategoryClass: UInt8 {
        case other = 0, control = 1, spaceSeparator = 2, punctuation = 3, nonspacingMark = 4
    }

    private static let blockShift = 8
    private static let blockSize = 1 << blockShift
    private static let scalarLimit = 0x110000

    private let flagIndex: [UInt16]
    private let flagBlocks: [UInt8]
    private let cccIndex: [UInt16]
    private let cccBlocks: [UInt8]
    /// Full lowercase mapping, for the code points with `Flag.hasLowercase`.
    private let lowercase: [UInt32: [UInt32]]
    /// Full canonical decomposition, for the code points with `Flag.hasDecomposition` (Hangul excluded).
    private let decomposition: [UInt32: [UInt32]]

    private init() {
        var flags = [UInt8](repeating: 0, count: Self.scalarLimit)
        var ccc = [UInt8](repeating: 0, count: Self.scalarLimit)
        Self.fillRanges(UnicodeTables.categoryClass, into: &flags) { old, value in old | value }
        Self.fillRanges(UnicodeTables.sigmaContext, into: &flags) { old, value in
            old | (value == 1 ? Flag.cased : value == 2 ? Flag.caseIgnorable : 0)
        }
        Self.fillRanges(UnicodeTables.combiningClass, into: &ccc) { _, value in value }
        for record in Self.records(UnicodeTables.whitespace) {
            flags[Int(record[0])] |= Flag.whitespace
        }
        var lowercase: [UInt32: [UInt32]] = [:]
        for record in Self.records(UnicodeTables.lowercase) {
            lowercase[record[0]] = Array(record.dropFirst())
            flags[Int(record[0])] |= Flag.hasLowercase
        }
        var decomposition: [UInt32: [UInt32]] = [:]
        for record in Self.records(UnicodeTables.decomposition) {
            decomposition[record[0]] = Array(record.dropFirst())
            flags[Int(record[0])] |= Flag.hasDecomposition
        }
        for scalar in Hangul.syllableBase..<(Hangul.syllableBase + Hangul.syllableCount) {
            flags[Int(scalar)] |= Flag.hasDecomposition
        }
        (flagIndex, flagBlocks) = Self.compress(flags)
        (cccIndex, cccBlocks) = Self.compress(ccc)
        self.lowercase = lowercase
        self.decomposition = decomposition
    }

    /// All flag bits of a code point.
    @inline(__always)
    func flags(of scalar: UInt32) -> UInt8 {
        guard scalar < Self.scalarLimit else { return CategoryClass.control.rawValue }
        let block = Int(flagIndex[Int(scalar >> UInt32(Self.blockShift))])
        return flagBlocks[block << Self.blockShift | Int(scalar & UInt32(Self.blockSize - 1))]
    }

    /// `unicodedata.combining`: the canonical combining class.
    @inline(__always)
    func combiningClass(of scalar: UInt32) -> UInt8 {
        guard scalar < Self.scalarLimit else { return 0 }
        let block = Int(cccIndex[Int(scalar >> UInt32(Self.blockShift))])
        return cccBlocks[block << Self.blockShift | Int(scalar & UInt32(Self.blockSize - 1))]
    }

    /// The coarse general-category class.
    @inline(__always)
    func categoryClass(of scalar: UInt32) -> CategoryClass {
        CategoryClass(rawValue: flags(of: scalar) & Flag.classMask) ?? .other
    }

    /// `str.isspace()` for one code point.
    @inline(__always)
    func isPythonWhitespace(_ scalar: UInt32) -> Bool {
        flags(of: scalar) & Flag.whitespace != 0
    }

    /// Appends `chr(scalar).lower()` (context-free part of Python's `str.lower`).
    @inline(__always)
    func appendLowercase(of scalar: UInt32, to output: inout [UInt32]) {
        if flags(of: scalar) & Flag.hasLowercase != 0, let mapped = lowercase[scalar] {
            output.append(contentsOf: mapped)
        } else {
            output.append(scalar)
        }
    }

    /// Appends the full canonical decomposition of one code point (not yet canonically ordered).
    @inline(__always)
    func appendDecomposition(of scalar: UInt32, to output: inout [UInt32]) {
        guard flags(of: scalar) & Flag.hasDecomposition != 0 else {
            output.append(scalar)
            return
        }
        if scalar >= Hangul.syllableBase && scalar < Hangul.syllableBase + Hangul.syllableCount {
            Hangul.appendDecomposition(of: scalar, to: &output)
        } else if let mapped = decomposition[scalar] {
            output.append(contentsOf: mapped)
        } else {
            output.append(scalar)
        }
    }

    // MARK: - Decoding the generated tables

    /// Splits a generated table into records of hexadecimal fields.
    private static func records(_ table: String) -> [[UInt32]] {
        var result: [[UInt32]] = []
        var record: [UInt32] = []
        var value: UInt32 = 0
        var inNumber = false
        for byte in table.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                value = value << 4 | UInt32(byte - UInt8(ascii: "0"))
                inNumber = true
            case UInt8(ascii: "A")...UInt8(ascii: "F"):
                value = value << 4 | UInt32(byte - UInt8(ascii: "A") + 10)
                inNumber = true
            case UInt8(ascii: "."):
                record.append(value)
                value = 0
                inNumber = false
            default:
                if inNumber {
                    record.append(value)
                    result.append(record)
                }
                record = []
                value = 0
                inNumber = false
            }
        }
        if inNumber {
            record.append(value)
            result.append(record)
        }
        return result
    }

    /// Applies `start.value` range records: each value holds from its start to the next record's start.
    private static func fillRanges(
        _ table: String, into values: inout [UInt8], combine: (UInt8, UInt8) -> UInt8
    ) {
        let ranges = records(table)
        for (position, record) in ranges.enumerated() where record.count == 2 {
            let start = Int(record[0])
            let end = position + 1 < ranges.count ? Int(ranges[position + 1][0]) : scalarLimit
            let value = UInt8(truncatingIfNeeded: record[1])
            guard value != 0, start < end, end <= scalarLimit else { continue }
            for scalar in start..<end {
                values[scalar] = combine(values[scalar], value)
            }
        }
    }

    /// Two-level table: identical 256-entry blocks are stored once.
    private static func compress(_ values: [UInt8]) -> ([UInt16], [UInt8]) {
        var index: [UInt16] = []
        var blocks: [UInt8] = []
        var seen: [Block: UInt16] = [:]
        index.reserveCapacity(values.count / blockSize)
        for start in stride(from: 0, to: values.count, by: blockSize) {
            let block = Block(bytes: values[start..<(start + blockSize)])
            if let existing = seen[block] {
                index.append(existing)
            } else {
                let number = UInt16(blocks.count / blockSize)
                seen[block] = number
                blocks.append(contentsOf: block.bytes)
                index.append(number)
            }
        }
        return (index, blocks)
    }

    /// A block as a dictionary key hashed as one run of bytes: `ArraySlice<UInt8>`'s own hashing
    /// feeds the hasher byte by byte, which made these tables a tenth of the server's start-up.
    private struct Block: Hashable {
        let bytes: ArraySlice<UInt8>

        func hash(into hasher: inout Hasher) {
            bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
        }

        static func == (a: Block, b: Block) -> Bool {
            a.bytes.elementsEqual(b.bytes)
        }
    }
}

/// Hangul syllable decomposition (Unicode §3.12), which `unicodedata` computes rather than tabulates.
enum Hangul {
    static let syllableBase: UInt32 = 0xAC00
    static let syllableCount: UInt32 = 11172
    private static let leadingBase: UInt32 = 0x1100
    private static let vowelBase: UInt32 = 0x1161
    private static let trailingBase: UInt32 = 0x11A7
    private static let vowelCount: UInt32 = 21
    private static let trailingCount: UInt32 = 28

    static func appendDecomposition(of scalar: UInt32, to output: inout [UInt32]) {
        let index = scalar - syllableBase
        let perLeading = vowelCount * trailingCount
        output.append(leadingBase + index / perLeading)
        output.append(vowelBase + (index % perLeading) / trailingCount)
        let trailing = index % trailingCount
        if trailing != 0 {
            output.append(trailingBase + trailing)
        }
    }
}
