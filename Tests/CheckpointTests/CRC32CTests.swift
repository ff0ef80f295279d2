import Testing
@testable import Checkpoint

/// Published CRC-32C check values (RFC 3720 appendix B.4 and the common "123456789" check).
@Suite struct CRC32CTests {
    static func crc(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { CRC32C.checksum($0) }
    }

    @Test func checkValue() {
        #expect(Self.crc(Array("123456789".utf8)) == 0xE306_9283)
    }

    @Test func rfc3720Vectors() {
        #expect(Self.crc([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(Self.crc([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(Self.crc((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(Self.crc((0..<32).map { UInt8(31 - $0) }) == 0x113F_DB5C)
    }

    @Test func emptyInputAndIncrementalUpdate() {
        #expect(Self.crc([]) == 0)
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }
        let whole = Self.crc(bytes)
        for split in [0, 1, 7, 8, 9, 500, 999, 1000] {
            let first = Self.crc(Array(bytes[..<split]))
            let both = Array(bytes[split...]).withUnsafeBytes { CRC32C.checksum($0, extending: first) }
            #expect(both == whole, "split at \(split)")
        }
    }

    /// The CPU instruction (where there is one) against the tables: every length up to 64 at
    /// every alignment up to 8, and continued checksums.
    @Test func instructionAgreesWithTables() {
        let bytes = (0..<200).map { UInt8(truncatingIfNeeded: $0 &* 73 &+ 11) }
        bytes.withUnsafeBytes { all in
            for start in 0..<8 {
                for length in 0...64 {
                    let slice = UnsafeRawBufferPointer(rebasing: all[start..<(start + length)])
                    #expect(CRC32C.checksum(slice, extending: 0x1234_5678) == CRC32C.tableChecksum(slice, extending: 0x1234_5678))
                    #expect(CRC32C.checksum(slice) == CRC32C.tableChecksum(slice))
                }
            }
        }
        #if arch(x86_64)
        #expect(CRC32C.usesHardware, "every x86-64 CPU that runs this server has SSE4.2")
        #endif
    }

    @Test func maskRoundTrips() {
        for value: UInt32 in [0, 1, 0xE306_9283, 0xFFFF_FFFF, 0x8000_0000] {
            #expect(CRC32C.unmask(CRC32C.mask(value)) == value)
        }
        // leveldb crc32c_test: Mask(crc) != crc and Mask(Mask(crc)) != crc.
        let c = Self.crc(Array("foo".utf8))
        #expect(CRC32C.mask(c) != c)
        #expect(CRC32C.mask(CRC32C.mask(c)) != c)
    }
}
