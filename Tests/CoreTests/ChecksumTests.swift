import Testing
@testable import Core

// Values marked "published" come from standards or AWS/vendor documentation and
// test suites; values marked "cross-checked" were computed independently with
// Python (zlib.crc32, hashlib, and a bit-at-a-time reflected CRC reference that
// reproduces every published CRC-32C / CRC-64/NVME value below).

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

/// Deterministic pseudo-random bytes (SplitMix64); also used by CRC32FoldTests.
func pseudoRandomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed
    var out = [UInt8]()
    out.reserveCapacity(count)
    while out.count < count {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        for i in 0..<8 where out.count < count { out.append(UInt8(truncatingIfNeeded: z >> (8 * i))) }
    }
    return out
}

/// Bit-at-a-time reflected CRC with init = xorout = all ones: the textbook definition.
private func referenceCRC<W: FixedWidthInteger & UnsignedInteger>(_ data: [UInt8], poly: W) -> W {
    var crc = ~W(0)
    for byte in data {
        crc ^= W(byte)
        for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ poly : crc >> 1 }
    }
    return ~crc
}

private func b64(_ bytes: [UInt8]) -> String { ChecksumAlgorithm.base64(bytes) }

@Suite struct CRCTests {
    @Test func checkValues() {
        // Published "check" values of the CRC catalogue (input "123456789").
        #expect(CRC32.checksum(bytes("123456789")) == 0xCBF4_3926)
        #expect(CRC32C.checksum(bytes("123456789")) == 0xE306_9283)
        #expect(CRC64NVME.checksum(bytes("123456789")) == 0xAE8B_1486_0A79_9888)
        #expect(CRC32().value == 0 && CRC32C().value == 0 && CRC64NVME().value == 0)
    }

    @Test func publishedCRC64NVMEVectors() {
        // crc64fast-nvme documentation.
        #expect(CRC64NVME.checksum(bytes("hello world!")) == 0xD916_0D1F_A8E4_18E3)
        // aws-c-s3 checksum tests ("NIST test case 1").
        #expect(CRC64NVME.checksum(bytes("aaaaaaaaaa")) == 0x0C1A_8003_6D65_C555)
        // aws-checksums tests.
        #expect(CRC64NVME.checksum([UInt8](repeating: 0, count: 32)) == 0xCF34_7343_4D4E_CF3B)
        // SPDK tests, values from the NVM Command Set specification.
        #expect(CRC64NVME.checksum([UInt8](repeating: 0, count: 4096)) == 0x6482_D367_EB22_B64E)
        #expect(CRC64NVME.checksum([UInt8](repeating: 0xFF, count: 4096)) == 0xC0DD_BA73_02EC_A3AC)
        // robertgrimm/crc64nvme README: `echo 'Hello, World!' | crc64nvme | base64`.
        var crc = CRC64NVME()
        crc.update(bytes("Hello, World!\n"))
        #expect(b64(crc.bytes) == "SoXXbx67KpE=")
    }

    @Test func s3Base64Forms() {
        // AWS S3 docs, signed-trailer streaming example: 66560 bytes of 'a'
        // carry the trailer x-amz-checksum-crc32c:sOO8/Q== (published).
        var c = CRC32C()
        c.update([UInt8](repeating: UInt8(ascii: "a"), count: 66560))
        #expect(b64(c.bytes) == "sOO8/Q==")
        // Cross-checked (zlib.crc32 / Python reference).
        var a = CRC32(), b = CRC32C(), d = CRC64NVME()
        a.update(bytes("hello")); b.update(bytes("hello")); d.update(bytes("hello"))
        #expect(b64(a.bytes) == "NhCmhg==")
        #expect(b64(b.bytes) == "mnG7TA==")
        #expect(b64(d.bytes) == "M3eFcAZSQlc=")
        #expect(b64(CRC32().bytes) == "AAAAAA==")
        #expect(b64(CRC64NVME().bytes) == "AAAAAAAAAAA=")
        #expect(CRC32(value: 0x3610_A686).bytes == [0x36, 0x10, 0xA6, 0x86])
    }

    @Test(arguments: [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 4099])
    func tablesMatchBitwiseReference(length: Int) {
        let data = pseudoRandomBytes(length + 3, seed: UInt64(length))
        // Offsets 0...3 exercise unaligned 8-byte loads.
        for offset in 0...3 {
            let slice = Array(data[offset..<(offset + length)])
            #expect(CRC32C.checksum(slice) == referenceCRC(slice, poly: UInt32(0x82F6_3B78)))
            #expect(CRC64NVME.checksum(slice) == referenceCRC(slice, poly: UInt64(0x9A6C_9329_AC4B_C9B5)))
            #expect(CRC32.checksum(slice) == referenceCRC(slice, poly: UInt32(0xEDB8_8320)))
        }
    }

    @Test func fragmentationDoesNotMatter() {
        let data = pseudoRandomBytes(10_000, seed: 42)
        var c32 = CRC32(), c32c = CRC32C(), c64 = CRC64NVME()
        var i = 0
        var step = 1
        while i < data.count {
            let end = min(data.count, i + step)
            data[i..<end].withUnsafeBytes { c32.update($0); c32c.update($0); c64.update($0) }
            i = end
            step = step % 97 + 3
        }
        #expect(c32.value == CRC32.checksum(data))
        #expect(c32c.value == CRC32C.checksum(data))
        #expect(c64.value == CRC64NVME.checksum(data))
        // Resuming from a stored value.
        var resumed = CRC32C(value: CRC32C.checksum(data[..<5000]))
        resumed.update(data[5000...])
        #expect(resumed.value == c32c.value)
    }

    @Test func combineEqualsDirect() {
        let data = pseudoRandomBytes(5000, seed: 7)
        var splits = [0, 1, 8, 4999, 5000]
        for k in 0..<20 { splits.append(Int(pseudoRandomBytes(2, seed: UInt64(100 + k)).withUnsafeBytes { $0.load(as: UInt16.self) }) % 5001) }
        for split in splits {
            let a = Array(data[..<split]), b = Array(data[split...])
            #expect(CRC32.combine(CRC32.checksum(a), CRC32.checksum(b), lengthB: b.count) == CRC32.checksum(data))
            #expect(CRC32C.combine(CRC32C.checksum(a), CRC32C.checksum(b), lengthB: b.count) == CRC32C.checksum(data))
            #expect(CRC64NVME.combine(CRC64NVME.checksum(a), CRC64NVME.checksum(b), lengthB: b.count) == CRC64NVME.checksum(data))
        }
    }

    @Test func combineLongRunsOfZeros() {
        // A 1 MiB second part: combine must agree with hashing it.
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        let head = bytes("head")
        #expect(CRC32C.combine(CRC32C.checksum(head), CRC32C.checksum(zeros), lengthB: zeros.count)
                == CRC32C.checksum(head + zeros))
        #expect(CRC64NVME.combine(CRC64NVME.checksum(head), CRC64NVME.checksum(zeros), lengthB: zeros.count)
                == CRC64NVME.checksum(head + zeros))
    }

    @Test func gf2CombineAgreesWithZlibForCRC32() {
        let gf2 = ReflectedGF2<UInt32>(poly: 0xEDB8_8320)
        for (a, b, n) in [(UInt32(0x1234_5678), UInt32(0x9ABC_DEF0), 1), (0xFFFF_FFFF, 0, 1_000_003), (0, 0xDEAD_BEEF, 5_000_000_000)] {
            #expect(gf2.combine(a, b, lengthB: n) == CRC32.combine(a, b, lengthB: n))
        }
    }
}

@Suite struct DigestTests {
    @Test func knownDigests() {
        // FIPS 180 / RFC 1321 test vectors.
        #expect(Hex.encode(MD5.hash(bytes(""))) == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(Hex.encode(MD5.hash(bytes("abc"))) == "900150983cd24fb0d6963f7d28e17f72")
        #expect(Hex.encode(SHA1.hash(bytes(""))) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        #expect(Hex.encode(SHA1.hash(bytes("abc"))) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(Hex.encode(SHA256.hash(bytes(""))) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Hex.encode(SHA256.hash(bytes("abc"))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hash("abc") == SHA256.hash(bytes("abc")))
        #expect(SHA256.emptyHex == Hex.encode(SHA256.hash([UInt8]())))
    }

    @Test func millionAsIncrementally() {
        // FIPS 180-2 / RFC 1321 suite: one million 'a', fed in uneven pieces.
        let piece = [UInt8](repeating: UInt8(ascii: "a"), count: 9973)
        var md5 = MD5(), sha1 = SHA1(), sha256 = SHA256()
        var fed = 0
        while fed < 1_000_000 {
            let n = min(piece.count, 1_000_000 - fed)
            piece[..<n].withUnsafeBytes { md5.update($0); sha1.update($0); sha256.update($0) }
            fed += n
        }
        #expect(md5.finalizeHex() == "7707d6ae4e027c70eea2a935c2296f21")
        #expect(sha1.finalizeHex() == "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
        #expect(sha256.finalizeHex() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func valueSemantics() {
        var a = SHA256()
        a.update(bytes("ab"))
        var b = a // shares the context until one of them changes
        a.update(bytes("c"))
        b.update(bytes("x"))
        #expect(a.finalize() == SHA256.hash(bytes("abc")))
        #expect(b.finalize() == SHA256.hash(bytes("abx")))
        #expect(a.finalize() == a.finalize()) // finalize does not consume
        a.update(bytes("d"))
        #expect(a.finalize() == SHA256.hash(bytes("abcd")))
    }

    @Test func hmacRFCVectors() {
        let key = [UInt8](repeating: 0x0b, count: 20)
        // RFC 4231 test cases 1 and 2.
        #expect(Hex.encode(HMAC.sha256(key: key, data: bytes("Hi There")))
                == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        #expect(Hex.encode(HMAC.sha256(key: bytes("Jefe"), data: bytes("what do ya want for nothing?")))
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        // RFC 2202 test cases 1 and 2.
        #expect(Hex.encode(HMAC.sha1(key: key, data: bytes("Hi There"))) == "b617318655057264e28bc0b6fb378c8ef146be00")
        #expect(Hex.encode(HMAC.sha1(key: bytes("Jefe"), data: "what do ya want for nothing?"))
                == "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79")
        // Empty key and data are valid (cross-checked with Python hmac).
        #expect(Hex.encode(HMAC.sha256(key: [], data: []))
                == "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad")
    }

    @Test func hex() {
        #expect(Hex.encode([0x00, 0x0f, 0xa5, 0xff]) == "000fa5ff")
        #expect(Hex.encode([UInt8]()) == "")
        #expect(Hex.decode("000FA5ff") == [0x00, 0x0f, 0xa5, 0xff])
        #expect(Hex.decode("") == [])
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.decode("zz") == nil)
        let random = pseudoRandomBytes(300, seed: 1)
        #expect(Hex.decode(Hex.encode(random)) == random)
    }

    @Test func random() {
        let a = randomBytes(count: 32), b = randomBytes(count: 32)
        #expect(a.count == 32 && b.count == 32 && a != b)
        #expect(randomBytes(count: 0).isEmpty)
    }
}

@Suite struct ChecksumAlgorithmTests {
    @Test func names() {
        #expect(ChecksumAlgorithm.crc32.headerName == "x-amz-checksum-crc32")
        #expect(ChecksumAlgorithm.crc64nvme.headerName == "x-amz-checksum-crc64nvme")
        for algorithm in ChecksumAlgorithm.allCases {
            #expect(ChecksumAlgorithm(headerName: algorithm.headerName) == algorithm)
            #expect(ChecksumAlgorithm(headerName: algorithm.headerName.uppercased()) == algorithm)
            #expect(ChecksumAlgorithm(name: algorithm.rawValue.lowercased()) == algorithm)
        }
        #expect(ChecksumAlgorithm(headerName: "x-amz-checksum-md5") == nil)
        #expect(ChecksumAlgorithm(headerName: "x-amz-checksum-algorithm") == nil)
        #expect(ChecksumAlgorithm(headerName: "content-md5") == nil)
    }

    @Test func hasherMatchesOneShot() {
        let data = pseudoRandomBytes(70_000, seed: 9)
        for algorithm in ChecksumAlgorithm.allCases {
            var hasher = ChecksumHasher(algorithm: algorithm)
            data[..<12345].withUnsafeBytes { hasher.update($0) }
            hasher.update(data[12345...])
            let expected: [UInt8] = switch algorithm {
            case .crc32: CRC32(value: CRC32.checksum(data)).bytes
            case .crc32c: CRC32C(value: CRC32C.checksum(data)).bytes
            case .crc64nvme: CRC64NVME(value: CRC64NVME.checksum(data)).bytes
            case .sha1: SHA1.hash(data)
            case .sha256: SHA256.hash(data)
            }
            #expect(hasher.finalize() == expected)
            #expect(hasher.finalize().count == algorithm.byteCount)
            #expect(algorithm.checksum(data) == expected)
            #expect(algorithm.decode(base64: hasher.base64) == expected)
        }
        // Cross-checked with hashlib.
        #expect(ChecksumHasher(.sha256).base64 == "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
        #expect(ChecksumAlgorithm.sha1.decode(base64: "AAAAAA==") == nil)
        #expect(ChecksumAlgorithm.crc32.decode(base64: "not base64!") == nil)
    }

    @Test func compositeChecksums() {
        // Part checksums of "hello" and " world"; expected values cross-checked with Python.
        let parts = [bytes("hello"), bytes(" world")]
        let expected: [(ChecksumAlgorithm, String)] = [
            (.crc32, "otMqCw=="), (.crc32c, "6AGPLw=="), (.crc64nvme, "pPiVXA87NM4="),
            (.sha1, "jsvOn+i3nJqAKKUv8T48WB0YvMs="), (.sha256, "wpQQjqgKlhF49FQdoVTheIiiSjfvtKR+G5kBEF28Vf0="),
        ]
        for (algorithm, value) in expected {
            let partChecksums = parts.map { algorithm.checksum($0) }
            #expect(ChecksumAlgorithm.composite(algorithm: algorithm, partChecksums: partChecksums)
                    == algorithm.checksum(partChecksums.flatMap { $0 }))
            #expect(b64(ChecksumAlgorithm.composite(algorithm: algorithm, partChecksums: partChecksums)) == value)
            #expect(ChecksumAlgorithm.compositeString(algorithm: algorithm, partChecksums: partChecksums) == value + "-2")
        }
    }

    @Test func fullObjectChecksums() {
        // "hello" + " world": the full-object CRC is the CRC of "hello world" (cross-checked).
        let parts = [bytes("hello"), bytes(" world")]
        let expected: [(ChecksumAlgorithm, String)] = [(.crc32, "DUoRhQ=="), (.crc32c, "yZRlqg=="), (.crc64nvme, "jSnVw/bqjr4=")]
        for (algorithm, value) in expected {
            let combined = ChecksumAlgorithm.combineFullObject(
                algorithm: algorithm, parts: parts.map { (checksum: algorithm.checksum($0), length: $0.count) })
            #expect(combined.map(b64) == value)
        }
        // Many uneven parts of random data.
        let data = pseudoRandomBytes(100_000, seed: 3)
        let cuts = [0, 1, 5000, 5001, 33_333, 33_333, 99_999, 100_000]
        for algorithm in ChecksumAlgorithm.allCases where algorithm.isCRC {
            var partList: [(checksum: [UInt8], length: Int)] = []
            for (start, end) in zip(cuts, cuts.dropFirst()) {
                partList.append((algorithm.checksum(data[start..<end]), end - start))
            }
            #expect(ChecksumAlgorithm.combineFullObject(algorithm: algorithm, parts: partList) == algorithm.checksum(data))
            #expect(ChecksumAlgorithm.combineFullObject(algorithm: algorithm, parts: []) == algorithm.checksum([UInt8]()))
            #expect(ChecksumAlgorithm.combineFullObject(algorithm: algorithm, parts: [([1, 2, 3], 3)]) == nil)
        }
        #expect(ChecksumAlgorithm.combineFullObject(algorithm: .sha256, parts: []) == nil)
    }
}
