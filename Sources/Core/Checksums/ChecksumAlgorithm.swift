#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The additional checksum algorithms of S3 (`x-amz-checksum-*`, `x-amz-sdk-checksum-algorithm`,
/// `ChecksumAlgorithm` in the API).
public enum ChecksumAlgorithm: String, Sendable, CaseIterable, Hashable {
    case crc32 = "CRC32"
    case crc32c = "CRC32C"
    case crc64nvme = "CRC64NVME"
    case sha1 = "SHA1"
    case sha256 = "SHA256"

    /// Parses an algorithm name case-insensitively ("crc32c", "CRC32C").
    public init?(name: String) {
        guard let algorithm = ChecksumAlgorithm(rawValue: name.uppercased()) else { return nil }
        self = algorithm
    }

    /// The header carrying this checksum, e.g. "x-amz-checksum-crc32".
    public var headerName: String { "x-amz-checksum-" + rawValue.lowercased() }

    /// Parses a checksum header name (case-insensitive), e.g. "x-amz-checksum-crc64nvme".
    public init?(headerName: String) {
        let lower = headerName.lowercased()
        let prefix = "x-amz-checksum-"
        guard lower.hasPrefix(prefix) else { return nil }
        self.init(name: String(lower.dropFirst(prefix.count)))
    }

    /// Length of the binary checksum in bytes.
    public var byteCount: Int {
        switch self {
        case .crc32, .crc32c: 4
        case .crc64nvme: 8
        case .sha1: 20
        case .sha256: 32
        }
    }

    /// True for the CRC algorithms, whose checksums can be combined across parts.
    public var isCRC: Bool {
        switch self {
        case .crc32, .crc32c, .crc64nvme: true
        case .sha1, .sha256: false
        }
    }

    /// One-shot checksum (binary, big-endian for CRCs).
    public func checksum(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var hasher = ChecksumHasher(self)
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// One-shot checksum of a byte sequence.
    public func checksum(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var hasher = ChecksumHasher(self)
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// Decodes the base64 value of a checksum header, checking its length for this algorithm.
    public func decode(base64 value: String) -> [UInt8]? {
        guard let bytes = ChecksumAlgorithm.base64Decode(value), bytes.count == byteCount else { return nil }
        return bytes
    }

    // MARK: Multipart

    /// The full-object checksum (S3 `ChecksumType: FULL_OBJECT`) of a multipart
    /// upload, combined from the parts' checksums and lengths without re-reading
    /// data. Nil for SHA algorithms or a checksum of the wrong length.
    public static func combineFullObject(
        algorithm: ChecksumAlgorithm, parts: [(checksum: [UInt8], length: Int)]
    ) -> [UInt8]? {
        switch algorithm {
        case .crc32:
            var crc: UInt32 = 0
            for part in parts {
                guard part.length >= 0, let value = fromBigEndianBytes(part.checksum, as: UInt32.self) else { return nil }
                crc = CRC32.combine(crc, value, lengthB: part.length)
            }
            return bigEndianBytes(crc)
        case .crc32c:
            var crc: UInt32 = 0
            for part in parts {
                guard part.length >= 0, let value = fromBigEndianBytes(part.checksum, as: UInt32.self) else { return nil }
                crc = CRC32C.combine(crc, value, lengthB: part.length)
            }
            return bigEndianBytes(crc)
        case .crc64nvme:
            var crc: UInt64 = 0
            for part in parts {
                guard part.length >= 0, let value = fromBigEndianBytes(part.checksum, as: UInt64.self) else { return nil }
                crc = CRC64NVME.combine(crc, value, lengthB: part.length)
            }
            return bigEndianBytes(crc)
        case .sha1, .sha256:
            return nil
        }
    }

    /// The composite checksum (S3 `ChecksumType: COMPOSITE`) of a multipart
    /// upload: the algorithm's checksum of the concatenated binary part
    /// checksums. S3 shows it as `base64 + "-" + partCount`, see `compositeString`.
    public static func composite(algorithm: ChecksumAlgorithm, partChecksums: [[UInt8]]) -> [UInt8] {
        var hasher = ChecksumHasher(algorithm)
        for part in partChecksums { hasher.update(part) }
        return hasher.finalize()
    }

    /// The composite checksum as S3 prints it, e.g. "Ytg/Ag==-2".
    public static func compositeString(algorithm: ChecksumAlgorithm, partChecksums: [[UInt8]]) -> String {
        base64(composite(algorithm: algorithm, partChecksums: partChecksums)) + "-\(partChecksums.count)"
    }

    // MARK: Base64

    /// Standard base64 with padding.
    public static func base64(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
    }

    /// Decodes standard base64; nil if malformed.
    public static func base64Decode(_ string: String) -> [UInt8]? {
        guard let data = Data(base64Encoded: string) else { return nil }
        return [UInt8](data)
    }
}

/// A uniform incremental hasher over any `ChecksumAlgorithm`.
public struct ChecksumHasher: Sendable {
    public let algorithm: ChecksumAlgorithm
    private var crc32 = CRC32()
    private var crc32c = CRC32C()
    private var crc64nvme = CRC64NVME()
    private var sha1: SHA1?
    private var sha256: SHA256?

    public init(_ algorithm: ChecksumAlgorithm) {
        self.init(algorithm: algorithm)
    }

    public init(algorithm: ChecksumAlgorithm) {
        self.algorithm = algorithm
        switch algorithm {
        case .sha1: sha1 = SHA1()
        case .sha256: sha256 = SHA256()
        case .crc32, .crc32c, .crc64nvme: break
        }
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        switch algorithm {
        case .crc32: crc32.update(bytes)
        case .crc32c: crc32c.update(bytes)
        case .crc64nvme: crc64nvme.update(bytes)
        case .sha1: sha1!.update(bytes)
        case .sha256: sha256!.update(bytes)
        }
    }

    public mutating func update(_ bytes: some Sequence<UInt8>) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { update(UnsafeRawBufferPointer($0)) }
        if done == nil { Array(bytes).withUnsafeBytes { update($0) } }
    }

    /// The binary checksum of everything fed so far (big-endian for CRCs).
    /// Does not disturb the state.
    public func finalize() -> [UInt8] {
        switch algorithm {
        case .crc32: crc32.bytes
        case .crc32c: crc32c.bytes
        case .crc64nvme: crc64nvme.bytes
        case .sha1: sha1!.finalize()
        case .sha256: sha256!.finalize()
        }
    }

    /// The checksum base64-encoded, as in the `x-amz-checksum-*` headers.
    public var base64: String { ChecksumAlgorithm.base64(finalize()) }
}
