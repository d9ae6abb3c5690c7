import CCloudless

// Message digests (MD5, SHA-1, SHA-256), HMAC, hex and random bytes, all over
// the system's libcrypto (OpenSSL 3 EVP API).
//
// The digest types are value types with copy-on-write semantics: the EVP
// context lives in a final class that frees it in deinit, and a copy of a
// digest that is then updated gets its own duplicated context.

/// An incremental message digest.
public protocol DigestFunction: Sendable {
    /// Length of the finished digest in bytes.
    static var byteCount: Int { get }
    init()
    /// Feeds more input.
    mutating func update(_ bytes: UnsafeRawBufferPointer)
    /// The digest of everything fed so far. Does not disturb the state:
    /// more input may follow, and `finalize()` may be called again.
    func finalize() -> [UInt8]
}

extension DigestFunction {
    /// Feeds any byte sequence (`[UInt8]`, `ArraySlice<UInt8>`, `String.UTF8View`, `Data`...).
    @inlinable
    public mutating func update(_ bytes: some Sequence<UInt8>) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            self.update(UnsafeRawBufferPointer(buffer))
        }
        if done == nil {
            let copy = Array(bytes)
            copy.withUnsafeBytes { self.update($0) }
        }
    }

    /// Feeds the UTF-8 bytes of a string.
    @inlinable
    public mutating func update(_ string: String) {
        var string = string
        string.withUTF8 { self.update(UnsafeRawBufferPointer($0)) }
    }

    /// One-shot digest of a buffer.
    @inlinable
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var digest = Self()
        digest.update(bytes)
        return digest.finalize()
    }

    /// One-shot digest of a byte sequence.
    @inlinable
    public static func hash(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var digest = Self()
        digest.update(bytes)
        return digest.finalize()
    }

    /// One-shot digest of the UTF-8 bytes of a string.
    @inlinable
    public static func hash(_ string: String) -> [UInt8] {
        var digest = Self()
        digest.update(string)
        return digest.finalize()
    }

    /// Lowercase hex of the digest of everything fed so far.
    @inlinable
    public func finalizeHex() -> String { Hex.encode(finalize()) }
}

// MARK: - EVP plumbing

/// Owns one `EVP_MD_CTX`.
@usableFromInline
final class EVPDigestContext: @unchecked Sendable {
    // Only ever mutated through a uniquely referenced box (see `EVPDigest`),
    // so sharing immutable references across threads is safe.
    let ctx: OpaquePointer

    init(algorithm: EVPAlgorithm) {
        guard let ctx = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new failed (out of memory)") }
        guard EVP_DigestInit_ex(ctx, algorithm.md, nil) == 1 else {
            EVP_MD_CTX_free(ctx)
            fatalError("EVP_DigestInit_ex failed for \(algorithm)")
        }
        self.ctx = ctx
    }

    init(copying other: EVPDigestContext) {
        guard let ctx = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new failed (out of memory)") }
        guard EVP_MD_CTX_copy_ex(ctx, other.ctx) == 1 else {
            EVP_MD_CTX_free(ctx)
            fatalError("EVP_MD_CTX_copy_ex failed")
        }
        self.ctx = ctx
    }

    deinit { EVP_MD_CTX_free(ctx) }
}

@usableFromInline
enum EVPAlgorithm: Sendable {
    case md5, sha1, sha256

    var byteCount: Int {
        switch self {
        case .md5: 16
        case .sha1: 20
        case .sha256: 32
        }
    }

    /// The algorithm implementation, fetched once from the default provider
    /// (avoids OpenSSL 3's implicit fetch on every `EVP_DigestInit_ex`).
    var md: OpaquePointer {
        switch self {
        case .md5: evpMD5
        case .sha1: evpSHA1
        case .sha256: evpSHA256
        }
    }
}

private func fetchMD(_ name: String, fallback: () -> OpaquePointer?) -> OpaquePointer {
    if let md = EVP_MD_fetch(nil, name, nil) { return md }
    guard let md = fallback() else { fatalError("libcrypto has no \(name) digest") }
    return md
}

// Fetched EVP_MD objects are immutable and documented as thread-safe to share.
nonisolated(unsafe) private let evpMD5: OpaquePointer = fetchMD("MD5") { EVP_md5() }
nonisolated(unsafe) private let evpSHA1: OpaquePointer = fetchMD("SHA1") { EVP_sha1() }
nonisolated(unsafe) private let evpSHA256: OpaquePointer = fetchMD("SHA256") { EVP_sha256() }

/// Copy-on-write wrapper around an EVP digest context.
@usableFromInline
struct EVPDigest: Sendable {
    @usableFromInline var box: EVPDigestContext
    @usableFromInline let algorithm: EVPAlgorithm

    @usableFromInline
    init(_ algorithm: EVPAlgorithm) {
        self.algorithm = algorithm
        self.box = EVPDigestContext(algorithm: algorithm)
    }

    @usableFromInline
    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        if !isKnownUniquelyReferenced(&box) {
            box = EVPDigestContext(copying: box)
        }
        guard EVP_DigestUpdate(box.ctx, base, bytes.count) == 1 else { fatalError("EVP_DigestUpdate failed") }
    }

    @usableFromInline
    func finalize() -> [UInt8] {
        // Finalize a duplicate so that this value stays usable.
        let scratch = EVPDigestContext(copying: box)
        let count = algorithm.byteCount
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var length: UInt32 = 0
            guard EVP_DigestFinal_ex(scratch.ctx, buffer.baseAddress, &length) == 1, Int(length) == count else {
                fatalError("EVP_DigestFinal_ex failed")
            }
            initialized = count
        }
    }
}

// MARK: - Public digests

/// Incremental MD5 (S3 ETags and Content-MD5).
public struct MD5: DigestFunction {
    public static let byteCount = 16
    @usableFromInline var digest: EVPDigest
    public init() { digest = EVPDigest(.md5) }
    @inlinable public mutating func update(_ bytes: UnsafeRawBufferPointer) { digest.update(bytes) }
    @inlinable public func finalize() -> [UInt8] { digest.finalize() }
}

/// Incremental SHA-1.
public struct SHA1: DigestFunction {
    public static let byteCount = 20
    @usableFromInline var digest: EVPDigest
    public init() { digest = EVPDigest(.sha1) }
    @inlinable public mutating func update(_ bytes: UnsafeRawBufferPointer) { digest.update(bytes) }
    @inlinable public func finalize() -> [UInt8] { digest.finalize() }
}

/// Incremental SHA-256.
public struct SHA256: DigestFunction {
    public static let byteCount = 32
    @usableFromInline var digest: EVPDigest
    public init() { digest = EVPDigest(.sha256) }
    @inlinable public mutating func update(_ bytes: UnsafeRawBufferPointer) { digest.update(bytes) }
    @inlinable public func finalize() -> [UInt8] { digest.finalize() }

    /// Hex SHA-256 of the empty string, the payload hash of bodiless requests.
    public static let emptyHex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
}

// MARK: - HMAC

/// One-shot HMAC.
public enum HMAC {
    public static func sha256(key: [UInt8], data: [UInt8]) -> [UInt8] {
        data.withUnsafeBytes { compute(.sha256, key: key, data: $0) }
    }

    public static func sha256(key: [UInt8], data: UnsafeRawBufferPointer) -> [UInt8] {
        compute(.sha256, key: key, data: data)
    }

    /// HMAC-SHA256 over the UTF-8 bytes of `data`.
    public static func sha256(key: [UInt8], data: String) -> [UInt8] {
        var data = data
        return data.withUTF8 { compute(.sha256, key: key, data: UnsafeRawBufferPointer($0)) }
    }

    public static func sha1(key: [UInt8], data: [UInt8]) -> [UInt8] {
        data.withUnsafeBytes { compute(.sha1, key: key, data: $0) }
    }

    public static func sha1(key: [UInt8], data: UnsafeRawBufferPointer) -> [UInt8] {
        compute(.sha1, key: key, data: data)
    }

    /// HMAC-SHA1 over the UTF-8 bytes of `data`.
    public static func sha1(key: [UInt8], data: String) -> [UInt8] {
        var data = data
        return data.withUTF8 { compute(.sha1, key: key, data: UnsafeRawBufferPointer($0)) }
    }

    private static func compute(_ algorithm: EVPAlgorithm, key: [UInt8], data: UnsafeRawBufferPointer) -> [UInt8] {
        // A valid (non-nil) pointer is passed even for empty inputs: OpenSSL
        // treats a NULL key as "reuse the previous key".
        let one: UInt8 = 0
        return withUnsafePointer(to: one) { dummy in
            key.withUnsafeBufferPointer { keyBuffer in
                let keyPointer = keyBuffer.baseAddress ?? dummy
                let dataPointer = data.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? dummy
                let count = algorithm.byteCount
                return [UInt8](unsafeUninitializedCapacity: count) { out, initialized in
                    var length: UInt32 = 0
                    guard CCloudless.HMAC(algorithm.md, keyPointer, Int32(keyBuffer.count),
                                          dataPointer, data.count, out.baseAddress, &length) != nil,
                          Int(length) == count
                    else { fatalError("HMAC failed") }
                    initialized = count
                }
            }
        }
    }
}

// MARK: - Hex

public enum Hex {
    @usableFromInline static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Lowercase hexadecimal.
    public static func encode(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes { encode($0) }
    }

    /// Lowercase hexadecimal.
    public static func encode(_ bytes: UnsafeRawBufferPointer) -> String {
        let count = bytes.count * 2
        guard count > 0 else { return "" }
        return digits.withUnsafeBufferPointer { digits in
            String(unsafeUninitializedCapacity: count) { out in
                var i = 0
                for byte in bytes {
                    out[i] = digits[Int(byte >> 4)]
                    out[i + 1] = digits[Int(byte & 0x0f)]
                    i += 2
                }
                return count
            }
        }
    }

    /// Decodes hex (either case). Nil for odd length or a non-hex character.
    public static func decode(_ string: String) -> [UInt8]? {
        var string = string
        return string.withUTF8 { utf8 -> [UInt8]? in
            guard utf8.count % 2 == 0 else { return nil }
            var result = [UInt8]()
            result.reserveCapacity(utf8.count / 2)
            var i = 0
            while i < utf8.count {
                guard let high = nibble(utf8[i]), let low = nibble(utf8[i + 1]) else { return nil }
                result.append(high << 4 | low)
                i += 2
            }
            return result
        }
    }

    @inline(__always)
    static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c &- UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c &- UInt8(ascii: "a") &+ 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c &- UInt8(ascii: "A") &+ 10
        default: nil
        }
    }
}

// MARK: - Random

/// Cryptographically secure random bytes (libcrypto's RAND_bytes).
public func randomBytes(count: Int) -> [UInt8] {
    precondition(count >= 0, "negative count")
    guard count > 0 else { return [] }
    return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
        guard RAND_bytes(buffer.baseAddress, Int32(count)) == 1 else { fatalError("RAND_bytes failed") }
        initialized = count
    }
}
