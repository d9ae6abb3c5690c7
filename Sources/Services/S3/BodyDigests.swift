import Core

/// The digests an upload's bytes feed: MD5 (the ETag, Content-MD5), the kept checksum, the client's other checksum
/// when it sent one, and SHA-256 when x-amz-content-sha256 signs the payload.
struct BodyDigests {
    /// A read can hand over up to a megabyte (HTTPServer's LargeReadChannel): the digests take it a slice at a
    /// time, so that all of them read each slice while it is still in the core's cache.
    static let slice = 64 * 1024

    var md5 = MD5()
    var checksum: ChecksumHasher
    var check: ChecksumHasher?
    var sha256: SHA256?

    init(algorithm: ChecksumAlgorithm, check: ChecksumAlgorithm?, sha256: Bool) {
        checksum = ChecksumHasher(algorithm: algorithm)
        self.check = check.map { ChecksumHasher(algorithm: $0) }
        self.sha256 = sha256 ? SHA256() : nil
    }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var at = 0
        while at < bytes.count {
            let piece = UnsafeRawBufferPointer(rebasing: bytes[at..<min(bytes.count, at + Self.slice)])
            md5.update(piece)
            checksum.update(piece)
            check?.update(piece)
            sha256?.update(piece)
            at += piece.count
        }
    }
}
