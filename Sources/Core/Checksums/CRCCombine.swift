// Shared machinery for the reflected CRCs: slicing-by-8 table generation and
// CRC combination.
//
// Combination follows zlib's current crc32_combine (1.2.12+): arithmetic on
// polynomials over GF(2) modulo the CRC polynomial, in the reflected bit order
// the CRC register uses. For CRCs whose init and xorout are equal (all ones
// for CRC-32, CRC-32C and CRC-64/NVME):
//
//     crc(A || B) = (crc(A) * x^(8 * len(B)) mod P) xor crc(B)
//
// x^(8n) is built from a table of x^(2^k), so a combine costs
// O(width * log n) word operations instead of the O(width^2 * log n) of
// zlib's older GF(2) matrix-squaring method.

/// Polynomial arithmetic modulo a reflected CRC polynomial.
@usableFromInline
struct ReflectedGF2<Word: FixedWidthInteger & UnsignedInteger & Sendable>: Sendable {
    /// The reflected polynomial (e.g. 0xEDB88320 for CRC-32).
    let poly: Word
    /// x2n[k] = x^(2^k) mod P. 67 entries cover any non-negative Int
    /// byte count: k runs from 3 (one byte = x^8) up to 3 + 63.
    let x2n: [Word]

    /// x^0 = 1 in reflected order: the top bit.
    static var one: Word { Word(1) << (Word.bitWidth - 1) }

    init(poly: Word) {
        self.poly = poly
        var table: [Word] = []
        table.reserveCapacity(67)
        var p = Self.one >> 1 // x^1
        table.append(p)
        for _ in 1..<67 {
            p = Self.multiply(p, p, poly: poly)
            table.append(p)
        }
        self.x2n = table
    }

    /// a * b mod P (both in reflected representation).
    @inline(__always)
    static func multiply(_ a: Word, _ b: Word, poly: Word) -> Word {
        guard a != 0 else { return 0 }
        var b = b
        var m = one
        var product: Word = 0
        while true {
            if a & m != 0 {
                product ^= b
                if a & (m &- 1) == 0 { break }
            }
            m >>= 1
            b = (b & 1) != 0 ? (b >> 1) ^ poly : b >> 1
        }
        return product
    }

    /// x^(8 * byteCount) mod P.
    func xPow8n(_ byteCount: Int) -> Word {
        precondition(byteCount >= 0, "negative length")
        var n = UInt64(byteCount)
        var k = 3
        var p = Self.one
        while n != 0 {
            if n & 1 != 0 { p = Self.multiply(x2n[k], p, poly: poly) }
            n >>= 1
            k += 1
        }
        return p
    }

    /// The CRC of A || B from crc(A), crc(B) and len(B).
    func combine(_ crcA: Word, _ crcB: Word, lengthB: Int) -> Word {
        Self.multiply(xPow8n(lengthB), crcA, poly: poly) ^ crcB
    }
}

/// Slicing-by-8 tables for a reflected CRC, flattened: entry `k * 256 + i` is
/// the contribution of byte value `i` that sits `k` bytes before the end of an
/// 8-byte block.
@usableFromInline
func makeSlicingBy8Table<Word: FixedWidthInteger & UnsignedInteger>(poly: Word) -> [Word] {
    var table = [Word](repeating: 0, count: 8 * 256)
    for i in 0..<256 {
        var crc = Word(i)
        for _ in 0..<8 {
            crc = (crc & 1) != 0 ? (crc >> 1) ^ poly : crc >> 1
        }
        table[i] = crc
    }
    for k in 1..<8 {
        for i in 0..<256 {
            let previous = table[(k - 1) * 256 + i]
            table[k * 256 + i] = (previous >> 8) ^ table[Int(truncatingIfNeeded: previous & 0xff)]
        }
    }
    return table
}

/// Big-endian bytes of a CRC value (the form S3 base64-encodes).
@inlinable
func bigEndianBytes<Word: FixedWidthInteger>(_ value: Word) -> [UInt8] {
    let count = Word.bitWidth / 8
    return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
        for i in 0..<count {
            buffer[i] = UInt8(truncatingIfNeeded: value >> ((count - 1 - i) * 8))
        }
        initialized = count
    }
}

/// Parses big-endian bytes back into a CRC value; nil on a length mismatch.
@inlinable
func fromBigEndianBytes<Word: FixedWidthInteger>(_ bytes: [UInt8], as: Word.Type) -> Word? {
    guard bytes.count == Word.bitWidth / 8 else { return nil }
    var value: Word = 0
    for byte in bytes { value = value << 8 | Word(byte) }
    return value
}
