import Core
import Foundation
import GRDB
import Logging
import Testing
@testable import S3

// S3 internals called directly: range parsing (RFC 9110 §14 as S3 applies it), addressing, bucket naming
// rules (S3 User Guide, "General purpose bucket naming rules"), ETag conditions, row encodings, and the
// store's listing order, which must be UTF-8 byte order as S3 documents for ListObjectsV2.

// MARK: - ByteRange

@Suite struct ByteRangeTests {
    @Test(arguments: [
        ("bytes=0-9", 100, ByteRange.some(start: 0, length: 10)),
        ("bytes=0-0", 100, ByteRange.some(start: 0, length: 1)),
        ("bytes=2-5", 20, ByteRange.some(start: 2, length: 4)),
        ("bytes=99-99", 100, ByteRange.some(start: 99, length: 1)),
        ("bytes=10-1000", 20, ByteRange.some(start: 10, length: 10)),  // end clamped to the last byte
        ("bytes=5-", 10, ByteRange.some(start: 5, length: 5)),
        ("bytes=0-", 10, ByteRange.some(start: 0, length: 10)),
        ("bytes=-5", 10, ByteRange.some(start: 5, length: 5)),
        ("bytes=-10", 10, ByteRange.some(start: 0, length: 10)),
        ("bytes=-20", 10, ByteRange.some(start: 0, length: 10)),  // suffix larger than the object: all of it
        ("Bytes=1-2", 10, ByteRange.some(start: 1, length: 2)),
        (" bytes=1-2 ", 10, ByteRange.some(start: 1, length: 2)),
    ])
    func satisfiable(_ header: String, _ size: Int, _ expected: ByteRange) {
        #expect(ByteRange.parse(header, size: size) == expected)
    }

    @Test(arguments: [
        ("bytes=10-", 10), ("bytes=10-20", 10), ("bytes=100-200", 20), ("bytes=20-", 20),
        ("bytes=-0", 10),  // a zero-length suffix selects nothing
    ])
    func unsatisfiable(_ header: String, _ size: Int) {
        #expect(ByteRange.parse(header, size: size) == .unsatisfiable)
    }

    @Test(arguments: [
        "bytes=0-1,3-4", "bytes=0-1, 3-4",  // multi-range: S3 answers the whole object
        "bytes=5-2",  // reversed
        "0-5", "items=0-5", "bytes 0-5", "bytes=", "bytes=-", "bytes=abc", "bytes=a-b", "bytes=1-b", "bytes=--5", "bytes=0x1-2",
        "garbage", "",
    ])
    func ignored(_ header: String) {
        #expect(ByteRange.parse(header, size: 20) == ByteRange.none)
    }

    @Test func emptyObject() {
        // No byte of an empty object can be selected: S3 answers InvalidRange.
        #expect(ByteRange.parse("bytes=0-", size: 0) == .unsatisfiable)
        #expect(ByteRange.parse("bytes=0-0", size: 0) == .unsatisfiable)
        #expect(ByteRange.parse("bytes=-5", size: 0) == .unsatisfiable)
        #expect(ByteRange.parse("bytes=0-1,2-3", size: 0) == ByteRange.none)
    }
}

// MARK: - Addressing

@Suite struct AddressingTests {
    /// [bucket, key]
    private func address(_ host: String, _ path: String) throws -> [String?] {
        let a = try S3Address.parse(hostName: host, rawPath: path)
        return [a.bucket, a.key]
    }

    @Test func pathStyle() throws {
        #expect(try address("127.0.0.1", "/bucket/key") == ["bucket", "key"])
        #expect(try address("127.0.0.1", "/bucket/dir/sub/file.txt") == ["bucket", "dir/sub/file.txt"])
        #expect(try address("127.0.0.1", "/bucket") == ["bucket", nil])
        #expect(try address("127.0.0.1", "/bucket/") == ["bucket", nil])
        #expect(try address("127.0.0.1", "/") == [nil, nil])
        #expect(try address("127.0.0.1", "") == [nil, nil])
        #expect(try address("localhost", "/bucket/key") == ["bucket", "key"])
        #expect(try address("s3.localhost.localstack.cloud", "/bucket/key") == ["bucket", "key"])
        #expect(try address("s3.eu-west-1.amazonaws.com", "/bucket/key") == ["bucket", "key"])
    }

    @Test func slashesInKeysAreKept() throws {
        #expect(try address("127.0.0.1", "/bucket//a//b/") == ["bucket", "/a//b/"])
        #expect(try address("127.0.0.1", "/bucket//") == ["bucket", "/"])
        #expect(try address("127.0.0.1", "/bucket/%2Fa") == ["bucket", "/a"])
        #expect(try address("bucket.localhost", "//x") == ["bucket", "/x"])
    }

    @Test func encodedKeysAreDecodedOnce() throws {
        #expect(try address("127.0.0.1", "/bucket/a%20b%2Fc%3F%23") == ["bucket", "a b/c?#"])
        #expect(try address("127.0.0.1", "/bucket/%E2%82%AC%C3%A4") == ["bucket", "€ä"])
        #expect(try address("127.0.0.1", "/bucket/a+b") == ["bucket", "a+b"])  // '+' in a path is a plus
        #expect(try address("127.0.0.1", "/bucket/%2541") == ["bucket", "%41"])
        #expect(try address("bucket.localhost", "/a%20b") == ["bucket", "a b"])
    }

    @Test func badEncodingThrows() {
        #expect(throws: AWSError.self) { try S3Address.parse(hostName: "127.0.0.1", rawPath: "/bucket/%ZZ") }
        #expect(throws: AWSError.self) { try S3Address.parse(hostName: "127.0.0.1", rawPath: "/bucket/%FF") }
    }

    @Test func virtualHosted() throws {
        #expect(try address("bucket.localhost", "/key/x") == ["bucket", "key/x"])
        #expect(try address("bucket.localhost", "/") == ["bucket", nil])
        #expect(try address("bucket.s3.localhost.localstack.cloud", "/k") == ["bucket", "k"])
        // The Host names the bucket: the first path segment is part of the key.
        #expect(try address("bucket.s3.localhost.localstack.cloud", "/other/k") == ["bucket", "other/k"])
    }

    @Test(arguments: [
        ("bucket.localhost", "bucket"),
        ("bucket.s3.localhost.localstack.cloud", "bucket"),
        ("bucket.s3.us-east-1.localhost.localstack.cloud", "bucket"),
        ("my.dotted.bucket.localhost", "my.dotted.bucket"),
        ("my.dotted.bucket.s3.localhost.localstack.cloud", "my.dotted.bucket"),
        ("bucket.s3.eu-west-1.amazonaws.com", "bucket"),
        ("bucket.s3.amazonaws.com", "bucket"),
        ("bucket.s3-us-west-2.amazonaws.com", "bucket"),
        ("my-bucket-1.s3.ap-southeast-2.amazonaws.com", "my-bucket-1"),
        ("Bucket.LOCALHOST", "bucket"),
    ])
    func bucketFromHost(_ host: String, _ bucket: String) {
        #expect(VirtualHostedStyle.bucket(fromHost: host) == bucket)
    }

    @Test(arguments: [
        "s3.localhost.localstack.cloud", "s3.us-east-1.localhost.localstack.cloud", "localhost.localstack.cloud",
        "localhost", "s3.localhost", "127.0.0.1", "s3.amazonaws.com", "s3.eu-west-1.amazonaws.com", "s3-us-west-2.amazonaws.com",
        "::1", "example.com", "",
    ])
    func noBucketInHost(_ host: String) {
        #expect(VirtualHostedStyle.bucket(fromHost: host) == nil)
    }
}

// MARK: - Bucket names

@Suite struct BucketNameTests {
    @Test(arguments: [
        "abc", "docexamplebucket1", "log-delivery-march-2020", "my-hosted-content", "docexamplewebsite.com",
        "www.docexamplewebsite.com", "my.example.s3.bucket", "123", "a-b", "a.b", "1.2.3", "1.2.3.4.5", "999.1.1.1a",
        String(repeating: "a", count: 63), "xn-a", "sthree", "s3alias", "bucket-s3aliasx", "mrap.bucket",
    ])
    func valid(_ name: String) {
        #expect(BucketName.isValid(name))
    }

    @Test(arguments: [
        "", "ab", String(repeating: "a", count: 64),
        "doc_example_bucket", "DocExampleBucket", "doc-example-bucket-", "-bucket", ".bucket", "bucket.", "example..com",
        "bucket name", "bücket", "bucket!", "bucket/x",
        "192.168.5.4", "10.0.0.1",
        "xn--bucket", "sthree-bucket", "sthree-configurator-bucket", "amzn-s3-demo-bucket",
        "bucket-s3alias", "bucket--ol-s3", "bucket.mrap", "bucket--x-s3", "bucket--table-s3",
    ])
    func invalid(_ name: String) {
        #expect(!BucketName.isValid(name))
    }
}

// MARK: - ETag conditions

@Suite struct ETagTests {
    static let etag = "\"9b2cf535f27731c974343645a3985328\""

    @Test func matches() {
        #expect(ETag.matches("\"9b2cf535f27731c974343645a3985328\"", Self.etag))
        #expect(ETag.matches("9b2cf535f27731c974343645a3985328", Self.etag))  // S3 accepts it unquoted
        #expect(ETag.matches("*", Self.etag))
        #expect(ETag.matches("\"other\", \"9b2cf535f27731c974343645a3985328\"", Self.etag))
        #expect(ETag.matches("\"other\",*", Self.etag))
        #expect(ETag.matches("  \"9b2cf535f27731c974343645a3985328\"  ", Self.etag))
        #expect(ETag.matches("\"d41d8cd98f00b204e9800998ecf8427e-2\"", "\"d41d8cd98f00b204e9800998ecf8427e-2\""))
    }

    @Test func doesNotMatch() {
        #expect(!ETag.matches("\"9b2cf535f27731c974343645a3985329\"", Self.etag))
        #expect(!ETag.matches("\"other\", \"another\"", Self.etag))
        #expect(!ETag.matches("", Self.etag))
        #expect(!ETag.matches("\"9b2cf535f27731c974343645a3985328-1\"", Self.etag))
        #expect(!ETag.matches("\"9B2CF535F27731C974343645A3985328\"", Self.etag))  // ETags compare exactly
    }
}

// MARK: - Row encodings

@Suite struct RowEncodingTests {
    private func same(_ a: [(String, String)], _ b: [(String, String)]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    }

    @Test func headerPairs() {
        let pairs = [("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", "max-age=1, a:b"), ("Content-Language", ""),
                     ("x-amz-server-side-encryption", "AES256"), ("Content-Disposition", "attachment; filename=\"ä €.txt\"")]
        let encoded = HeaderPairs.encode(pairs)
        #expect(encoded == "Content-Type:text/plain; charset=utf-8\nCache-Control:max-age=1, a:b\nContent-Language:\n"
            + "x-amz-server-side-encryption:AES256\nContent-Disposition:attachment; filename=\"ä €.txt\"")
        #expect(same(HeaderPairs.decode(encoded), pairs))
        #expect(HeaderPairs.encode([]) == "")
        #expect(HeaderPairs.decode("").isEmpty)
    }

    @Test func tagSet() {
        let tags = [("a b", "c&d=e"), ("ü", "+/%"), ("empty", ""), ("key", "value with spaces + plus")]
        let encoded = TagSet.encode(tags)
        #expect(encoded == "a%20b=c%26d%3De&%C3%BC=%2B%2F%25&empty=&key=value%20with%20spaces%20%2B%20plus")
        #expect(same(TagSet.decode(encoded), tags))
        #expect(TagSet.decode(nil).isEmpty)
        #expect(TagSet.decode("").isEmpty)
    }

    @Test func blobSegments() {
        let segments = [BlobSegment(id: "0123456789abcdef0123456789abcdef", size: 5_242_880), BlobSegment(id: "ff", size: 0)]
        let encoded = BlobSegment.encode(segments)
        #expect(encoded == "0123456789abcdef0123456789abcdef:5242880,ff:0")
        #expect(BlobSegment.decode(encoded) == segments)
        #expect(BlobSegment.encode([]) == "")
        #expect(BlobSegment.decode("") == [])
    }

    @Test func objectParts() {
        let parts = [ObjectPart(size: 5_242_880, checksum: "AAAAAA=="), ObjectPart(size: 3, checksum: nil),
                     ObjectPart(size: 0, checksum: "mZ/9+w==")]
        let encoded = ObjectPart.encode(parts)
        #expect(encoded == "5242880:AAAAAA==,3,0:mZ/9+w==")
        #expect(ObjectPart.decode(encoded) == parts)
        #expect(ObjectPart.decode(nil) == [])
        #expect(ObjectPart.decode("") == [])
    }

    @Test func continuationToken() throws {
        for bytes in [Data("a/b".utf8), Data(), Data("ä€😀/".utf8) + Data([0xFF]), Data([0, 1, 0xFE, 0xFF])] {
            let token = ContinuationToken.encode(after: bytes)
            #expect(token.hasPrefix("1"))
            #expect(ContinuationToken.decode(token) == bytes)
        }
        #expect(ContinuationToken.encode(after: Data("a/b".utf8)) == "1YS9i")
        #expect(ContinuationToken.decode("garbage") == nil)
        #expect(ContinuationToken.decode("") == nil)
        #expect(ContinuationToken.decode("1!!!") == nil)
        #expect(ContinuationToken.decode("2YS9i") == nil)
    }
}

// MARK: - Store and listing

/// An S3 service over a fresh temporary folder, removed afterwards.
private func withService(_ body: (S3Service) async throws -> Void) async throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cloudless-s3-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let service = try S3Service(directory: dir, clock: EmulatorClock(), logger: Logger(label: "t"))
    try await body(service)
    try service.store.db.close()
}

private func object(_ key: String, bucket: String = "b", version: String = "null", deleteMarker: Bool = false,
                    modified: Double = 1000, blobs: [String] = []) -> ObjectVersion {
    ObjectVersion(
        bucket: bucket, key: key, versionID: version, isLatest: true, isDeleteMarker: deleteMarker, size: blobs.count,
        etag: "\"\(key)@\(version)\"", lastModified: modified, headers: [("Content-Type", "text/plain")], metadata: [("m", "1")],
        tags: [], storageClass: "STANDARD", checksumAlgorithm: nil, checksumValue: nil, checksumType: nil, parts: [],
        segments: blobs.map { BlobSegment(id: $0, size: 1) }, owner: "000000000000")
}

private func createBucket(_ store: S3Store, _ name: String = "b", versioning: String? = nil) async throws {
    try await store.db.write { db in
        try db.execute(sql: "INSERT INTO bucket (name, account, region, created, versioning) VALUES (?, ?, ?, ?, ?)",
                       arguments: [name, "000000000000", "us-east-1", 0.0, versioning])
    }
}

/// Put unversioned objects under `keys`, in the order given.
private func put(_ store: S3Store, _ keys: [String], bucket: String = "b") async throws {
    try await store.db.write { db in
        for k in keys { _ = try S3Store.putVersion(object(k, bucket: bucket), versioning: nil, db) }
    }
}

private func put(_ store: S3Store, _ o: ObjectVersion, versioning: String?) async throws -> [String] {
    try await store.db.write { db in try S3Store.putVersion(o, versioning: versioning, db) }
}

private func keys(_ store: S3Store, prefix: String = "", after: String? = nil, afterBytes: Data? = nil, limit: Int = 1000,
                  bucket: String = "b") async throws -> [String] {
    let cursor = afterBytes ?? after.map { Data($0.utf8) }
    return try await store.listLatest(bucket: bucket, prefix: prefix, after: cursor, limit: limit).map(\.key)
}

private func rowCount(_ store: S3Store, key: String) async throws -> Int {
    try await store.db.read { db in
        try Int.fetchOne(db, sql: "SELECT count(*) FROM object WHERE bucket = 'b' AND key = ?", arguments: [Data(key.utf8)]) ?? -1
    }
}

@Suite struct S3StoreTests {
    // Byte order of the UTF-8 encodings:
    // "//y" 2F2F79 < "/x" 2F78 < "Z" 5A < "a" 61 < "a+" 612B < "a/b" 612F62 < "ä" C3A4 < "～" EFBD9E < "😀" F09F9880.
    // ("😀" sorts before "～" in UTF-16, and "Z" before "a" only by code point, so neither order would pass by accident.)
    static let shuffled = ["ä", "a/b", "😀", "Z", "a+", "//y", "～", "a", "/x"]
    static let sorted = ["//y", "/x", "Z", "a", "a+", "a/b", "ä", "～", "😀"]

    @Test func listingIsUTF8ByteOrder() async throws {
        try await withService { s in
            try await createBucket(s.store)
            try await put(s.store, Self.shuffled)
            #expect(try await keys(s.store) == Self.sorted)
        }
    }

    @Test func listingIsPerBucket() async throws {
        try await withService { s in
            try await createBucket(s.store)
            try await createBucket(s.store, "other")
            try await put(s.store, ["a", "b"])
            try await put(s.store, ["a", "c"], bucket: "other")
            #expect(try await keys(s.store) == ["a", "b"])
            #expect(try await keys(s.store, bucket: "other") == ["a", "c"])
            #expect(try await keys(s.store, bucket: "none") == [])
        }
    }

    @Test func prefixBounds() async throws {
        try await withService { s in
            try await createBucket(s.store)
            try await put(s.store, Self.shuffled + ["b", "x", "x\u{10FFFF}", "x\u{10FFFF}z", "y"])
            #expect(try await keys(s.store, prefix: "a") == ["a", "a+", "a/b"])
            #expect(try await keys(s.store, prefix: "a/") == ["a/b"])
            #expect(try await keys(s.store, prefix: "/") == ["//y", "/x"])
            #expect(try await keys(s.store, prefix: "//") == ["//y"])
            #expect(try await keys(s.store, prefix: "ä") == ["ä"])
            #expect(try await keys(s.store, prefix: "a/b") == ["a/b"])
            #expect(try await keys(s.store, prefix: "a/bc") == [])
            #expect(try await keys(s.store, prefix: "c") == [])
            // The highest code point (F4 8F BF BF) still sorts inside the prefix's range.
            #expect(try await keys(s.store, prefix: "x") == ["x", "x\u{10FFFF}", "x\u{10FFFF}z"])
            #expect(try await keys(s.store, prefix: "x\u{10FFFF}") == ["x\u{10FFFF}", "x\u{10FFFF}z"])
        }
    }

    @Test func afterCursor() async throws {
        try await withService { s in
            try await createBucket(s.store)
            try await put(s.store, Self.shuffled)
            #expect(try await keys(s.store, after: "a") == ["a+", "a/b", "ä", "～", "😀"])
            #expect(try await keys(s.store, after: "a", limit: 2) == ["a+", "a/b"])
            #expect(try await keys(s.store, after: "0") == ["Z", "a", "a+", "a/b", "ä", "～", "😀"])
            #expect(try await keys(s.store, after: "😀") == [])
            #expect(try await keys(s.store, after: "") == Self.sorted)
            // Everything under "a/" is skipped with the 0xFF bound.
            #expect(try await keys(s.store, afterBytes: Data("a/".utf8) + Data([0xFF])) == ["ä", "～", "😀"])
        }
    }

    @Test func afterCursorWithPrefix() async throws {
        try await withService { s in
            try await createBucket(s.store)
            try await put(s.store, Self.shuffled)
            #expect(try await keys(s.store, prefix: "a", after: "a") == ["a+", "a/b"])
            #expect(try await keys(s.store, prefix: "a", after: "a+") == ["a/b"])
            #expect(try await keys(s.store, prefix: "a", after: "a/b") == [])
            // A cursor before the prefix starts at the prefix, one after its range finds nothing.
            #expect(try await keys(s.store, prefix: "a", after: "0") == ["a", "a+", "a/b"])
            #expect(try await keys(s.store, prefix: "a", after: "Z") == ["a", "a+", "a/b"])
            #expect(try await keys(s.store, prefix: "a", after: "b") == [])
            #expect(try await keys(s.store, prefix: "/", after: "//y") == ["/x"])
        }
    }

    @Test func limit() async throws {
        try await withService { s in
            try await createBucket(s.store)
            try await put(s.store, Self.shuffled)
            #expect(try await keys(s.store, limit: 3) == ["//y", "/x", "Z"])
            #expect(try await keys(s.store, limit: 0) == [])
        }
    }

    @Test func rowsReadBackAsWritten() async throws {
        try await withService { s in
            try await createBucket(s.store)
            var o = object("dir/ä €.txt", blobs: ["b1", "b2"])
            o.tags = [("k", "v w")]
            o.parts = [ObjectPart(size: 1, checksum: "x=="), ObjectPart(size: 1, checksum: "y==")]
            _ = try await put(s.store, o, versioning: nil)
            let back = try #require(try await s.store.latest(bucket: "b", key: "dir/ä €.txt"))
            #expect(back.key == "dir/ä €.txt")
            #expect(back.versionID == "null")
            #expect(back.isLatest)
            #expect(!back.isDeleteMarker)
            #expect(back.etag == "\"dir/ä €.txt@null\"")
            #expect(back.lastModified == 1000)
            #expect(back.header("Content-Type") == "text/plain")
            #expect(back.metadata.count == 1 && back.metadata.first?.0 == "m" && back.metadata.first?.1 == "1")
            #expect(back.tags.count == 1 && back.tags.first?.0 == "k" && back.tags.first?.1 == "v w")
            #expect(back.parts == o.parts)
            #expect(back.segments == o.segments)
            #expect(back.owner == "000000000000")
            #expect(try await s.store.latest(bucket: "b", key: "dir/ä €.TXT") == nil)
        }
    }

    @Test func replacingTheNullVersionFreesItsBlobs() async throws {
        try await withService { s in
            try await createBucket(s.store)
            #expect(try await put(s.store, object("k", blobs: ["b1"]), versioning: nil) == [])
            #expect(try await put(s.store, object("k", modified: 2000, blobs: ["b2", "b3"]), versioning: nil) == ["b1"])
            #expect(try await rowCount(s.store, key: "k") == 1)
            let latest = try #require(try await s.store.latest(bucket: "b", key: "k"))
            #expect(latest.segments.map(\.id) == ["b2", "b3"])
            #expect(latest.lastModified == 2000)
            #expect(try await put(s.store, object("k", blobs: []), versioning: nil) == ["b2", "b3"])
            // Another key is not affected.
            #expect(try await put(s.store, object("k2", blobs: ["c1"]), versioning: nil) == [])
            #expect(try await rowCount(s.store, key: "k") == 1)
        }
    }

    @Test func versioningEnabledKeepsEveryVersion() async throws {
        try await withService { s in
            try await createBucket(s.store, versioning: "Enabled")
            #expect(try await put(s.store, object("k", version: "v1", modified: 100, blobs: ["b1"]), versioning: "Enabled") == [])
            #expect(try await put(s.store, object("k", version: "v2", modified: 200, blobs: ["b2"]), versioning: "Enabled") == [])
            #expect(try await rowCount(s.store, key: "k") == 2)
            #expect(try await s.store.latest(bucket: "b", key: "k")?.versionID == "v2")
            #expect(try await s.store.version(bucket: "b", key: "k", versionID: "v1")?.isLatest == false)
            // One latest version per key in listings.
            let listed = try await s.store.listLatest(bucket: "b", prefix: "", after: nil, limit: 10)
            #expect(listed.map(\.versionID) == ["v2"])
        }
    }

    @Test func suspendedVersioningReplacesOnlyTheNullVersion() async throws {
        try await withService { s in
            try await createBucket(s.store, versioning: "Suspended")
            _ = try await put(s.store, object("k", version: "v1", modified: 100, blobs: ["b1"]), versioning: "Enabled")
            #expect(try await put(s.store, object("k", modified: 200, blobs: ["n1"]), versioning: "Suspended") == [])
            #expect(try await put(s.store, object("k", modified: 300, blobs: ["n2"]), versioning: "Suspended") == ["n1"])
            #expect(try await rowCount(s.store, key: "k") == 2)
            #expect(try await s.store.latest(bucket: "b", key: "k")?.segments.map(\.id) == ["n2"])
            #expect(try await s.store.version(bucket: "b", key: "k", versionID: "v1")?.isLatest == false)
        }
    }

    @Test func deleteMarkersAreNotListed() async throws {
        try await withService { s in
            try await createBucket(s.store, versioning: "Enabled")
            _ = try await put(s.store, object("a", version: "v1"), versioning: "Enabled")
            _ = try await put(s.store, object("d", version: "v1"), versioning: "Enabled")
            _ = try await put(s.store, object("d", version: "v2", deleteMarker: true), versioning: "Enabled")
            #expect(try await keys(s.store) == ["a"])
            #expect(try await s.store.latest(bucket: "b", key: "d")?.isDeleteMarker == true)
        }
    }

    @Test func deletingTheLatestVersionPromotesThePreviousOne() async throws {
        try await withService { s in
            try await createBucket(s.store, versioning: "Enabled")
            _ = try await put(s.store, object("k", version: "v1", modified: 100, blobs: ["x1"]), versioning: "Enabled")
            _ = try await put(s.store, object("k", version: "v2", modified: 200, blobs: ["x2"]), versioning: "Enabled")
            let freed = try await s.store.db.write { db in try S3Store.deleteVersion(bucket: "b", key: "k", versionID: "v2", db) }
            #expect(freed == ["x2"])
            let latest = try #require(try await s.store.latest(bucket: "b", key: "k"))
            #expect(latest.versionID == "v1")
            #expect(latest.isLatest)
            #expect(try await keys(s.store) == ["k"])

            let last = try await s.store.db.write { db in try S3Store.deleteVersion(bucket: "b", key: "k", versionID: "v1", db) }
            #expect(last == ["x1"])
            #expect(try await s.store.latest(bucket: "b", key: "k") == nil)
            #expect(try await rowCount(s.store, key: "k") == 0)
        }
    }

    @Test func deletingAnOlderVersionKeepsTheLatest() async throws {
        try await withService { s in
            try await createBucket(s.store, versioning: "Enabled")
            for (i, v) in ["v1", "v2", "v3"].enumerated() {
                _ = try await put(s.store, object("k", version: v, modified: Double(100 * (i + 1)), blobs: ["x\(i + 1)"]), versioning: "Enabled")
            }
            let freed = try await s.store.db.write { db in try S3Store.deleteVersion(bucket: "b", key: "k", versionID: "v2", db) }
            #expect(freed == ["x2"])
            #expect(try await s.store.latest(bucket: "b", key: "k")?.versionID == "v3")
            #expect(try await s.store.version(bucket: "b", key: "k", versionID: "v1")?.isLatest == false)
            let none = try await s.store.db.write { db in try S3Store.deleteVersion(bucket: "b", key: "k", versionID: "nope", db) }
            #expect(none == [])
            #expect(try await rowCount(s.store, key: "k") == 2)
        }
    }

    @Test func promotionPrefersTheNewerRowOnEqualTimes() async throws {
        try await withService { s in
            try await createBucket(s.store, versioning: "Enabled")
            for v in ["v1", "v2", "v3"] {
                _ = try await put(s.store, object("k", version: v, modified: 100), versioning: "Enabled")
            }
            _ = try await s.store.db.write { db in try S3Store.deleteVersion(bucket: "b", key: "k", versionID: "v3", db) }
            #expect(try await s.store.latest(bucket: "b", key: "k")?.versionID == "v2")
        }
    }

    @Test func promotedDeleteMarkerHidesTheKey() async throws {
        try await withService { s in
            try await createBucket(s.store, versioning: "Enabled")
            _ = try await put(s.store, object("k", version: "v1", modified: 100), versioning: "Enabled")
            _ = try await put(s.store, object("k", version: "v2", deleteMarker: true, modified: 200), versioning: "Enabled")
            _ = try await put(s.store, object("k", version: "v3", modified: 300), versioning: "Enabled")
            #expect(try await keys(s.store) == ["k"])
            _ = try await s.store.db.write { db in try S3Store.deleteVersion(bucket: "b", key: "k", versionID: "v3", db) }
            #expect(try await s.store.latest(bucket: "b", key: "k")?.isDeleteMarker == true)
            #expect(try await keys(s.store) == [])
        }
    }
}

// MARK: - walk (ListObjects grouping)

private func describe(_ entries: [S3Service.ListEntry]) -> [String] {
    entries.map {
        switch $0 {
        case .object(let o): return o.key
        case .prefix(let p): return "P:" + p
        }
    }
}

/// What a walk returned: objects by key, CommonPrefixes as "P:<prefix>", and whether it was cut short.
private struct Walked: Equatable, CustomStringConvertible {
    var entries: [String]
    var truncated: Bool
    init(_ entries: [String], _ truncated: Bool) {
        self.entries = entries
        self.truncated = truncated
    }
    var description: String { "\(entries) truncated=\(truncated)" }
}

@Suite struct WalkTests {
    static let keys = ["a/1", "a/2", "b", "c/d/e", "c/f", "d"]

    private func walk(_ s: S3Service, prefix: String = "", delimiter: String = "", after: Data? = nil, maxKeys: Int = 1000)
        async throws -> Walked {
        let (entries, truncated) = try await s.walk(bucket: "b", prefix: prefix, delimiter: delimiter, after: after, maxKeys: maxKeys)
        return Walked(describe(entries), truncated)
    }

    @Test func withoutDelimiterEveryKeyIsAnObject() async throws {
        try await withService { s in
            try await createBucket(s.store)
            try await put(s.store, Self.keys)
            #expect(try await walk(s) == Walked(Self.keys, false))
            #expect(try await walk(s, maxKeys: 6) == Walked(Self.keys, false))
            #expect(try await walk(s, maxKeys: 5) == Walked(Array(Self.keys.prefix(5)), true))
            #expect(try await walk(s, maxKeys: 1) == Walked(["a/1"], true))
            #expect(try await walk(s, prefix: "c/") == Walked(["c/d/e", "c/f"], false))
        }
    }

    @Test func delimiterGroupsCommonPrefixes() async throws {
        try await withService { s in
            try await createBucket(s.store)
            try await put(s.store, Self.keys)
            #expect(try await walk(s, delimiter: "/") == Walked(["P:a/", "b", "P:c/", "d"], false))
            #expect(try await walk(s, prefix: "c/", delimiter: "/") == Walked(["P:c/d/", "c/f"], false))
            #expect(try await walk(s, prefix: "c", delimiter: "/") == Walked(["P:c/"], false))
            #expect(try await walk(s, prefix: "c/d/", delimiter: "/") == Walked(["c/d/e"], false))
            #expect(try await walk(s, prefix: "z", delimiter: "/") == Walked([], false))
        }
    }

    @Test func maxKeysCountsPrefixesAndObjectsTogether() async throws {
        try await withService { s in
            try await createBucket(s.store)
            try await put(s.store, Self.keys)
            #expect(try await walk(s, delimiter: "/", maxKeys: 1) == Walked(["P:a/"], true))
            #expect(try await walk(s, delimiter: "/", maxKeys: 2) == Walked(["P:a/", "b"], true))
            #expect(try await walk(s, delimiter: "/", maxKeys: 3) == Walked(["P:a/", "b", "P:c/"], true))
            // Exactly as many entries as there are: not truncated.
            #expect(try await walk(s, delimiter: "/", maxKeys: 4) == Walked(["P:a/", "b", "P:c/", "d"], false))
            #expect(try await walk(s, delimiter: "/", maxKeys: 0).entries == [])
        }
    }

    @Test func resumingAfterAPrefixSkipsItsKeys() async throws {
        try await withService { s in
            try await createBucket(s.store)
            try await put(s.store, Self.keys)
            let afterA = Data("a/".utf8) + Data([0xFF])
            #expect(try await walk(s, delimiter: "/", after: afterA, maxKeys: 2) == Walked(["b", "P:c/"], true))
            let afterC = Data("c/".utf8) + Data([0xFF])
            #expect(try await walk(s, delimiter: "/", after: afterC) == Walked(["d"], false))
            #expect(try await walk(s, delimiter: "/", after: Data("b".utf8)) == Walked(["P:c/", "d"], false))
            // Resuming in the middle of a group still reports the group (as S3 does after a start-after inside it).
            #expect(try await walk(s, delimiter: "/", after: Data("a/1".utf8)) == Walked(["P:a/", "b", "P:c/", "d"], false))
        }
    }

    @Test func multiCharacterAndNonSlashDelimiters() async throws {
        try await withService { s in
            try await createBucket(s.store)
            try await put(s.store, ["photos-2024-jan", "photos-2024-feb", "photos-2025-jan", "readme", "x::y::z", "x::w"])
            #expect(try await walk(s, prefix: "photos-", delimiter: "-")
                == Walked(["P:photos-2024-", "P:photos-2025-"], false))
            #expect(try await walk(s, delimiter: "::") == Walked(["photos-2024-feb", "photos-2024-jan", "photos-2025-jan", "readme", "P:x::"], false))
            #expect(try await walk(s, prefix: "x::", delimiter: "::") == Walked(["x::w", "P:x::y::"], false))
        }
    }

    @Test func nonASCIIPrefixAndDelimiter() async throws {
        try await withService { s in
            try await createBucket(s.store)
            try await put(s.store, ["ä/ö/1", "ä/ö/2", "ä/ü", "äb", "é€x€y"])
            #expect(try await walk(s, prefix: "ä/", delimiter: "/") == Walked(["P:ä/ö/", "ä/ü"], false))
            #expect(try await walk(s, delimiter: "€") == Walked(["ä/ö/1", "ä/ö/2", "ä/ü", "äb", "P:é€"], false))
        }
    }

    @Test func largeFolderIsSkippedAndLargeListingsTruncate() async throws {
        try await withService { s in
            try await createBucket(s.store)
            // 1500 keys under f/ in one statement (putVersion per key is what the other tests cover).
            try await s.store.db.write { db in
                try db.execute(sql: """
                    WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 1499)
                    INSERT INTO object (bucket, key, version_id, is_latest, is_delete_marker, size, etag, last_modified,
                                        headers, metadata, storage_class, blobs, owner)
                    SELECT 'b', CAST(printf('f/%04d', i) AS BLOB), 'null', 1, 0, 0, '"e"', 0, '', '', 'STANDARD', '', 'o' FROM n
                    """)
            }
            try await put(s.store, ["g", "e"])
            #expect(try await walk(s, delimiter: "/") == Walked(["e", "P:f/", "g"], false))
            let page = try await walk(s)
            let flat = page.entries
            #expect(flat.count == 1000)
            #expect(page.truncated)
            #expect(flat.first == "e")
            #expect(flat.last == "f/0998")
            #expect(try await walk(s, after: Data("f/0998".utf8), maxKeys: 3) == Walked(["f/0999", "f/1000", "f/1001"], true))
            #expect(try await walk(s, after: Data("f/1498".utf8), maxKeys: 3) == Walked(["f/1499", "g"], false))
        }
    }
}
