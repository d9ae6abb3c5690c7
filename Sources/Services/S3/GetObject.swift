import Core
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

extension S3Service {
    /// The object a GET/HEAD/tagging request means: `versionId` or the latest; a delete marker is NoSuchKey
    /// (or MethodNotAllowed when asked for by version id).
    func readableObject(_ ctx: ObjectContext, bucket: Bucket) async throws -> ObjectVersion {
        if let v = ctx.request.queryValue("versionId") {
            guard let o = try await store.version(bucket: ctx.bucket, key: ctx.key, versionID: v) else {
                // An unversioned bucket knows only "null"; elsewhere an id that is not shaped as one is invalid.
                if v != "null" && (bucket.versioning == nil || !Self.isVersionID(v)) {
                    throw S3Error.invalidArgument("Invalid version id specified", name: "versionId", value: v)
                }
                throw S3Error.noSuchVersion(ctx.key, v)
            }
            if o.isDeleteMarker {
                var e = S3Error.methodNotAllowed(ctx.request.method.rawValue, resource: "DeleteMarker")
                e.headers = [("x-amz-delete-marker", "true"), ("x-amz-version-id", v), ("Last-Modified", AWSDate.rfc1123(o.lastModified))]
                throw e
            }
            return o
        }
        guard let o = try await store.latest(bucket: ctx.bucket, key: ctx.key) else { throw S3Error.noSuchKey(ctx.key) }
        if o.isDeleteMarker {
            var e = S3Error.noSuchKey(ctx.key)
            e.headers = [("x-amz-delete-marker", "true"), ("x-amz-version-id", o.versionID)]
            throw e
        }
        return o
    }

    func getObject(_ ctx: ObjectContext, head: Bool) async throws -> AWSResponse {
        let r = ctx.request
        let bucket = try await ownedBucket(ctx.bucket, r)
        let o = try await readableObject(ctx, bucket: bucket)
        try Conditionals.check(r, etag: o.etag, lastModified: o.lastModified, now: wallSeconds())

        var headers = ObjectHeaders.response(for: o, versioned: bucket.versioning != nil)
        // Only the current version read as such shows its expiration, as in AWS.
        if r.queryValue("versionId") == nil { setExpiration(&headers, o, bucket: bucket) }
        var status = HTTPResponse.Status.ok
        var start = 0, length = o.size

        if r.queryValue("partNumber") != nil, r.header("range") != nil {
            throw S3Error.invalidRequest("Cannot specify both Range header and partNumber query parameter")
        }
        if let pn = r.queryValue("partNumber") {
            guard let n = Int(pn), n >= 1, n <= 10000 else {
                throw S3Error.invalidArgument("Part number must be an integer between 1 and 10000, inclusive", name: "partNumber", value: pn)
            }
            let parts = o.parts.isEmpty ? [ObjectPart(size: o.size, checksum: nil)] : o.parts
            guard n <= parts.count else {
                throw AWSError("InvalidPartNumber", "The requested partnumber is not satisfiable", status: .rangeNotSatisfiable)
                    .with("PartNumberRequested", pn).with("ActualPartCount", String(parts.count))
            }
            start = parts[..<(n - 1)].reduce(0) { $0 + $1.size }
            length = parts[n - 1].size
            headers.set("x-amz-mp-parts-count", String(parts.count))
            if !o.parts.isEmpty || o.size > 0 {
                status = .partialContent
                headers.set("Content-Range", "bytes \(start)-\(start + length - 1)/\(o.size)")
            }
        } else if let range = r.header("range") {
            switch ByteRange.parse(range, size: o.size) {
            case .none:
                break  // Not a range S3 understands: the whole object, as S3 does.
            case .unsatisfiable:
                throw AWSError("InvalidRange", "The requested range is not satisfiable", status: .rangeNotSatisfiable)
                    .with("RangeRequested", range).with("ActualObjectSize", String(o.size))
            case .some(let s, let l):
                start = s
                length = l
                status = .partialContent
                headers.set("Content-Range", "bytes \(s)-\(s + l - 1)/\(o.size)")
            }
        }
        if r.header("x-amz-checksum-mode")?.uppercased() == "ENABLED", let alg = o.checksumAlgorithm, let value = o.checksumValue {
            if status == .ok {
                headers.set(alg.headerName, value)
                headers.set("x-amz-checksum-type", o.checksumType ?? "FULL_OBJECT")
            } else if let pn = r.queryValue("partNumber").flatMap(Int.init), o.checksumType == "COMPOSITE", pn <= o.parts.count,
                      let partChecksum = o.parts[pn - 1].checksum {
                // A part of a composite object has its own checksum.
                headers.set(alg.headerName, partChecksum)
                headers.set("x-amz-checksum-type", "COMPOSITE")
            }
        }
        for (param, header) in Self.responseOverrides {
            if let v = r.queryValue(param) { headers.set(header, v) }
        }
        headers.set("Content-Length", String(length))
        if head || length == 0 {
            return AWSResponse(status: status, headers: headers)
        }
        let body = try ObjectBody.stream(o.segments, from: start, length: length, blobs: store.blobs)
        return AWSResponse(status: status, headers: headers, body: body)
    }

    static let responseOverrides = [
        ("response-content-type", "Content-Type"), ("response-content-language", "Content-Language"),
        ("response-expires", "Expires"), ("response-cache-control", "Cache-Control"),
        ("response-content-disposition", "Content-Disposition"), ("response-content-encoding", "Content-Encoding"),
    ]
}

/// `Range: bytes=...` as S3 reads it: one range; a syntax it does not understand is ignored.
enum ByteRange: Equatable {
    case none
    case unsatisfiable
    case some(start: Int, length: Int)

    static func parse(_ header: String, size: Int) -> ByteRange {
        let h = header.trimmingCharacters(in: .whitespaces)
        guard h.lowercased().hasPrefix("bytes=") else { return .none }
        let spec = h.dropFirst(6)
        if spec.contains(",") { return .none }
        guard let dash = spec.firstIndex(of: "-") else { return .none }
        let a = spec[..<dash].trimmingCharacters(in: .whitespaces), b = spec[spec.index(after: dash)...].trimmingCharacters(in: .whitespaces)
        if a.isEmpty {
            guard let n = Int(b), n >= 0 else { return .none }
            if n == 0 || size == 0 { return .unsatisfiable }
            let len = min(n, size)
            return .some(start: size - len, length: len)
        }
        guard let s = Int(a), s >= 0 else { return .none }
        if b.isEmpty {
            return s >= size ? .unsatisfiable : .some(start: s, length: size - s)
        }
        guard let e = Int(b), e >= s else { return .none }
        if s >= size { return .unsatisfiable }
        return .some(start: s, length: min(e, size - 1) - s + 1)
    }
}

/// Conditional GET/HEAD (RFC 7232 as S3 applies it).
enum Conditionals {
    /// A date in the future is ignored, as HTTP says.
    static func check(_ r: AWSRequest, etag: String, lastModified: Double, now: Double) throws {
        let modified = lastModified.rounded(.down)
        let ifMatch = r.header("if-match"), ifNoneMatch = r.header("if-none-match")
        if let ifMatch, !ETag.matches(ifMatch, etag) { throw S3Error.preconditionFailed("If-Match") }
        if ifMatch == nil, let s = r.header("if-unmodified-since"), let d = AWSDate.parse(s), modified > d {
            throw S3Error.preconditionFailed("If-Unmodified-Since")
        }
        if let ifNoneMatch, ETag.matches(ifNoneMatch, etag) { throw notModified(etag, lastModified) }
        if ifNoneMatch == nil, let s = r.header("if-modified-since"), let d = AWSDate.parse(s), modified <= d, d <= now {
            throw notModified(etag, lastModified)
        }
    }

    static func notModified(_ etag: String, _ lastModified: Double) -> AWSError {
        var e = AWSError("NotModified", "Not Modified", status: .notModified)
        e.headers = [("ETag", etag), ("Last-Modified", AWSDate.rfc1123(lastModified))]
        return e
    }
}

/// Streams a byte range of an object's segments. Files are opened before the answer starts, so an
/// overwrite or delete meanwhile (which unlinks them) cannot cut the body short.
enum ObjectBody {
    static let chunk = 256 * 1024
    /// Bodies up to this size are read before the answer starts and leave with its head in one write; a streamed
    /// body costs a write and a wake-up for each of head, body and end.
    static let inline = 256 * 1024

    static func read(_ pieces: [(BlobReader, Int, Int)], length: Int) throws -> ResponseBody {
        var buffer = ByteBufferAllocator().buffer(capacity: length)
        for (reader, from, count) in pieces {
            defer { reader.close() }
            var done = 0
            while done < count {
                let n = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count - done) { ptr in
                    try reader.read(into: ptr, at: from + done, max: count - done)
                }
                if n == 0 { throw BlobError.truncated }
                done += n
            }
        }
        return ResponseBody(byteBuffer: buffer)
    }

    static func stream(_ segments: [BlobSegment], from start: Int, length: Int, blobs: BlobStore) throws -> ResponseBody {
        var pieces: [(BlobReader, Int, Int)] = []  // reader, offset in blob, bytes
        var offset = 0
        let end = start + length
        for seg in segments {
            let segEnd = offset + seg.size
            if segEnd > start && offset < end {
                let from = max(start, offset) - offset
                let to = min(end, segEnd) - offset
                pieces.append((try blobs.open(seg.id), from, to - from))
            }
            offset = segEnd
        }
        if length <= inline { return try read(pieces, length: length) }
        let readers = pieces
        return ResponseBody(contentLength: length) { writer in
            for (reader, from, count) in readers {
                defer { reader.close() }
                var done = 0
                while done < count {
                    let want = min(chunk, count - done)
                    var buffer = ByteBufferAllocator().buffer(capacity: want)
                    let n = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: want) { ptr in
                        try reader.read(into: ptr, at: from + done, max: want)
                    }
                    if n == 0 { throw BlobError.truncated }
                    done += n
                    try await writer.write(buffer)
                }
            }
            try await writer.finish(nil)
        }
    }
}
