import Core
import Foundation
import HTTPTypes

/// The fields of a browser form upload that came before the file.
struct PostForm {
    /// Names lowercased (S3 compares form field names without case), values as sent, in order.
    var fields: [(String, String)] = []
    /// Bytes of names and values so far: S3 refuses more than 20 KB before the file.
    var size = 0

    func value(_ name: String) -> String? { fields.first { $0.0 == name }?.1 }
}

/// The file part being streamed into a blob, with what the form decided about the object.
struct PostUpload {
    var writer: BlobWriter
    var key: String
    var policy: PostPolicy?
    var maxSize: Int
    var md5 = MD5()
    var hasher: ChecksumHasher
    var requested: ChecksumAlgorithm?
    var claimedChecksum: String?
    var contentMD5: [UInt8]?
    var size = 0
    var headers: [(String, String)]
    var metadata: [(String, String)]
    var tags: [(String, String)]
    var storageClass: String
    var successStatus: String?
    var redirect: String?

    mutating func consume(_ data: UnsafeRawBufferPointer) throws {
        size += data.count
        if size > maxSize {
            try policy?.checkLength(size)  // the policy's own EntityTooLarge, when it set the bound
            throw AWSError("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
                .with("ProposedSize", String(size)).with("MaxSizeAllowed", String(UploadBody.maxSinglePut))
        }
        md5.update(data)
        hasher.update(data)
        try writer.write(data)
    }
}

extension S3Service {
    static let maxPostFieldBytes = 20 * 1024

    /// Browser form upload (boto3 `generate_presigned_post`): multipart/form-data fields, then the file, streamed
    /// to a blob as it arrives. The policy and the signature in the form are checked when the file part starts,
    /// before any of its bytes are kept.
    func postObject(_ ctx: BucketContext) async throws -> AWSResponse {
        let r = ctx.request
        guard let boundary = r.header("content-type").flatMap(MultipartFormParser.boundary(contentType:)),
              var parser = MultipartFormParser(boundary: boundary)
        else {
            throw AWSError("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", status: .preconditionFailed)
                .with("Condition", "Bucket POST must be of the enclosure-type multipart/form-data")
        }
        let bucket = try await requireBucket(ctx.bucket)
        var form = PostForm()
        var field: (name: String, value: [UInt8])?
        var upload: PostUpload?
        var inFile = false, fileSeen = false
        do {
            for try await buffer in r.body {
                try buffer.withUnsafeReadableBytes { raw in
                    try parser.feed(raw) { event in
                        switch event {
                        case .partStart(let part):
                            guard !fileSeen else { return }  // fields after the file are ignored
                            guard let name = part.name?.lowercased() else { throw MultipartFormParser.Malformed(reason: "part without a name") }
                            if name == "file" {
                                fileSeen = true
                                inFile = true
                                upload = try preparePost(form, filename: part.filename ?? "", bucket: bucket, request: r)
                            } else {
                                field = (name, [])
                                form.size += name.utf8.count
                            }
                        case .data(let bytes):
                            if inFile {
                                try upload?.consume(bytes)
                            } else if field != nil {
                                form.size += bytes.count
                                if form.size > Self.maxPostFieldBytes {
                                    throw AWSError("MaxPostPreDataLengthExceeded", "Your POST request fields preceeding the upload file was too large.")
                                        .with("MaxPostPreDataLength", String(Self.maxPostFieldBytes))
                                }
                                field?.value.append(contentsOf: bytes)
                            }
                        case .partEnd:
                            if inFile {
                                inFile = false
                            } else if let f = field {
                                form.fields.append((f.name, String(decoding: f.value, as: UTF8.self)))
                                field = nil
                            }
                        }
                    }
                }
            }
            try parser.finish()
        } catch {
            upload?.writer.discard()
            if error is MultipartFormParser.Malformed {
                throw AWSError("MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data.")
            }
            if error is AWSError || error is CancellationError { throw error }
            throw S3Error.incompleteBody()  // the client went away mid-body
        }
        guard let upload else {
            if form.value("key") == nil { throw Self.missingField("key") }
            throw S3Error.invalidArgument("POST requires exactly one file upload per request.", name: "file", value: "0")
        }
        do {
            try upload.policy?.checkLength(upload.size)
            return try await finishPost(upload, bucket: bucket, request: r)
        } catch {
            upload.writer.discard()  // no-op once committed; commit() then removes the blob itself
            throw error
        }
    }

    static func missingField(_ name: String) -> AWSError {
        S3Error.invalidArgument("Bucket POST must contain a field named '\(name)'.  If it is specified, please check the order of the fields.",
                                name: name, value: "")
    }

    /// Everything that can be decided before the file's bytes: key, signature, policy, object headers. Opens the blob.
    func preparePost(_ form: PostForm, filename: String, bucket: Bucket, request r: AWSRequest) throws -> PostUpload {
        // ${filename} in any field is the file's name without the path a browser may send.
        let base = filename.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        let fields = form.fields.map { ($0.0, $0.1.replacingOccurrences(of: "${filename}", with: base)) }
        func value(_ name: String) -> String? { fields.first { $0.0 == name }?.1 }

        guard let key = value("key") else { throw Self.missingField("key") }
        if key.isEmpty { throw S3Error.invalidArgument("User key must have a length greater than 0.", name: "key", value: "") }
        if key.utf8.count > 1024 { throw S3Error.keyTooLong(key.utf8.count) }
        let accessKey = try authenticatePost(value)
        let policy = try value("policy").map { try PostPolicy.decode(base64: $0) }
        try policy?.check(fields: fields, bucket: bucket.name, now: clock.now())
        guard bucket.account == AccountID.from(accessKey: accessKey, default: r.caller.accountID) else { throw AWSError.accessDenied() }

        // The object's headers are form fields here: read them through the PutObject header code.
        var asHeaders = HTTPFields()
        for (name, v) in fields {
            if let n = HTTPField.Name(name) { asHeaders.append(HTTPField(name: n, value: v)) }
        }
        // The form's `acl` field is the canned ACL of x-amz-acl.
        if let acl = value("acl") { asHeaders.set("x-amz-acl", acl) }
        var fake = r
        fake.headers = asHeaders
        let headers = ObjectHeaders.with(try requestedObjectACL(fake, bucket: bucket), owner: Self.canonicalUserID(bucket.account),
                                         withDefaultEncryption(try ObjectHeaders.systemHeaders(fake), bucket: bucket.name)
                                            + (try lockHeaders(fake, bucket: bucket, requireIntegrity: false)))
        let metadata = try ObjectHeaders.userMetadata(fake)
        let storageClass = try ObjectHeaders.storageClass(fake)
        let requested = try UploadBody.requestedAlgorithm(fake)
        let tags = try value("tagging").map { try ObjectHeaders.tagging(xml: Array($0.utf8)) } ?? []
        var contentMD5: [UInt8]?
        if let b64 = value("content-md5") {
            guard let d = Data(base64Encoded: b64), d.count == 16 else {
                throw AWSError("InvalidDigest", "The Content-MD5 you specified was invalid.").with("Content-MD5", b64)
            }
            contentMD5 = Array(d)
        }
        let algorithm = requested ?? .crc64nvme
        let writer = try store.blobs.create()
        return PostUpload(
            writer: writer, key: key, policy: policy, maxSize: min(policy?.lengthRange?.max ?? Int.max, UploadBody.maxSinglePut),
            hasher: ChecksumHasher(algorithm: algorithm), requested: requested, claimedChecksum: value(algorithm.headerName),
            contentMD5: contentMD5, headers: headers, metadata: metadata, tags: tags, storageClass: storageClass,
            successStatus: value("success_action_status"), redirect: value("success_action_redirect") ?? value("redirect"))
    }

    /// The signature of the policy, checked only with --strict-auth (`postSecrets` set); the access key it names
    /// picks the account either way. A form without a policy is anonymous, which strict mode refuses.
    func authenticatePost(_ value: (String) -> String?) throws -> String? {
        let credential = value("x-amz-credential")
        let v2Key = value("awsaccesskeyid")
        guard let policy = value("policy") else {
            for name in ["x-amz-signature", "signature"] where value(name) != nil { throw Self.missingField("policy") }
            if credential != nil || v2Key != nil { throw Self.missingField("policy") }
            if postSecrets != nil { throw AWSError.accessDenied() }
            return nil
        }
        if value("x-amz-algorithm") != nil || credential != nil || value("x-amz-signature") != nil {
            for name in ["x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature"] where value(name) == nil {
                throw Self.missingField(name)
            }
            let algorithm = value("x-amz-algorithm")!
            guard algorithm == SigV4.algorithm else {
                throw S3Error.invalidArgument("Only AWS4-HMAC-SHA256 is supported for POST.", name: "x-amz-algorithm", value: algorithm)
            }
            guard let scope = SigV4Credential(credential!) else {
                throw S3Error.invalidArgument("Invalid credential: expected AKID/yyyyMMdd/region/s3/aws4_request.",
                                              name: "x-amz-credential", value: credential!)
            }
            if let secrets = postSecrets {
                guard let secret = secrets(scope.accessKeyId) else { throw AWSError.invalidAccessKeyId() }
                let key = SigV4.signingKey(secret: secret, date: scope.date, region: scope.region, service: scope.service)
                guard SigV4.constantTimeEquals(SigV4.signature(signingKey: key, stringToSign: policy), value("x-amz-signature")!) else {
                    throw AWSError.signatureDoesNotMatch()
                }
            }
            return scope.accessKeyId
        }
        guard let v2Key else { throw Self.missingField("AWSAccessKeyId") }
        guard let signature = value("signature") else { throw Self.missingField("Signature") }
        if let secrets = postSecrets {
            guard let secret = secrets(v2Key) else { throw AWSError.invalidAccessKeyId() }
            guard SigV4.constantTimeEquals(SigV2.signature(secret: secret, stringToSign: policy), signature) else {
                throw AWSError.signatureDoesNotMatch()
            }
        }
        return v2Key
    }


    /// Digest checks, then the object is committed as PutObject commits it; the answer the form asked for.
    func finishPost(_ upload: PostUpload, bucket: Bucket, request r: AWSRequest) async throws -> AWSResponse {
        let digest = upload.md5.finalize()
        if let expected = upload.contentMD5, expected != digest { throw S3Error.badDigest() }
        let checksum = upload.hasher.finalize()
        let algorithm = upload.requested ?? .crc64nvme
        if let claimed = upload.claimedChecksum {
            guard let c = Data(base64Encoded: claimed), c.count == checksum.count else {
                throw S3Error.invalidRequest("Value for \(algorithm.headerName) header is invalid.")
            }
            if Array(c) != checksum { throw S3Error.badDigest(algorithm.rawValue) }
        }
        try upload.writer.commit()
        let etag = "\"" + Hex.encode(digest) + "\""
        let checksumBase64 = Data(checksum).base64EncodedString()
        let versionID = bucket.versioning == "Enabled" ? Self.newVersionID() : "null"
        let object = ObjectVersion(
            bucket: bucket.name, key: upload.key, versionID: versionID, isLatest: true, isDeleteMarker: false,
            size: upload.size, etag: etag, lastModified: wallSeconds(), headers: upload.headers, metadata: upload.metadata,
            tags: upload.tags, storageClass: upload.storageClass, checksumAlgorithm: algorithm, checksumValue: checksumBase64,
            checksumType: "FULL_OBJECT", parts: [], segments: [BlobSegment(id: upload.writer.id, size: upload.size)],
            owner: bucket.account)
        try await commit(object, bucket: bucket, request: r, newBlobs: [upload.writer.id], event: "ObjectCreated:Post")

        // Path-style forms post to /bucket; virtual-hosted ones to / on the bucket's host.
        let encodedKey = Percent.encode(upload.key, keepSlash: true)
        let location = r.rawPath.count > 1 ? "http://\(r.host)/\(bucket.name)/\(encodedKey)" : "http://\(r.host)/\(encodedKey)"
        var h = HTTPFields()
        h.set("ETag", etag)
        h.set("Location", location)
        Self.setEncryption(&h, from: object.headers)
        if let requested = upload.requested {
            h.set(requested.headerName, checksumBase64)
            h.set("x-amz-checksum-type", "FULL_OBJECT")
        }
        if bucket.versioning != nil { h.set("x-amz-version-id", versionID) }

        if let redirect = upload.redirect, redirect.hasPrefix("http://") || redirect.hasPrefix("https://") {
            let query = "bucket=\(Percent.encode(bucket.name))&key=\(Percent.encode(upload.key))&etag=\(Percent.encode(etag))"
            h.set("Location", redirect + (redirect.contains("?") ? "&" : "?") + query)
            return AWSResponse(status: .seeOther, headers: h)
        }
        switch upload.successStatus {
        case "200":
            return AWSResponse(status: .ok, headers: h)
        case "201":
            var xml = XMLWriter()
            xml.open("PostResponse")
            xml.element("Location", location)
            xml.element("Bucket", bucket.name)
            xml.element("Key", upload.key)
            xml.element("ETag", etag)
            xml.close()
            return AWSResponse(status: .created, headers: h, xml: xml)
        default:
            return AWSResponse(status: .noContent, headers: h)
        }
    }
}
