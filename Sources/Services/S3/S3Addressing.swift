import Core

/// Where a request points: bucket and key, from the virtual-hosted Host or the path.
struct S3Address: Sendable {
    var bucket: String?
    var key: String?

    /// Host suffixes under which the first labels name a bucket (`bucket.s3.localhost.localstack.cloud`).
    private static let suffixes = [".localhost.localstack.cloud", ".localhost", ".amazonaws.com"]

    static func bucket(fromHost hostName: String) -> String? {
        let host = hostName.lowercased()
        for suffix in suffixes where host.hasSuffix(suffix) {
            var labels = host.dropLast(suffix.count).split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            // Drop a trailing `s3` or `s3.<region>` / `s3-<region>` service part.
            if labels.count >= 2, labels[labels.count - 2] == "s3", Region.isValid(labels[labels.count - 1]),
               labels[labels.count - 1].contains("-") {
                labels.removeLast(2)
            } else if let last = labels.last, last == "s3" || last.hasPrefix("s3-") {
                labels.removeLast()
            }
            if labels.isEmpty || labels == [""] { return nil }
            return labels.joined(separator: ".")
        }
        return nil
    }

    static func parse(hostName: String, rawPath: String) throws -> S3Address {
        guard let path = Percent.decode(rawPath) else {
            throw S3Error.invalidArgument("The path is not valid URL encoding.")
        }
        if let bucket = bucket(fromHost: hostName) {
            let key = path.hasPrefix("/") ? String(path.dropFirst()) : path
            return S3Address(bucket: bucket, key: key.isEmpty ? nil : key)
        }
        var rest = Substring(path)
        if rest.hasPrefix("/") { rest = rest.dropFirst() }
        if rest.isEmpty { return S3Address(bucket: nil, key: nil) }
        guard let slash = rest.firstIndex(of: "/") else { return S3Address(bucket: String(rest), key: nil) }
        let key = rest[rest.index(after: slash)...]
        return S3Address(bucket: String(rest[..<slash]), key: key.isEmpty ? nil : String(key))
    }
}
