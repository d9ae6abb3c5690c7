import Core
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Testing
@testable import S3

// Browser form uploads (S3 API Reference, "POST Object" and "POST Policy"): the streaming multipart/form-data
// parser (RFC 7578 / RFC 2046 §5.1.1), the policy document, and PostObject end to end through S3Service.

// MARK: - Multipart parser

private let crlf = "\r\n"

/// A multipart body: each part is (header lines, body bytes).
private func multipart(_ boundary: String, _ parts: [([String], [UInt8])], preamble: String = "", epilogue: String = "") -> [UInt8] {
    var out = Array(preamble.utf8)
    for (headers, body) in parts {
        out += Array(("--\(boundary)\r\n" + headers.map { $0 + crlf }.joined() + crlf).utf8) + body + Array(crlf.utf8)
    }
    return out + Array("--\(boundary)--\r\n\(epilogue)".utf8)
}

private func field(_ name: String, _ value: String) -> ([String], [UInt8]) {
    (["Content-Disposition: form-data; name=\"\(name)\""], Array(value.utf8))
}

private func file(_ bytes: [UInt8], filename: String = "f.bin") -> ([String], [UInt8]) {
    (["Content-Disposition: form-data; name=\"file\"; filename=\"\(filename)\"", "Content-Type: application/octet-stream"], bytes)
}

/// Parse `body` fed in chunks of `chunk` bytes (0: all at once); each part's headers and bytes.
private func parse(_ body: [UInt8], boundary: String = "XyZ", chunk: Int = 0) throws -> [(MultipartPartHeaders, [UInt8])] {
    var parser = MultipartFormParser(boundary: boundary)!
    var parts: [(MultipartPartHeaders, [UInt8])] = []
    var ended = true
    let step = chunk == 0 ? max(body.count, 1) : chunk
    for start in stride(from: 0, to: body.count, by: step) {
        try body[start..<min(start + step, body.count)].withUnsafeBytes { raw in
            try parser.feed(raw) { event in
                switch event {
                case .partStart(let h):
                    #expect(ended)
                    ended = false
                    parts.append((h, []))
                case .data(let d): parts[parts.count - 1].1 += Array(d)
                case .partEnd: ended = true
                }
            }
        }
    }
    try parser.finish()
    #expect(ended)
    return parts
}

/// Deterministic bytes rich in CR, LF and '-' so that delimiter prefixes occur everywhere.
private func awkwardBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed
    let alphabet: [UInt8] = Array("\r\n-Xy".utf8) + [0, 255]  // no 'Z': the full delimiter never occurs
    return (0..<count).map { _ in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return alphabet[Int(state >> 33) % alphabet.count]
    }
}

@Suite struct MultipartFormParserTests {
    /// Delimiter prefixes inside the data, "--XyZ" not at a line start, and a CR right before the real delimiter.
    static let tricky = Array("\r\n--XyY-x\r\r\n--Xy\r\n-\r\n\r\n--X\r--XyZ\r".utf8)

    @Test(arguments: [0, 1, 2, 3, 5, 7, 11, 64])
    func fieldsThenFile(chunk: Int) throws {
        let body = multipart("XyZ", [field("key", "a/${filename}"), field("policy", "e30="), file(Self.tricky, filename: "x.txt")])
        let parts = try parse(body, chunk: chunk)
        #expect(parts.count == 3)
        #expect(parts[0].0.name == "key" && String(decoding: parts[0].1, as: UTF8.self) == "a/${filename}")
        #expect(parts[1].0.name == "policy" && parts[1].1 == Array("e30=".utf8))
        #expect(parts[2].0.name == "file" && parts[2].0.filename == "x.txt")
        #expect(parts[2].0.contentType == "application/octet-stream")
        #expect(parts[2].1 == Self.tricky)
    }

    @Test func everySplitOfAwkwardBytes() throws {
        // Every chunk size over bodies whose data is full of partial delimiters.
        for seed in 1...6 as ClosedRange<UInt64> {
            let data = awkwardBytes(300, seed: seed)
            let body = multipart("XyZ", [field("a", "1"), file(data), field("after", "x")])
            for chunk in 1...40 {
                let parts = try parse(body, chunk: chunk)
                #expect(parts.map(\.1) == [Array("1".utf8), data, Array("x".utf8)], "seed \(seed) chunk \(chunk)")
            }
        }
    }

    @Test func emptyPartsPreambleEpilogueAndPadding() throws {
        var body = Array("preamble\r\n--XyZ \t\r\nContent-Disposition: form-data; name=\"e\"\r\n\r\n\r\n--XyZ\r\n".utf8)
        body += Array("Content-Disposition: form-data; name=\"file\"\r\n\r\n\r\n--XyZ--epilogue \r\n--XyZ junk".utf8)
        for chunk in [0, 1, 4] {
            let parts = try parse(body, chunk: chunk)
            #expect(parts.map(\.0.name) == ["e", "file"])
            #expect(parts.allSatisfy { $0.1.isEmpty })
            #expect(parts[1].0.filename == nil)
        }
        // No part at all, and no preamble.
        #expect(try parse(Array("--XyZ--".utf8)).isEmpty)
    }

    @Test func partWithoutHeaders() throws {
        let parts = try parse(Array("--XyZ\r\n\r\nbare\r\n--XyZ--".utf8), chunk: 1)
        #expect(parts.count == 1 && parts[0].0.fields.isEmpty && parts[0].1 == Array("bare".utf8))
    }

    @Test(arguments: [
        "",  // empty body
        "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue",  // truncated in a part
        "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue\r\n--XyZ",  // no closing "--"
        "--XyZ\r\nno colon here\r\n\r\nv\r\n--XyZ--",
        "--XyZ\r\n: empty name\r\n\r\nv\r\n--XyZ--",
        "--XyZ\r\n continuation first\r\n\r\nv\r\n--XyZ--",
        "--XyZX\r\n\r\nv\r\n--XyZ--",  // boundary followed by other text
        "--XyZ\rX\n\r\nv\r\n--XyZ--",
        "--XyZ-x",
        "just text without any boundary",
    ])
    func malformed(_ text: String) {
        for chunk in [0, 1] {
            #expect(throws: MultipartFormParser.Malformed.self) { try parse(Array(text.utf8), chunk: chunk) }
        }
    }

    @Test func headerBlockIsBounded() {
        var parser = MultipartFormParser(boundary: "b", maxHeaderBytes: 100)!
        let body = Array(("--b\r\nX-Long: " + String(repeating: "a", count: 200) + "\r\n\r\n").utf8)
        #expect(throws: MultipartFormParser.Malformed.self) {
            try body.withUnsafeBytes { try parser.feed($0) { _ in } }
        }
    }

    @Test func boundaryFromContentType() {
        #expect(MultipartFormParser.boundary(contentType: "multipart/form-data; boundary=abc") == "abc")
        #expect(MultipartFormParser.boundary(contentType: "Multipart/Form-Data; charset=utf-8; BOUNDARY=\"a b;c\"") == "a b;c")
        #expect(MultipartFormParser.boundary(contentType: "multipart/form-data") == nil)
        #expect(MultipartFormParser.boundary(contentType: "multipart/form-data; boundary=") == nil)
        #expect(MultipartFormParser.boundary(contentType: "application/x-www-form-urlencoded; boundary=abc") == nil)
        #expect(MultipartFormParser(boundary: "") == nil)
        #expect(MultipartFormParser(boundary: "a\r\nb") == nil)
    }

    @Test func contentDisposition() throws {
        let parts = try parse(multipart("XyZ", [
            (["content-disposition: form-data; name=\"file\"; filename=\"C:\\\\dir\\\\say \\\"hi\\\".txt\""], []),
            (["Content-Disposition: form-data; name=f2; filename=\"plain.txt\"; filename*=UTF-8''na%C3%AFve.txt"], []),
            (["Content-Disposition: form-data;name=\"semi;colon\"", "X-Folded: a", "\tb"], []),
        ]))
        #expect(parts[0].0.filename == "C:\\dir\\say \"hi\".txt")
        #expect(parts[1].0.name == "f2" && parts[1].0.filename == "naïve.txt")
        #expect(parts[2].0.name == "semi;colon")
        #expect(parts[2].0.value("x-folded") == "a b")
    }
}

// MARK: - Policy

private func policyB64(_ json: String) -> String { Data(json.utf8).base64EncodedString() }

private func accessDenied(_ message: String) -> AWSError { AWSError.accessDenied(message) }

@Suite struct PostPolicyTests {
    static let boto3Like = """
        {"expiration": "2099-01-01T00:00:00Z", "conditions": [{"bucket": "b"}, ["starts-with", "$key", "forms/"],
         {"x-amz-algorithm": "AWS4-HMAC-SHA256"}, {"x-amz-credential": "test/20990101/us-east-1/s3/aws4_request"},
         {"x-amz-date": "20990101T000000Z"}, ["eq", "$Content-Type", "text/plain"], ["content-length-range", "1", 10]]}
        """
    static let fields = [("key", "forms/a.txt"), ("content-type", "text/plain"), ("x-amz-algorithm", "AWS4-HMAC-SHA256"),
                         ("x-amz-credential", "test/20990101/us-east-1/s3/aws4_request"), ("x-amz-date", "20990101T000000Z"),
                         ("policy", "…"), ("x-amz-signature", "…"), ("x-ignore-me", "1")]

    @Test func decodesAndAccepts() throws {
        let p = try PostPolicy.decode(base64: policyB64(Self.boto3Like))
        #expect(p.expiration == AWSDate.parse("2099-01-01T00:00:00Z"))
        #expect(p.conditions.contains(.startsWith("key", "forms/")))
        #expect(p.conditions.contains(.eq("Content-Type", "text/plain")))
        #expect(p.lengthRange?.min == 1 && p.lengthRange?.max == 10)
        try p.check(fields: Self.fields, bucket: "b", now: 0)
    }

    @Test func failures() throws {
        let p = try PostPolicy.decode(base64: policyB64(Self.boto3Like))
        #expect(throws: accessDenied("Invalid according to Policy: Policy expired.")) {
            try p.check(fields: Self.fields, bucket: "b", now: 5_000_000_000)
        }
        #expect(throws: accessDenied("Invalid according to Policy: Policy Condition failed: [\"eq\", \"$bucket\", \"b\"]")) {
            try p.check(fields: Self.fields, bucket: "other", now: 0)
        }
        var wrongKey = Self.fields
        wrongKey[0].1 = "elsewhere/a.txt"
        #expect(throws: accessDenied("Invalid according to Policy: Policy Condition failed: [\"starts-with\", \"$key\", \"forms/\"]")) {
            try p.check(fields: wrongKey, bucket: "b", now: 0)
        }
        #expect(throws: accessDenied("Invalid according to Policy: Extra input fields: x-amz-meta-a, acl")) {
            try p.check(fields: Self.fields + [("x-amz-meta-a", "1"), ("acl", "private")], bucket: "b", now: 0)
        }
        // A missing field compares as "" and fails an exact match.
        #expect(throws: AWSError.self) { try p.check(fields: Self.fields.filter { $0.0 != "content-type" }, bucket: "b", now: 0) }
    }

    @Test func startsWithEmptyPrefixAndContentTypeLists() throws {
        let p = try PostPolicy.decode(base64: policyB64("""
            {"expiration": "2099-01-01T00:00:00.000Z", "conditions": [["starts-with", "$key", ""], ["starts-with", "$Content-Type", "image/"]]}
            """))
        try p.check(fields: [("key", "anything"), ("content-type", "image/png, image/jpeg")], bucket: "b", now: 0)
        #expect(throws: AWSError.self) { try p.check(fields: [("key", "k"), ("content-type", "image/png, text/plain")], bucket: "b", now: 0) }
    }

    @Test func lengthRange() throws {
        let p = try PostPolicy.decode(base64: policyB64(#"{"expiration": "2099-01-01T00:00:00Z", "conditions": [["content-length-range", 2, 4]]}"#))
        try p.checkLength(2)
        try p.checkLength(4)
        #expect(throws: AWSError("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")) { try p.checkLength(5) }
        #expect(throws: AWSError("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size")) { try p.checkLength(1) }
    }

    @Test(arguments: ["!!!not base64", policyB64("not json"), policyB64(#"{"conditions": []}"#),
                      policyB64(#"{"expiration": "soon", "conditions": []}"#), policyB64(#"{"expiration": "2099-01-01T00:00:00Z"}"#),
                      policyB64(#"{"expiration": "2099-01-01T00:00:00Z", "conditions": [["ends-with", "$key", "x"]]}"#),
                      policyB64(#"{"expiration": "2099-01-01T00:00:00Z", "conditions": [["eq", "key", "x"]]}"#),
                      policyB64(#"{"expiration": "2099-01-01T00:00:00Z", "conditions": [["content-length-range", "a", 1]]}"#)])
    func invalidDocuments(_ b64: String) {
        #expect { try PostPolicy.decode(base64: b64) } throws: { ($0 as? AWSError)?.code == "InvalidPolicyDocument" }
    }
}

// MARK: - PostObject through the service

/// A service over a fresh folder with bucket "bkt"; `strict` gives it the secret "test" for key "test".
private func withPostService(strict: Bool = false, _ body: (S3Service) async throws -> Void) async throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cloudless-post-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let secrets: (@Sendable (String) -> String?)? = strict ? { @Sendable (key: String) in key == "test" ? "test" : nil } : nil
    let service = try S3Service(directory: dir, clock: EmulatorClock(), logger: Logger(label: "t"), postSecrets: secrets)
    _ = try await service.handle(request(.put, "/bkt", body: []))
    try await body(service)
    try service.store.db.close()
}

private func request(_ method: HTTPRequest.Method, _ path: String, contentType: String? = nil, body: [UInt8],
                     chunk: Int = 0) -> AWSRequest {
    var headers = HTTPFields()
    if let contentType { headers[.contentType] = contentType }
    let step = chunk == 0 ? max(body.count, 1) : chunk
    let chunks = stride(from: 0, to: body.count, by: step).map { ByteBuffer(bytes: body[$0..<min($0 + step, body.count)]) }
    let stream = AsyncStream<ByteBuffer> { c in
        for b in chunks { c.yield(b) }
        c.finish()
    }
    return AWSRequest(method: method, rawPath: path, rawQuery: "", query: [], headers: headers, host: "127.0.0.1:4566",
                      body: RequestBody(asyncSequence: stream),
                      caller: CallerIdentity(accountID: "000000000000", region: "us-east-1", accessKeyID: nil), requestID: "req")
}

/// POST a form (fields in order, then the file) to bucket "bkt".
private func post(_ s: S3Service, _ fields: [(String, String)], file bytes: [UInt8]? = Array("form body".utf8),
                  filename: String = "hello.txt", after: [(String, String)] = [], chunk: Int = 0) async throws -> AWSResponse {
    var parts = fields.map { field($0.0, $0.1) }
    if let bytes { parts.append(file(bytes, filename: filename)) }
    parts += after.map { field($0.0, $0.1) }
    let body = multipart("----form7MA4YWxk", parts)
    return try await s.handle(request(.post, "/bkt", contentType: "multipart/form-data; boundary=----form7MA4YWxk", body: body, chunk: chunk))
}

/// The stored bytes and the object row of `key`.
private func stored(_ s: S3Service, _ key: String) async throws -> (ObjectVersion, [UInt8])? {
    guard let o = try await s.store.latest(bucket: "bkt", key: key) else { return nil }
    let bytes = try o.segments.flatMap { try Array(Data(contentsOf: URL(fileURLWithPath: s.store.blobs.path($0.id)))) }
    return (o, bytes)
}

private func awsError(_ body: () async throws -> Void) async -> AWSError? {
    do { try await body() } catch { return error as? AWSError }
    return nil
}

/// A SigV4-signed form for key "test" / secret "test", as boto3's generate_presigned_post builds it.
private func signedV4(_ policyJSON: String, secret: String = "test") -> [(String, String)] {
    let policy = policyB64(policyJSON)
    let key = SigV4.signingKey(secret: secret, date: "20990101", region: "us-east-1", service: "s3")
    return [("x-amz-algorithm", "AWS4-HMAC-SHA256"), ("x-amz-credential", "test/20990101/us-east-1/s3/aws4_request"),
            ("x-amz-date", "20990101T000000Z"), ("policy", policy), ("x-amz-signature", SigV4.signature(signingKey: key, stringToSign: policy))]
}

private let v4Conditions = """
    {"x-amz-algorithm": "AWS4-HMAC-SHA256"}, {"x-amz-credential": "test/20990101/us-east-1/s3/aws4_request"}, {"x-amz-date": "20990101T000000Z"}
    """

@Suite struct PostObjectServiceTests {
    @Test func uploadStreamsInTinyChunksAndStoresFormHeaders() async throws {
        try await withPostService { (s: S3Service) async throws in
            let data = awkwardBytes(5000, seed: 9)
            let r = try await post(s, [("key", "forms/${filename}"), ("Content-Type", "text/plain"), ("x-amz-meta-who", "form"),
                                       ("Cache-Control", "no-cache"), ("tagging", "<Tagging><TagSet><Tag><Key>t</Key><Value>1</Value></Tag></TagSet></Tagging>")],
                                   file: data, filename: "C:\\docs\\hello.txt", after: [("key", "ignored")], chunk: 1)
            #expect(r.status == .noContent)
            let etag = "\"" + Hex.encode(MD5.hash(data)) + "\""
            #expect(r.headers.value("ETag") == etag)
            #expect(r.headers.value("Location") == "http://127.0.0.1:4566/bkt/forms/hello.txt")
            let (o, bytes) = try #require(try await stored(s, "forms/hello.txt"))
            #expect(bytes == data && o.etag == etag)
            #expect(o.header("content-type") == "text/plain" && o.header("cache-control") == "no-cache")
            #expect(o.metadata.map { "\($0.0)=\($0.1)" } == ["who=form"])
            #expect(o.tags.map { "\($0.0)=\($0.1)" } == ["t=1"])
            #expect(o.checksumAlgorithm == .crc64nvme)
            #expect(try await stored(s, "ignored") == nil)
        }
    }

    @Test func successActionStatusAndRedirect() async throws {
        try await withPostService { (s: S3Service) async throws in
            #expect(try await post(s, [("key", "k"), ("success_action_status", "200")]).status == .ok)
            let created = try await post(s, [("key", "k"), ("success_action_status", "201")])
            #expect(created.status == .created)
            let redirect = try await post(s, [("key", "a b"), ("success_action_redirect", "https://example.com/done?x=1")])
            #expect(redirect.status == .seeOther)
            let etag = Percent.encode("\"" + Hex.encode(MD5.hash(Array("form body".utf8))) + "\"")
            #expect(redirect.headers.value("Location") == "https://example.com/done?x=1&bucket=bkt&key=a%20b&etag=\(etag)")
            #expect(try await post(s, [("key", "k"), ("success_action_status", "404")]).status == .noContent)
        }
    }

    @Test func formErrors() async throws {
        try await withPostService { (s: S3Service) async throws in
            #expect(await awsError { _ = try await post(s, [("acl", "private")]) }?.code == "InvalidArgument")
            #expect(await awsError { _ = try await post(s, [("key", "k")], file: nil) }?.message == "POST requires exactly one file upload per request.")
            let notForm = await awsError {
                _ = try await s.handle(request(.post, "/bkt", contentType: "application/x-www-form-urlencoded", body: Array("key=k".utf8)))
            }
            #expect(notForm?.status == .preconditionFailed)
            let truncated = await awsError {
                _ = try await s.handle(request(.post, "/bkt", contentType: "multipart/form-data; boundary=zz", body: Array("--zz\r\nbroken".utf8)))
            }
            #expect(truncated == AWSError("MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data."))
            let big = await awsError { _ = try await post(s, [("key", "k"), ("x-amz-meta-a", String(repeating: "x", count: 21 * 1024))]) }
            #expect(big?.code == "MaxPostPreDataLengthExceeded")
            let md5 = await awsError { _ = try await post(s, [("key", "k"), ("Content-MD5", Data(MD5.hash(Array("other".utf8))).base64EncodedString())]) }
            #expect(md5?.code == "BadDigest")
            #expect(try await stored(s, "k") == nil)
        }
    }

    @Test func policyIsEnforcedWithoutStrictAuth() async throws {
        try await withPostService { (s: S3Service) async throws in
            let policy = policyB64(#"{"expiration": "2099-01-01T00:00:00Z", "conditions": [{"bucket": "bkt"}, ["starts-with", "$key", "up/"], ["content-length-range", 1, 4]]}"#)
            // Not verified without --strict-auth, but the policy still holds.
            let fields = [("AWSAccessKeyId", "any"), ("policy", policy), ("signature", "not-checked")]
            #expect(try await post(s, [("key", "up/ok")] + fields, file: Array("1234".utf8)).status == .noContent)
            let large = await awsError { _ = try await post(s, [("key", "up/large")] + fields, file: Array("12345".utf8), chunk: 2) }
            #expect(large?.code == "EntityTooLarge")
            #expect(await awsError { _ = try await post(s, [("key", "up/small")] + fields, file: []) }?.code == "EntityTooSmall")
            #expect(await awsError { _ = try await post(s, [("key", "other/k")] + fields) }?.status == .forbidden)
            #expect(try await stored(s, "up/large") == nil)
            // A rejected upload leaves no temporary file behind.
            #expect(try FileManager.default.contentsOfDirectory(atPath: s.store.blobs.tmpDir).isEmpty)
        }
    }

    @Test func strictAuthChecksTheFormSignature() async throws {
        try await withPostService(strict: true) { (s: S3Service) async throws in
            let json = #"{"expiration": "2099-01-01T00:00:00Z", "conditions": [{"bucket": "bkt"}, {"key": "signed"}, "# + v4Conditions + "]}"
            #expect(try await post(s, [("key", "signed")] + signedV4(json)).status == .noContent)
            #expect(await awsError { _ = try await post(s, [("key", "signed")] + signedV4(json, secret: "wrong")) }?.code == "SignatureDoesNotMatch")
            let otherKey = signedV4(json).map { $0.0 == "x-amz-credential" ? ($0.0, "nobody/20990101/us-east-1/s3/aws4_request") : $0 }
            #expect(await awsError { _ = try await post(s, [("key", "signed")] + otherKey) }?.code == "InvalidAccessKeyId")
            #expect(await awsError { _ = try await post(s, [("key", "anonymous")]) }?.code == "AccessDenied")
            let noSignature = signedV4(json).filter { $0.0 != "x-amz-signature" }
            #expect(await awsError { _ = try await post(s, [("key", "signed")] + noSignature) }?.code == "InvalidArgument")
            // SigV2 form: base64 HMAC-SHA1 of the policy.
            let v2Policy = policyB64(#"{"expiration": "2099-01-01T00:00:00Z", "conditions": [{"bucket": "bkt"}, {"key": "v2"}]}"#)
            let v2 = [("AWSAccessKeyId", "test"), ("policy", v2Policy), ("signature", SigV2.signature(secret: "test", stringToSign: v2Policy))]
            #expect(try await post(s, [("key", "v2")] + v2).status == .noContent)
            #expect(try await stored(s, "v2") != nil)
        }
    }
}
