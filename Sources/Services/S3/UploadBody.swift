import Core
import Foundation
import NIOCore

/// A request body written to a new blob, with the digests S3 needs, after every integrity check passed.
struct IngestedBody {
    var blob: BlobWriter
    var size: Int
    var md5: [UInt8]
    var checksumAlgorithm: ChecksumAlgorithm
    var checksum: [UInt8]
    /// The client's own checksum when it used another algorithm than the one kept.
    var verified: (ChecksumAlgorithm, [UInt8])?

    var etag: String { "\"" + Hex.encode(md5) + "\"" }
    var checksumBase64: String { Data(checksum).base64EncodedString() }
}

enum UploadBody {
    static let maxSinglePut = 5 * 1024 * 1024 * 1024

    static let streamingPayloads: Set<String> = [
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD", "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER",
    ]

    static func isAWSChunked(_ r: AWSRequest) -> Bool {
        if let sha = r.header("x-amz-content-sha256"), streamingPayloads.contains(sha) { return true }
        return r.header("content-encoding")?.lowercased().contains("aws-chunked") == true
    }

    /// The checksum algorithm a request asks for (header, explicit checksum header, or announced trailer); nil if none.
    static func requestedAlgorithm(_ r: AWSRequest) throws -> ChecksumAlgorithm? {
        var found: [ChecksumAlgorithm] = []
        for alg in ChecksumAlgorithm.allCases where r.header(alg.headerName) != nil { found.append(alg) }
        if found.count > 1 {
            throw S3Error.invalidRequest("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
        }
        if let declared = r.header("x-amz-sdk-checksum-algorithm") ?? r.header("x-amz-checksum-algorithm") {
            guard let alg = ChecksumAlgorithm(rawValue: declared.uppercased()) else {
                throw S3Error.invalidRequest(
                    "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")
            }
            if let f = found.first, f != alg {
                throw S3Error.invalidRequest("Value for x-amz-sdk-checksum-algorithm header is invalid.")
            }
            return alg
        }
        if let f = found.first { return f }
        if let trailer = r.header("x-amz-trailer"), let alg = ChecksumAlgorithm(headerName: trailer.trimmingCharacters(in: .whitespaces).lowercased()) {
            return alg
        }
        return nil
    }

    /// Stream the body into a new blob: aws-chunked decoding, MD5 and checksums computed on the way,
    /// then lengths, Content-MD5, x-amz-content-sha256 and x-amz-checksum-* verified. On any failure the blob is discarded.
    /// `algorithm` is the checksum kept with the bytes; `verify` the one the client sent, when it differs.
    static func ingest(_ r: AWSRequest, store: BlobStore, algorithm: ChecksumAlgorithm, verify: ChecksumAlgorithm? = nil,
                       maxSize: Int = maxSinglePut) async throws -> IngestedBody {
        let chunked = isAWSChunked(r)
        let declaredLength = r.header("content-length").flatMap { Int($0) }
        let decodedLength = r.header("x-amz-decoded-content-length").flatMap { Int($0) }
        let expected = chunked ? decodedLength : declaredLength
        if let expected, expected > maxSize {
            throw AWSError("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
                .with("ProposedSize", String(expected)).with("MaxSizeAllowed", String(maxSize))
        }
        if chunked && decodedLength == nil && r.header("x-amz-content-sha256")?.hasPrefix("STREAMING-") == true {
            throw AWSError("MissingContentLength", "You must provide the Content-Length HTTP header.", status: .lengthRequired)
        }
        var contentMD5: [UInt8]?
        if let b64 = r.header("content-md5") {
            guard let d = Data(base64Encoded: b64), d.count == 16 else {
                throw AWSError("InvalidDigest", "The Content-MD5 you specified was invalid.").with("Content-MD5", b64)
            }
            contentMD5 = Array(d)
        }

        // A signed payload (hex SHA-256 in x-amz-content-sha256) must match the bytes, as S3 checks.
        var payloadSHA256: [UInt8]?
        if !chunked, let h = r.header("x-amz-content-sha256"), h.utf8.count == 64, let d = Hex.decode(h) { payloadSHA256 = d }
        let checked = verify.flatMap { $0 == algorithm ? nil : $0 }
        let writer = try store.create()
        do {
            var digests = BodyDigests(algorithm: algorithm, check: checked, sha256: payloadSHA256 != nil)
            var received = 0
            var trailers: [(String, String)] = []
            if chunked {
                var verifier: ChunkSignatureVerifier?
                if let sig = r.signature, let key = sig.signingKey, r.header("x-amz-content-sha256")?.hasPrefix("STREAMING-AWS4-HMAC-SHA256") == true {
                    verifier = ChunkSignatureVerifier(signingKey: key, amzDate: sig.amzDate, scope: sig.scope, seedSignature: sig.seedSignature)
                }
                var decoder = AWSChunkedDecoder(verifier: verifier)
                do {
                    for try await buffer in r.body {
                        try buffer.withUnsafeReadableBytes { raw in
                            try decoder.feed(raw) { data in
                                digests.update(data)
                                try writer.write(data)
                            }
                        }
                        if decoder.decodedLength > maxSize { throw AWSError("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size") }
                    }
                    trailers = try decoder.finish()
                } catch let e as AWSChunkedError {
                    throw chunkError(e)
                }
                received = decoder.decodedLength
                if let decodedLength, decodedLength != received { throw S3Error.incompleteBody() }
            } else {
                for try await buffer in r.body {
                    try buffer.withUnsafeReadableBytes { raw in
                        digests.update(raw)
                        try writer.write(raw)
                    }
                    received += buffer.readableBytes
                    if received > maxSize { throw AWSError("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size") }
                }
                if let declaredLength, declaredLength != received { throw S3Error.incompleteBody() }
            }
            let digest = digests.md5.finalize()
            if let contentMD5, contentMD5 != digest { throw S3Error.badDigest() }
            if let payloadSHA256, let sha = digests.sha256, sha.finalize() != payloadSHA256 {
                throw AWSError("XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.")
                    .with("ClientComputedContentSHA256", Hex.encode(payloadSHA256)).with("S3ComputedContentSHA256", Hex.encode(sha.finalize()))
            }
            let checksum = digests.checksum.finalize()
            let verified = checked.map { ($0, digests.check!.finalize()) }
            for (alg, value) in [(algorithm, checksum)] + (verified.map { [$0] } ?? []) {
                let claimed = r.header(alg.headerName) ?? trailers.first(where: { $0.0.lowercased() == alg.headerName })?.1
                guard let claimed else { continue }
                guard let c = Data(base64Encoded: claimed), c.count == value.count else {
                    throw S3Error.invalidRequest("Value for \(alg.headerName) header is invalid.")
                }
                if Array(c) != value { throw S3Error.badDigest(alg.rawValue) }
            }
            return IngestedBody(blob: writer, size: received, md5: digest, checksumAlgorithm: algorithm, checksum: checksum, verified: verified)
        } catch {
            writer.discard()
            if error is AWSError { throw error }
            if error is CancellationError { throw error }
            // The client went away or the stream broke mid-body.
            throw S3Error.incompleteBody()
        }
    }

    static func chunkError(_ e: AWSChunkedError) -> AWSError {
        switch e {
        case .signatureMismatch:
            return AWSError.signatureDoesNotMatch()
        default:
            return AWSError("IncompleteBody", "The request body terminated unexpectedly or its aws-chunked encoding is invalid.")
        }
    }
}
