import CCRC32
import CCloudless

/// CRC-32 (ISO-HDLC; zlib's crc32), S3's `x-amz-checksum-crc32` (boto3's default checksum). Runs of 64 bytes and
/// more go through carry-less multiplication (CCRC32) when the CPU has it, the rest through zlib.
public struct CRC32: Sendable, Hashable {
    /// Whether `update` folds with PCLMULQDQ (checked once, with cpuid).
    public static let usesCarrylessMultiplication = cloudless_crc32_fold_available() != 0

    /// The finished checksum of everything fed so far.
    public private(set) var value: UInt32

    public init() { value = 0 }

    /// Continues from a finished checksum (e.g. one stored earlier).
    public init(value: UInt32) { self.value = value }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        var start = base.assumingMemoryBound(to: UInt8.self)
        var count = bytes.count
        if count >= 64 && CRC32.usesCarrylessMultiplication {
            let folded = count & ~15
            value = ~cloudless_crc32_fold(~value, start, folded)
            start += folded
            count -= folded
        }
        CRC32.zlibUpdate(&value, UnsafeRawBufferPointer(start: start, count: count))
    }

    /// zlib's table-driven CRC-32 alone (the fallback; also what the tests compare the folding with).
    public static func zlibUpdate(_ value: inout UInt32, _ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        value = UInt32(truncatingIfNeeded: crc32_z(UInt(value), base.assumingMemoryBound(to: UInt8.self), bytes.count))
    }

    public mutating func update(_ bytes: some Sequence<UInt8>) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { update(UnsafeRawBufferPointer($0)) }
        if done == nil { Array(bytes).withUnsafeBytes { update($0) } }
    }

    /// Big-endian bytes of `value` (S3 sends these base64-encoded).
    public var bytes: [UInt8] { bigEndianBytes(value) }

    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc = CRC32()
        crc.update(bytes)
        return crc.value
    }

    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var crc = CRC32()
        crc.update(bytes)
        return crc.value
    }

    /// The CRC-32 of A || B given crc(A), crc(B) and the length of B (zlib's crc32_combine).
    public static func combine(_ crcA: UInt32, _ crcB: UInt32, lengthB: Int) -> UInt32 {
        precondition(lengthB >= 0, "negative length")
        return UInt32(truncatingIfNeeded: crc32_combine(UInt(crcA), UInt(crcB), lengthB))
    }
}
