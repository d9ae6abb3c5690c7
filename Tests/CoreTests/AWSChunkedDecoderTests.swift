import Testing
@testable import Core

// The signed bodies are the Amazon S3 API Reference examples
// (sigv4-streaming: seed 4f232c43..., sigv4-streaming-trailers: seed 106e2a8a...):
// 66560 bytes of 'a' in chunks of 65536, 1024 and 0.

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

private let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
private let amzDate = "20130524T000000Z"
private let scope = "20130524/us-east-1/s3/aws4_request"
private let payload = [UInt8](repeating: UInt8(ascii: "a"), count: 66560)

private let seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
private let chunkSignatures = [
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
]
private let trailerSeed = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
private let trailerChunkSignatures = [
    "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
    "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
    "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
]
private let trailerSignature = "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435"

private func verifier(seed: String) -> ChunkSignatureVerifier {
    ChunkSignatureVerifier(
        signingKey: SigV4.signingKey(secret: secret, date: "20130524", region: "us-east-1", service: "s3"),
        amzDate: amzDate, scope: scope, seedSignature: seed)
}

/// The documented signed body; `trailer` goes after the final chunk's line.
private func signedBody(_ signatures: [String], trailer: String = "\r\n") -> [UInt8] {
    bytes("10000;chunk-signature=\(signatures[0])\r\n") + payload[..<65536] + bytes("\r\n")
        + bytes("400;chunk-signature=\(signatures[1])\r\n") + payload[65536...] + bytes("\r\n")
        + bytes("0;chunk-signature=\(signatures[2])\r\n") + bytes(trailer)
}

private func unsignedBody(_ data: [UInt8], chunk: Int, trailer: String) -> [UInt8] {
    var body: [UInt8] = []
    var i = 0
    while i < data.count {
        let n = min(chunk, data.count - i)
        body += bytes(String(n, radix: 16) + "\r\n") + data[i..<(i + n)] + bytes("\r\n")
        i += n
    }
    return body + bytes("0\r\n" + trailer)
}

/// Feeds `body` in pieces of `piece` bytes; returns the emitted data and the trailers.
private func decode(_ body: [UInt8], piece: Int = .max, verifier: ChunkSignatureVerifier? = nil,
                    maxChunkSize: Int = 16 * 1024 * 1024) throws -> (data: [UInt8], trailers: [(String, String)]) {
    var decoder = AWSChunkedDecoder(verifier: verifier, maxChunkSize: maxChunkSize)
    var data: [UInt8] = []
    var i = 0
    while i < body.count {
        let end = piece >= body.count - i ? body.count : i + piece
        try body[i..<end].withUnsafeBytes { raw in
            try decoder.feed(raw) { data.append(contentsOf: $0) }
        }
        i = end
    }
    let trailers = try decoder.finish()
    #expect(decoder.decodedLength == data.count)
    #expect(decoder.isComplete)
    return (data, trailers)
}

private func decodingError(_ body: [UInt8], piece: Int = .max, verifier: ChunkSignatureVerifier? = nil,
                           maxChunkSize: Int = 16 * 1024 * 1024) -> AWSChunkedError? {
    do {
        _ = try decode(body, piece: piece, verifier: verifier, maxChunkSize: maxChunkSize)
        return nil
    } catch let error as AWSChunkedError {
        return error
    } catch {
        Issue.record("unexpected error \(error)")
        return nil
    }
}

@Suite struct AWSChunkedDecoderTests {
    @Test(arguments: [Int.max, 1, 7, 8192])
    func unsignedWithTrailer(piece: Int) throws {
        // STREAMING-UNSIGNED-PAYLOAD-TRAILER as botocore writes it.
        let data = Array(payload[..<17_408])
        let crc = ChecksumAlgorithm.base64(CRC32(value: CRC32.checksum(data)).bytes)
        let body = unsignedBody(data, chunk: 8192, trailer: "x-amz-checksum-crc32:\(crc)\r\n\r\n")
        let result = try decode(body, piece: piece)
        #expect(result.data == data)
        #expect(result.trailers.count == 1)
        #expect(result.trailers.first?.0 == "x-amz-checksum-crc32" && result.trailers.first?.1 == crc)
    }

    @Test func unsignedWithoutTrailer() throws {
        let result = try decode(unsignedBody(bytes("hello world"), chunk: 4, trailer: "\r\n"), piece: 1)
        #expect(result.data == bytes("hello world"))
        #expect(result.trailers.isEmpty)
        // Empty body.
        #expect(try decode(bytes("0\r\n\r\n")).data.isEmpty)
    }

    @Test func severalTrailersAndLenientForms() throws {
        let forms = [
            "x-amz-checksum-crc32c:AAAAAA==\r\nX-Custom : v \r\n\r\n",
            "x-amz-checksum-crc32c:AAAAAA==\nX-Custom: v\n\r\n\r\n", // LF-only lines, extra blank line
            "\r\nx-amz-checksum-crc32c:AAAAAA==\r\nx-custom:v\r\n\r\n", // blank line before the trailers
            "x-amz-checksum-crc32c:AAAAAA==\r\nx-custom:v\r\n", // no terminating blank line
        ]
        for form in forms {
            let result = try decode(unsignedBody(bytes("abc"), chunk: 2, trailer: form), piece: 1)
            #expect(result.data == bytes("abc"))
            #expect(result.trailers.map(\.0) == ["x-amz-checksum-crc32c", "x-custom"], "\(form)")
            #expect(result.trailers.map(\.1) == ["AAAAAA==", "v"], "\(form)")
        }
    }

    @Test(arguments: [Int.max, 1, 100, 65536, 65537])
    func signedPayloadExample(piece: Int) throws {
        let body = signedBody(chunkSignatures)
        #expect(body.count == 66824) // the documented Content-Length
        let result = try decode(body, piece: piece, verifier: verifier(seed: seed))
        #expect(result.data == payload)
        #expect(result.trailers.isEmpty)
    }

    @Test(arguments: [Int.max, 1, 4096])
    func signedTrailerExample(piece: Int) throws {
        let trailer = "x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:\(trailerSignature)\r\n\r\n"
        let result = try decode(signedBody(trailerChunkSignatures, trailer: trailer), piece: piece,
                                verifier: verifier(seed: trailerSeed))
        #expect(result.data == payload)
        #expect(result.trailers.count == 1)
        #expect(result.trailers.first?.0 == "x-amz-checksum-crc32c" && result.trailers.first?.1 == "sOO8/Q==")
        // The trailer's CRC32C is the data's.
        #expect(ChecksumAlgorithm.base64(CRC32C(value: CRC32C.checksum(result.data)).bytes) == "sOO8/Q==")
    }

    @Test func signedTrailerVariants() throws {
        let v = verifier(seed: trailerSeed)
        for trailer in [
            "\r\nx-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:\(trailerSignature)\r\n", // blank first, no end
            "x-amz-checksum-crc32c:sOO8/Q==\n\r\nx-amz-trailer-signature:\(trailerSignature)\r\n\r\n",
        ] {
            #expect(try decode(signedBody(trailerChunkSignatures, trailer: trailer), verifier: v).data == payload)
        }
        // Tampered trailer value, tampered trailer signature, missing trailer signature.
        let tampered = "x-amz-checksum-crc32c:sOO8/R==\r\nx-amz-trailer-signature:\(trailerSignature)\r\n\r\n"
        #expect(decodingError(signedBody(trailerChunkSignatures, trailer: tampered), verifier: v) == .signatureMismatch)
        let badSignature = "x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:\(String(repeating: "0", count: 64))\r\n\r\n"
        #expect(decodingError(signedBody(trailerChunkSignatures, trailer: badSignature), verifier: v) == .signatureMismatch)
        let unsigned = "x-amz-checksum-crc32c:sOO8/Q==\r\n\r\n"
        #expect(decodingError(signedBody(trailerChunkSignatures, trailer: unsigned), verifier: v) == .missingTrailerSignature)
        // Without a verifier the signatures are ignored and the signature trailer is not returned.
        let ok = "x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:\(trailerSignature)\r\n\r\n"
        let result = try decode(signedBody(trailerChunkSignatures, trailer: ok), piece: 3)
        #expect(result.trailers.map(\.0) == ["x-amz-checksum-crc32c"])
    }

    @Test func tamperedSignedBody() {
        let v = verifier(seed: seed)
        // One data byte changed in the first chunk.
        var body = signedBody(chunkSignatures)
        body[200] = UInt8(ascii: "b")
        #expect(decodingError(body, verifier: v) == .signatureMismatch)
        // Chunk signatures out of order, a wrong seed, an altered final signature.
        #expect(decodingError(signedBody([chunkSignatures[1], chunkSignatures[0], chunkSignatures[2]]), verifier: v)
                == .signatureMismatch)
        #expect(decodingError(signedBody(chunkSignatures), verifier: verifier(seed: trailerSeed)) == .signatureMismatch)
        var final = chunkSignatures
        final[2] = String(final[2].dropLast()) + "0"
        #expect(decodingError(signedBody(final), verifier: v) == .signatureMismatch)
        // Uppercase hex signatures are accepted.
        #expect(decodingError(signedBody(chunkSignatures.map { $0.uppercased() }), verifier: v) == nil)
        // A chunk without signature while verifying.
        #expect(decodingError(unsignedBody(bytes("abc"), chunk: 3, trailer: "\r\n"), verifier: v) == .missingChunkSignature)
        // The unsigned decoder takes the signed body as is.
        #expect(decodingError(signedBody(chunkSignatures)) == nil)
    }

    @Test func truncatedBodies() {
        let body = signedBody(chunkSignatures)
        // Mid size line, mid data, before the data CRLF, between CR and LF, after the final chunk line.
        for cut in [0, 10, 90, 50_000, 65_536 + 87, 65_536 + 88, body.count - 2, body.count - 1] {
            #expect(decodingError(Array(body[..<cut])) == .truncated, "cut at \(cut)")
        }
        #expect(decodingError(bytes("3\r\nabc\r\n0\r\n")) == .truncated)
        #expect(decodingError(bytes("3\r\nabc\r\n0\r\nx-amz-checksum-crc32:AAAA")) == .truncated)
    }

    @Test func malformedSizeLines() throws {
        for body in ["zz\r\nab\r\n0\r\n\r\n", "\r\n0\r\n\r\n", "3 \r\nabc\r\n0\r\n\r\n", "-3\r\nabc\r\n0\r\n\r\n",
                     "3;\r\nabc\r\n0\r\n\r\n", "0x3\r\nabc\r\n0\r\n\r\n"] {
            #expect(decodingError(bytes(body)) == .malformedSizeLine, "\(body)")
        }
        // An endless size line.
        #expect(decodingError([UInt8](repeating: UInt8(ascii: "0"), count: 10_000), piece: 100) == .malformedSizeLine)
        // Extensions other than chunk-signature are ignored.
        #expect(try decode(bytes("3;foo=bar;baz\r\nabc\r\n0\r\n\r\n")).data == bytes("abc"))
    }

    @Test func missingCRLF() {
        #expect(decodingError(bytes("3\r\nabcXY0\r\n\r\n")) == .missingCRLF)
        #expect(decodingError(bytes("3\r\nabc\rX0\r\n\r\n")) == .missingCRLF)
        #expect(decodingError(bytes("3\nabc\r\n0\r\n\r\n")) == .missingCRLF)
        #expect(decodingError(bytes("3\r\nabcd\r\n0\r\n\r\n"), piece: 1) == .missingCRLF)
    }

    @Test func chunkTooLarge() {
        #expect(decodingError(bytes("1000001\r\n")) == .chunkTooLarge) // 16 MiB + 1
        #expect(decodingError(bytes("ffffffffffffffffffffffff\r\n")) == .chunkTooLarge) // no overflow
        #expect(decodingError(bytes("11\r\n"), maxChunkSize: 16) == .chunkTooLarge)
        #expect(decodingError(bytes("10\r\n0123456789abcdef\r\n0\r\n\r\n"), maxChunkSize: 16) == nil)
    }

    @Test func dataAfterFinalChunk() {
        #expect(decodingError(bytes("3\r\nabc\r\n0\r\n\r\ngarbage")) == .dataAfterFinalChunk)
        #expect(decodingError(bytes("3\r\nabc\r\n0\r\n\r\ngarbage\r\n")) == .dataAfterFinalChunk)
        #expect(decodingError(bytes("3\r\nabc\r\n0\r\na:1\r\n\r\nb:2\r\n\r\n")) == .dataAfterFinalChunk)
        #expect(decodingError(bytes("3\r\nabc\r\n0\r\na:1\r\n\r\n3\r\nabc\r\n")) == .dataAfterFinalChunk)
        #expect(decodingError(bytes("3\r\nabc\r\n0\r\nnot a trailer\r\n\r\n")) == .malformedTrailer)
        #expect(decodingError(bytes("3\r\nabc\r\n0\r\na:1\r\na:2\r\n\r\n")) == .malformedTrailer)
        // Stray CR/LF after the end is harmless.
        #expect(decodingError(bytes("3\r\nabc\r\n0\r\n\r\n\r\n")) == nil)
    }

    @Test func trailerSectionIsBounded() {
        let huge = "x-amz-meta:" + String(repeating: "v", count: AWSChunkedDecoder.maxTrailerBytes) + "\r\n\r\n"
        #expect(decodingError(bytes("0\r\n" + huge), piece: 1000) == .trailerTooLarge)
    }

    @Test func errorsAreSticky() throws {
        var decoder = AWSChunkedDecoder()
        let bad = bytes("zz\r\n")
        #expect(throws: AWSChunkedError.malformedSizeLine) {
            try bad.withUnsafeBytes { try decoder.feed($0) { _ in } }
        }
        let good = bytes("0\r\n\r\n")
        #expect(throws: AWSChunkedError.malformedSizeLine) {
            try good.withUnsafeBytes { try decoder.feed($0) { _ in } }
        }
        #expect(throws: AWSChunkedError.malformedSizeLine) { try decoder.finish() }
    }

    @Test func emitErrorsPropagate() {
        struct Full: Error {}
        var decoder = AWSChunkedDecoder()
        let body = bytes("3\r\nabc\r\n0\r\n\r\n")
        #expect(throws: Full.self) {
            try body.withUnsafeBytes { try decoder.feed($0) { _ in throw Full() } }
        }
    }

    @Test func progress() throws {
        var decoder = AWSChunkedDecoder()
        var out: [UInt8] = []
        try bytes("5\r\nhel").withUnsafeBytes { try decoder.feed($0) { out += $0 } }
        #expect(out == bytes("hel") && decoder.decodedLength == 3 && !decoder.isComplete)
        try bytes("lo\r\n0\r\n").withUnsafeBytes { try decoder.feed($0) { out += $0 } }
        #expect(!decoder.isComplete)
        try bytes("\r\n").withUnsafeBytes { try decoder.feed($0) { out += $0 } }
        #expect(decoder.isComplete && out == bytes("hello"))
        #expect(try decoder.finish().isEmpty)
    }
}
