/// CRC-64/NVME (reflected polynomial 0x9A6C9329AC4BC9B5, init and xorout all
/// ones), S3's `x-amz-checksum-crc64nvme`. Table-driven, slicing-by-8.
public struct CRC64NVME: Sendable, Hashable {
    @usableFromInline static let poly: UInt64 = 0x9A6C_9329_AC4B_C9B5

    /// The finished checksum of everything fed so far.
    public private(set) var value: UInt64

    public init() { value = 0 }

    /// Continues from a finished checksum (e.g. one stored earlier).
    public init(value: UInt64) { self.value = value }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        value = ~CRC64NVME.process(~value, bytes)
    }

    public mutating func update(_ bytes: some Sequence<UInt8>) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { update(UnsafeRawBufferPointer($0)) }
        if done == nil { Array(bytes).withUnsafeBytes { update($0) } }
    }

    /// Big-endian bytes of `value` (S3 sends these base64-encoded).
    public var bytes: [UInt8] { bigEndianBytes(value) }

    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var crc = CRC64NVME()
        crc.update(bytes)
        return crc.value
    }

    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var crc = CRC64NVME()
        crc.update(bytes)
        return crc.value
    }

    /// The CRC-64/NVME of A || B given crc(A), crc(B) and the length of B.
    public static func combine(_ crcA: UInt64, _ crcB: UInt64, lengthB: Int) -> UInt64 {
        crc64nvmeGF2.combine(crcA, crcB, lengthB: lengthB)
    }

    /// Runs the raw (un-inverted) register over `bytes`.
    static func process(_ register: UInt64, _ bytes: UnsafeRawBufferPointer) -> UInt64 {
        guard var p = bytes.baseAddress else { return register }
        var n = bytes.count
        var crc = register
        crc64nvmeTable.withUnsafeBufferPointer { t in
            while n >= 8 {
                let x = UInt64(littleEndian: p.loadUnaligned(as: UInt64.self)) ^ crc
                let a: UInt64 = t[1792 + Int(x & 0xff)] ^ t[1536 + Int((x &>> 8) & 0xff)]
                let b: UInt64 = t[1280 + Int((x &>> 16) & 0xff)] ^ t[1024 + Int((x &>> 24) & 0xff)]
                let c: UInt64 = t[768 + Int((x &>> 32) & 0xff)] ^ t[512 + Int((x &>> 40) & 0xff)]
                let d: UInt64 = t[256 + Int((x &>> 48) & 0xff)] ^ t[Int(x &>> 56)]
                crc = (a ^ b) ^ (c ^ d)
                p += 8
                n &-= 8
            }
            while n > 0 {
                let byte = p.load(as: UInt8.self)
                crc = t[Int((crc ^ UInt64(byte)) & 0xff)] ^ (crc &>> 8)
                p += 1
                n &-= 1
            }
        }
        return crc
    }
}

private let crc64nvmeTable: [UInt64] = makeSlicingBy8Table(poly: CRC64NVME.poly)
private let crc64nvmeGF2 = ReflectedGF2<UInt64>(poly: CRC64NVME.poly)
