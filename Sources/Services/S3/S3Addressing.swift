import Core

/// Where a request points: bucket and key, from the virtual-hosted Host or the path.
struct S3Address: Sendable {
    var bucket: String?
    var key: String?

    static func parse(hostName: String, rawPath: String) throws -> S3Address {
        guard let path = Percent.decode(rawPath) else {
            throw S3Error.invalidArgument("The path is not valid URL encoding.")
        }
        if let bucket = VirtualHostedStyle.bucket(fromHost: hostName) {
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
