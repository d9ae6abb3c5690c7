import Core

/// S3's error answers (code, status and the resource elements S3 adds to the document).
enum S3Error {
    static func noSuchBucket(_ bucket: String) -> AWSError {
        AWSError("NoSuchBucket", "The specified bucket does not exist", status: .notFound).with("BucketName", bucket)
    }
    static func noSuchKey(_ key: String) -> AWSError {
        AWSError("NoSuchKey", "The specified key does not exist.", status: .notFound).with("Key", key)
    }
    static func noSuchVersion(_ key: String, _ version: String) -> AWSError {
        AWSError("NoSuchVersion", "The specified version does not exist.", status: .notFound).with("Key", key).with("VersionId", version)
    }
    static func noSuchUpload(_ id: String) -> AWSError {
        AWSError("NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
                 status: .notFound).with("UploadId", id)
    }
    static func invalidBucketName(_ bucket: String) -> AWSError {
        AWSError("InvalidBucketName", "The specified bucket is not valid.").with("BucketName", bucket)
    }
    static func malformedXML() -> AWSError {
        AWSError("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
    }
    static func invalidArgument(_ message: String, name: String? = nil, value: String? = nil) -> AWSError {
        var e = AWSError("InvalidArgument", message)
        if let name { e = e.with("ArgumentName", name) }
        if let value { e = e.with("ArgumentValue", value) }
        return e
    }
    static func invalidRequest(_ message: String) -> AWSError {
        AWSError("InvalidRequest", message)
    }
    static func preconditionFailed(_ condition: String) -> AWSError {
        AWSError("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", status: .preconditionFailed)
            .with("Condition", condition)
    }
    static func badDigest(_ what: String = "Content-MD5") -> AWSError {
        if what == "Content-MD5" {
            return AWSError("BadDigest", "The Content-MD5 you specified did not match what we received.")
        }
        return AWSError("BadDigest", "The \(what) you specified did not match the calculated checksum.")
    }
    static func incompleteBody() -> AWSError {
        AWSError("IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header")
    }
    static func keyTooLong(_ size: Int) -> AWSError {
        AWSError("KeyTooLongError", "Your key is too long").with("MaxSizeAllowed", "1024").with("Size", String(size))
    }
    static func methodNotAllowed(_ method: String, resource: String) -> AWSError {
        AWSError("MethodNotAllowed", "The specified method is not allowed against this resource.", status: .methodNotAllowed)
            .with("Method", method).with("ResourceType", resource)
    }
}

/// Bucket naming rules (general purpose buckets).
enum BucketName {
    static func isValid(_ name: String) -> Bool {
        let b = Array(name.utf8)
        guard b.count >= 3, b.count <= 63 else { return false }
        func alnum(_ c: UInt8) -> Bool { (c >= 97 && c <= 122) || (c >= 48 && c <= 57) }
        guard alnum(b.first!), alnum(b.last!) else { return false }
        for (i, c) in b.enumerated() {
            guard alnum(c) || c == 45 || c == 46 else { return false }
            if c == 46, i > 0, b[i - 1] == 46 || b[i - 1] == 45 { return false }
            if c == 45, i > 0, b[i - 1] == 46 { return false }
        }
        // Not formatted as an IP address.
        let labels = name.split(separator: ".")
        if labels.count == 4, labels.allSatisfy({ Int($0) != nil }) { return false }
        if name.hasPrefix("xn--") || name.hasPrefix("sthree-") || name.hasPrefix("amzn-s3-demo-") || name.hasSuffix("-s3alias")
            || name.hasSuffix("--ol-s3") || name.hasSuffix(".mrap") || name.hasSuffix("--x-s3") || name.hasSuffix("--table-s3") {
            return false
        }
        return true
    }
}
