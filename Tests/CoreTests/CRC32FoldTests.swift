import CCRC32
import Foundation
import Testing
@testable import Core

// CRC-32 by carry-less multiplication (Sources/CCRC32) against zlib and against the textbook bit-at-a-time
// definition. "cross-checked" values were computed with Python's zlib.crc32 over the same bytes.

/// Reflected CRC-32 (polynomial 0xEDB88320, init and xorout all ones), one bit at a time, from `finished`.
private func textbookCRC32(_ data: ArraySlice<UInt8>, from finished: UInt32 = 0) -> UInt32 {
    var crc = ~finished
    for byte in data {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
}

private func zlibCRC32(_ data: ArraySlice<UInt8>, from finished: UInt32 = 0) -> UInt32 {
    var value = finished
    data.withUnsafeBytes { CRC32.zlibUpdate(&value, $0) }
    return value
}

@Suite struct CRC32FoldTests {
    @Test func detectionAgreesWithTheKernel() throws {
        #if arch(x86_64) && os(Linux)
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let flags = Set(cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") }?.split(separator: " ").map(String.init) ?? [])
        #expect(CRC32.usesCarrylessMultiplication == (flags.contains("pclmulqdq") && flags.contains("sse4_1")))
        #else
        #expect(!CRC32.usesCarrylessMultiplication)
        #endif
    }

    @Test func publishedAndCrossCheckedValues() {
        // Published: the CRC catalogue's check value, and Wikipedia's example.
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
        // Cross-checked, long enough to be folded (64 bytes and more), odd lengths leave a tail for zlib.
        #expect(CRC32.checksum(pseudoRandomBytes(64, seed: 3)) == 0x3D58_EB67)
        #expect(CRC32.checksum(pseudoRandomBytes(4096, seed: 4)) == 0x8269_5BE7)
        #expect(CRC32.checksum(pseudoRandomBytes(100_003, seed: 7)) == 0xF642_636E)
        #expect(CRC32.checksum(pseudoRandomBytes(1 << 20, seed: 1)) == 0x0F20_6EBA)
        #expect(CRC32.checksum([UInt8](repeating: 0, count: 32)) == 0x190A_55AD)
    }

    @Test func foldingEqualsZlibAndTheTextbookDefinition() throws {
        try #require(CRC32.usesCarrylessMultiplication, "this CPU has no PCLMULQDQ: only zlib runs")
        let data = pseudoRandomBytes(4096 + 15, seed: 42)
        // Every length the folding takes (64, 80, ... multiples of 16), at every alignment of a 16-byte load, from
        // several starting values.
        for length in stride(from: 64, through: 1024, by: 16) {
            for offset in [0, 1, 3, 8, 15] {
                for start: UInt32 in [0, 0xFFFF_FFFF, 0x1234_5678] {
                    let slice = data[offset..<(offset + length)]
                    let folded = slice.withUnsafeBytes { raw in
                        ~cloudless_crc32_fold(~start, raw.baseAddress!.assumingMemoryBound(to: UInt8.self), length)
                    }
                    #expect(folded == zlibCRC32(slice, from: start), "length \(length) offset \(offset)")
                }
            }
        }
        for length in [64, 80, 208, 4096] {
            let slice = data[5..<(5 + length)]
            let folded = slice.withUnsafeBytes { ~cloudless_crc32_fold(~0x0, $0.baseAddress!.assumingMemoryBound(to: UInt8.self), length) }
            #expect(folded == textbookCRC32(slice))
        }
    }

    @Test(arguments: [0, 1, 15, 16, 63, 64, 65, 79, 80, 127, 128, 129, 1000, 4111])
    func updateOfAnyLengthEqualsZlib(length: Int) {
        let data = pseudoRandomBytes(length, seed: UInt64(length) + 1)
        #expect(CRC32.checksum(data) == zlibCRC32(data[...]))
        #expect(CRC32.checksum(data) == textbookCRC32(data[...]))
        // Continuing from a stored value.
        var crc = CRC32(value: 0xDEAD_BEEF)
        crc.update(data)
        #expect(crc.value == zlibCRC32(data[...], from: 0xDEAD_BEEF))
    }

    @Test func fragmentsOfAnySizeGiveTheOneShotValue() {
        let data = pseudoRandomBytes(300_001, seed: 9)
        let whole = CRC32.checksum(data)
        for piece in [1, 17, 63, 64, 65, 4096, 65_536 + 7] {
            var crc = CRC32()
            var at = 0
            while at < data.count {
                let end = min(data.count, at + piece)
                data[at..<end].withUnsafeBytes { crc.update($0) }
                at = end
            }
            #expect(crc.value == whole, "pieces of \(piece)")
        }
    }
}
