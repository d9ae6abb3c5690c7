import Core
import Testing
@testable import S3

// An upload's digests fed a whole read at a time (up to 1 MiB) equal the one-shot digests of the same bytes: the
// 64 KiB slicing inside BodyDigests must neither drop nor repeat a byte. Expected values are the one-shot digests of
// Core (themselves checked against published vectors in CoreTests).

private func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed
    return (0..<count).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return UInt8(truncatingIfNeeded: state >> 33)
    }
}

@Suite struct BodyDigestsTests {
    @Test(arguments: [0, 1, BodyDigests.slice - 1, BodyDigests.slice, BodyDigests.slice + 1, (1 << 20) + 12_345])
    func wholeReadEqualsOneShot(count: Int) {
        let data = bytes(count, seed: UInt64(count) + 5)
        var digests = BodyDigests(algorithm: .crc32, check: .crc32c, sha256: true)
        data.withUnsafeBytes { digests.update($0) }
        #expect(digests.md5.finalize() == MD5.hash(data))
        #expect(digests.sha256?.finalize() == SHA256.hash(data))
        #expect(digests.checksum.finalize() == ChecksumAlgorithm.crc32.checksum(data))
        #expect(digests.check?.finalize() == ChecksumAlgorithm.crc32c.checksum(data))
    }

    @Test func readsOfAnySizeGiveTheSameDigests() {
        let data = bytes(3 * BodyDigests.slice + 777, seed: 11)
        var whole = BodyDigests(algorithm: .sha1, check: nil, sha256: true)
        data.withUnsafeBytes { whole.update($0) }
        for read in [1000, BodyDigests.slice, 100_000] {
            var pieces = BodyDigests(algorithm: .sha1, check: nil, sha256: true)
            var at = 0
            while at < data.count {
                let end = min(data.count, at + read)
                data[at..<end].withUnsafeBytes { pieces.update($0) }
                at = end
            }
            #expect(pieces.md5.finalize() == whole.md5.finalize())
            #expect(pieces.checksum.finalize() == whole.checksum.finalize())
            #expect(pieces.sha256?.finalize() == whole.sha256?.finalize())
        }
    }

    @Test func onlyTheAskedDigestsAreKept() {
        let digests = BodyDigests(algorithm: .crc64nvme, check: nil, sha256: false)
        #expect(digests.sha256 == nil && digests.check == nil)
        #expect(digests.checksum.algorithm == .crc64nvme)
    }
}
