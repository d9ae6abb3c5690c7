// Decoder for the `aws-chunked` content encoding of S3 uploads.
//
// Unsigned (STREAMING-UNSIGNED-PAYLOAD-TRAILER):
//     <hex-size>\r\n<data>\r\n ... 0\r\n[<trailer-name>:<value>\r\n ...]\r\n
// Signed (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]):
//     <hex-size>;chunk-signature=<64 hex>\r\n<data>\r\n ... 0;chunk-signature=<sig>\r\n
//     [<trailer-name>:<value>\r\n ... x-amz-trailer-signature:<sig>\r\n]\r\n
//
// The decoder is a value-type state machine: feed it the body in fragments of
// any size (a size line may straddle fragments) and it hands back the user's
// bytes, zero-copy, through `emit`. Data is emitted as it streams, before its
// chunk signature can be checked, so on any error the caller must discard
// everything emitted so far.
//
// Leniency, for the variants real clients send: trailer lines may end in a
// bare LF, blank lines may precede the trailers, and the blank line that ends
// the trailer section may be missing. Chunk framing itself is strict (CRLF).

/// Errors of `AWSChunkedDecoder`.
public enum AWSChunkedError: Error, Sendable, Hashable {
    /// A chunk size line is not `hex[;ext...]` or is unreasonably long.
    case malformedSizeLine
    /// A size line or chunk data is not followed by CRLF.
    case missingCRLF
    /// The body ended before the final chunk (or inside a trailer line).
    case truncated
    /// Bytes that are not trailers follow the final chunk.
    case dataAfterFinalChunk
    /// A chunk size exceeds the decoder's `maxChunkSize`.
    case chunkTooLarge
    /// A chunk or trailer signature does not verify.
    case signatureMismatch
    /// Signed decoding, but a chunk carries no `chunk-signature`.
    case missingChunkSignature
    /// Signed decoding, trailers present, but no `x-amz-trailer-signature`.
    case missingTrailerSignature
    /// A trailer line is not `name:value`, or a trailer is repeated.
    case malformedTrailer
    /// The trailer section exceeds `AWSChunkedDecoder.maxTrailerBytes`.
    case trailerTooLarge
}

/// Verifies the chunk signatures (and the trailer signature) of a
/// STREAMING-AWS4-HMAC-SHA256-PAYLOAD(-TRAILER) body, hashing data as it streams.
public struct ChunkSignatureVerifier: Sendable {
    public let signingKey: [UInt8]
    public let amzDate: String
    public let scope: String
    /// The seed signature (from the Authorization header) until the first
    /// chunk verifies, then the signature of the last verified chunk.
    public private(set) var previousSignature: String
    private var chunkHash = SHA256()

    public init(signingKey: [UInt8], amzDate: String, scope: String, seedSignature: String) {
        self.signingKey = signingKey
        self.amzDate = amzDate
        self.scope = scope
        self.previousSignature = seedSignature.lowercased()
    }

    mutating func beginChunk() { chunkHash = SHA256() }

    mutating func update(_ bytes: UnsafeRawBufferPointer) { chunkHash.update(bytes) }

    /// Checks the signature of the chunk whose data was fed since `beginChunk()`
    /// (of an empty chunk when `empty`), and chains it.
    mutating func verifyChunk(signature: String, empty: Bool) throws(AWSChunkedError) {
        let hash = empty ? SHA256.emptyHex : Hex.encode(chunkHash.finalize())
        let stringToSign = SigV4.chunkStringToSign(amzDate: amzDate, scope: scope,
                                                   previousSignature: previousSignature, chunkSHA256Hex: hash)
        let expected = SigV4.signature(signingKey: signingKey, stringToSign: stringToSign)
        guard SigV4.constantTimeEquals(expected, signature.lowercased()) else { throw .signatureMismatch }
        previousSignature = expected
    }

    /// Checks the trailer signature against the trailers in received order,
    /// then (for several trailers) sorted by name.
    func verifyTrailer(_ trailers: [(String, String)], signature: String) throws(AWSChunkedError) {
        let signature = signature.lowercased()
        var candidates = [trailers]
        if trailers.count > 1 {
            candidates.append(trailers.sorted { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) })
        }
        for candidate in candidates {
            let stringToSign = SigV4.trailerStringToSign(
                amzDate: amzDate, scope: scope, previousSignature: previousSignature,
                canonicalTrailers: SigV4.canonicalTrailers(candidate))
            let expected = SigV4.signature(signingKey: signingKey, stringToSign: stringToSign)
            if SigV4.constantTimeEquals(expected, signature) { return }
        }
        throw .signatureMismatch
    }
}

/// Incremental decoder of an `aws-chunked` body.
public struct AWSChunkedDecoder: Sendable {
    /// Longest accepted chunk size line (with its extensions).
    public static let maxSizeLineBytes = 4096
    /// Largest accepted trailer section.
    public static let maxTrailerBytes = 16 * 1024

    private enum State: Sendable {
        case sizeLine
        case data
        case dataCR
        case dataLF
        case trailers
    }

    private static let cr = UInt8(ascii: "\r")
    private static let lf = UInt8(ascii: "\n")

    public let maxChunkSize: Int
    private var verifier: ChunkSignatureVerifier?
    private var state: State = .sizeLine
    private var line: [UInt8] = []
    private var remaining = 0
    private var chunkSignature: String?
    private var trailers: [(String, String)] = []
    private var trailerSignature: String?
    private var trailerBytes = 0
    private var blankBeforeTrailers = false
    private var trailersTerminated = false
    private var failure: AWSChunkedError?

    /// Number of user bytes emitted so far (compare with x-amz-decoded-content-length).
    public private(set) var decodedLength = 0

    /// - Parameters:
    ///   - verifier: checks chunk and trailer signatures when present; with nil,
    ///     `chunk-signature` extensions and the trailer signature are ignored.
    ///   - maxChunkSize: larger chunk sizes fail with `.chunkTooLarge`.
    public init(verifier: ChunkSignatureVerifier? = nil, maxChunkSize: Int = 16 * 1024 * 1024) {
        self.verifier = verifier
        self.maxChunkSize = maxChunkSize
        line.reserveCapacity(128)
    }

    /// True once the final chunk and the end of the trailer section were seen.
    public var isComplete: Bool {
        state == .trailers && line.isEmpty
            && (trailersTerminated || blankBeforeTrailers || !trailers.isEmpty || trailerSignature != nil)
    }

    /// Decodes the next fragment of the body, passing user data to `emit`
    /// (slices of `bytes`, valid only during the call). Decoding errors are
    /// sticky: later calls throw the same error.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer,
                              emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        if let failure { throw failure }
        do {
            try process(bytes, emit: emit)
        } catch let error as AWSChunkedError {
            failure = error
            throw error
        }
    }

    /// Ends the body: checks that it was complete, verifies the trailer
    /// signature when signed, and returns the trailers (lowercased names, trimmed
    /// values, without `x-amz-trailer-signature`) in received order.
    public mutating func finish() throws(AWSChunkedError) -> [(String, String)] {
        if let failure { throw failure }
        do {
            return try finishChecks()
        } catch {
            failure = error
            throw error
        }
    }

    // MARK: - Internals

    private mutating func finishChecks() throws(AWSChunkedError) -> [(String, String)] {
        guard state == .trailers else { throw .truncated }
        if !line.isEmpty {
            // A partial line: harmless if it is only a CR.
            if line != [Self.cr] {
                throw (trailersTerminated || (blankBeforeTrailers && trailers.isEmpty)) ? .dataAfterFinalChunk : .truncated
            }
            line.removeAll()
        }
        guard trailersTerminated || blankBeforeTrailers || !trailers.isEmpty || trailerSignature != nil else {
            throw .truncated
        }
        if let verifier {
            if let trailerSignature {
                try verifier.verifyTrailer(trailers, signature: trailerSignature)
            } else if !trailers.isEmpty {
                throw .missingTrailerSignature
            }
        }
        return trailers
    }

    private mutating func process(_ bytes: UnsafeRawBufferPointer,
                                  emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        let count = bytes.count
        var i = 0
        while i < count {
            switch state {
            case .sizeLine, .trailers:
                let start = i
                while i < count && bytes[i] != Self.lf { i += 1 }
                let piece = UnsafeRawBufferPointer(rebasing: bytes[start..<i])
                if state == .sizeLine {
                    guard line.count + piece.count <= Self.maxSizeLineBytes else { throw AWSChunkedError.malformedSizeLine }
                } else {
                    trailerBytes += piece.count + (i < count ? 1 : 0)
                    guard trailerBytes <= Self.maxTrailerBytes else { throw AWSChunkedError.trailerTooLarge }
                }
                line.append(contentsOf: piece)
                guard i < count else { return }
                i += 1 // the LF
                if state == .sizeLine {
                    try handleSizeLine()
                } else {
                    try handleTrailerLine()
                }
                line.removeAll(keepingCapacity: true)

            case .data:
                let take = min(remaining, count - i)
                let slice = UnsafeRawBufferPointer(rebasing: bytes[i..<(i + take)])
                verifier?.update(slice)
                try emit(slice)
                decodedLength += take
                remaining -= take
                i += take
                if remaining == 0 {
                    if verifier != nil, let signature = chunkSignature {
                        try verifier!.verifyChunk(signature: signature, empty: false)
                    }
                    state = .dataCR
                }

            case .dataCR:
                guard bytes[i] == Self.cr else { throw AWSChunkedError.missingCRLF }
                i += 1
                state = .dataLF

            case .dataLF:
                guard bytes[i] == Self.lf else { throw AWSChunkedError.missingCRLF }
                i += 1
                state = .sizeLine
            }
        }
    }

    /// `line` holds a complete size line without its LF.
    private mutating func handleSizeLine() throws(AWSChunkedError) {
        guard line.last == Self.cr else { throw .missingCRLF }
        let content = line[..<(line.count - 1)]
        var size = 0
        var digits = 0
        var index = content.startIndex
        while index < content.endIndex, let nibble = Hex.nibble(content[index]) {
            size = size << 4 | Int(nibble)
            digits += 1
            guard size <= maxChunkSize else { throw .chunkTooLarge }
            index += 1
        }
        guard digits > 0 else { throw .malformedSizeLine }
        var signature: String?
        if index < content.endIndex {
            guard content[index] == UInt8(ascii: ";") else { throw .malformedSizeLine }
            let extensions = content[(index + 1)...]
            for ext in extensions.split(separator: UInt8(ascii: ";"), omittingEmptySubsequences: false) {
                guard let equals = ext.firstIndex(of: UInt8(ascii: "=")) else {
                    guard !ext.isEmpty else { throw .malformedSizeLine }
                    continue
                }
                let name = ext[..<equals]
                if name.elementsEqual("chunk-signature".utf8) {
                    let value = ext[(equals + 1)...]
                    guard signature == nil, !value.isEmpty else { throw .malformedSizeLine }
                    signature = String(decoding: value, as: UTF8.self)
                }
            }
        }
        if verifier != nil && signature == nil { throw .missingChunkSignature }
        chunkSignature = signature
        if size == 0 {
            if verifier != nil, let signature {
                try verifier!.verifyChunk(signature: signature, empty: true)
            }
            state = .trailers
        } else {
            verifier?.beginChunk()
            remaining = size
            state = .data
        }
    }

    /// `line` holds a complete trailer-section line without its LF.
    private mutating func handleTrailerLine() throws(AWSChunkedError) {
        var content = line[...]
        if content.last == Self.cr { content = content.dropLast() }
        if content.isEmpty {
            if trailers.isEmpty && trailerSignature == nil {
                blankBeforeTrailers = true
            } else {
                trailersTerminated = true
            }
            return
        }
        guard let colon = content.firstIndex(of: UInt8(ascii: ":")) else {
            throw trailersTerminated || (blankBeforeTrailers && trailers.isEmpty) ? .dataAfterFinalChunk : .malformedTrailer
        }
        let name = String(trimWhitespace(Substring(String(decoding: content[..<colon], as: UTF8.self)))).lowercased()
        let value = String(trimWhitespace(Substring(String(decoding: content[(colon + 1)...], as: UTF8.self))))
        // Some clients end the checksum line with "\n\r\n" and then send the
        // signature: a trailer signature is still accepted after a blank line.
        if trailersTerminated && !(name == "x-amz-trailer-signature" && trailerSignature == nil) {
            throw .dataAfterFinalChunk
        }
        guard !name.isEmpty else { throw .malformedTrailer }
        if name == "x-amz-trailer-signature" {
            guard trailerSignature == nil else { throw .malformedTrailer }
            trailerSignature = value
        } else {
            guard !trailers.contains(where: { $0.0 == name }) else { throw .malformedTrailer }
            trailers.append((name, value))
        }
    }
}
