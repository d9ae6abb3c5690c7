/// CRC-32C (Castagnoli; reflected polynomial 0x82F63B78, init and xorout all
/// ones), S3's `x-amz-checksum-crc32c`. Table-driven, slicing-by-8.
public struct CRC32C: Sendable, Hashable {
    @usableFromInline static let poly: UInt32 = 0x82F6_3B78

    /// The finished checksum of everything fed so far.
    public private(set) var value: UInt32

    public init() { value = 0 }

    /// Continues from a finished checksum (e.g. one stored earlier).
    public init(value: UInt32) { self.value = value }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        value = ~CRC32C.process(~value, bytes)
    }

    public mutating func update(_ bytes: some Sequence<UInt8>) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { update(UnsafeRawBufferPointer($0)) }
        if done == nil { Array(bytes).withUnsafeBytes { update($0) } }
    }

    /// Big-endian bytes of `value` (S3 sends these base64-encoded).
    public var bytes: [UInt8] { bigEndianBytes(value) }

    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc = CRC32C()
        crc.update(bytes)
        return crc.value
    }

    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var crc = CRC32C()
        crc.update(bytes)
        return crc.value
    }

    /// The CRC-32C of A || B given crc(A), crc(B) and the length of B.
    public static func combine(_ crcA: UInt32, _ crcB: UInt32, lengthB: Int) -> UInt32 {
        crc32cGF2.combine(crcA, crcB, lengthB: lengthB)
    }

    /// Runs the raw (un-inverted) register over `bytes`.
    static func process(_ register: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard var p = bytes.baseAddress else { return register }
        var n = bytes.count
        var crc = register
        crc32cTable.withUnsafeBufferPointer { t in
            while n >= 8 {
                let word = UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))
                let one = UInt32(truncatingIfNeeded: word) ^ crc
                let two = UInt32(truncatingIfNeeded: word &>> 32)
                let a: UInt32 = t[1792 + Int(one & 0xff)] ^ t[1536 + Int((one &>> 8) & 0xff)]
                let b: UInt32 = t[1280 + Int((one &>> 16) & 0xff)] ^ t[1024 + Int(one &>> 24)]
                let c: UInt32 = t[768 + Int(two & 0xff)] ^ t[512 + Int((two &>> 8) & 0xff)]
                let d: UInt32 = t[256 + Int((two &>> 16) & 0xff)] ^ t[Int(two &>> 24)]
                crc = (a ^ b) ^ (c ^ d)
                p += 8
                n &-= 8
            }
            while n > 0 {
                let byte = p.load(as: UInt8.self)
                crc = t[Int((crc ^ UInt32(byte)) & 0xff)] ^ (crc &>> 8)
                p += 1
                n &-= 1
            }
        }
        return crc
    }
}

private let crc32cTable: [UInt32] = makeSlicingBy8Table(poly: CRC32C.poly)
private let crc32cGF2 = ReflectedGF2<UInt32>(poly: CRC32C.poly)
