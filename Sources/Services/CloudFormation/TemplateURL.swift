import Core
import Foundation

/// `TemplateURL`: an S3 object URL, read from Cloudless's own S3 through Core's `ObjectSource`. Path-style and
/// virtual-hosted URLs are accepted on Cloudless's own host (the one the request addressed), `localhost`,
/// `127.0.0.1`, and AWS's `s3.amazonaws.com`, `s3.<region>.amazonaws.com` and `s3-<region>.amazonaws.com` forms.
enum TemplateURL {
    static let unreachable = "TemplateURL must reference a valid S3 object to which you have access."
    static let notS3 = "TemplateURL must be an Amazon S3 URL."
    /// AWS's limit on a template read from S3.
    static let limit = 1_000_000

    /// (bucket, key) of a URL, or nil when it is not one of the accepted S3 forms.
    static func location(_ url: String, ownHost: String) -> (bucket: String, key: String)? {
        guard let c = URLComponents(string: url), let scheme = c.scheme?.lowercased(), scheme == "https" || scheme == "http",
              let host = c.host?.lowercased(), !host.isEmpty else { return nil }
        let path = c.percentEncodedPath.removingPercentEncoding ?? c.path
        let own = ownHost.lowercased()
        let pathHosts: Set<String> = ["localhost", "127.0.0.1", own, "s3.amazonaws.com"]
        func pathStyle() -> (String, String)? {
            let rest = path.drop(while: { $0 == "/" })
            guard let slash = rest.firstIndex(of: "/") else { return nil }
            let bucket = String(rest[..<slash]), key = String(rest[rest.index(after: slash)...])
            return bucket.isEmpty || key.isEmpty ? nil : (bucket, key)
        }
        func virtual(_ bucket: Substring) -> (String, String)? {
            let key = String(path.drop(while: { $0 == "/" }))
            return bucket.isEmpty || key.isEmpty ? nil : (String(bucket), key)
        }
        if pathHosts.contains(host) || isRegionalS3(host) { return pathStyle() }
        for base in ["localhost", "127.0.0.1", own, "s3.amazonaws.com"] where !base.isEmpty && host.hasSuffix("." + base) {
            return virtual(host.dropLast(base.count + 1))
        }
        // <bucket>.s3.<region>.amazonaws.com / <bucket>.s3-<region>.amazonaws.com
        if host.hasSuffix(".amazonaws.com"), let dot = host.range(of: ".s3") {
            let rest = String(host[host.index(after: dot.lowerBound)...])
            if isRegionalS3(rest) { return virtual(host[..<dot.lowerBound]) }
        }
        return nil
    }

    /// `s3.<region>.amazonaws.com` or `s3-<region>.amazonaws.com`.
    static func isRegionalS3(_ host: String) -> Bool {
        guard host.hasSuffix(".amazonaws.com") else { return false }
        let head = host.dropLast(".amazonaws.com".count)
        if head.hasPrefix("s3.") { return !head.dropFirst(3).isEmpty && !head.dropFirst(3).contains(".") }
        if head.hasPrefix("s3-") { return !head.dropFirst(3).isEmpty && !head.dropFirst(3).contains(".") }
        return false
    }

    static func read(_ url: String, objects: (any ObjectSource)?, ownHost: String) async throws -> String {
        guard let (bucket, key) = location(url, ownHost: ownHost) else { throw CFNError.validation(notS3) }
        guard let objects else { throw CFNError.validation(unreachable) }
        let bytes: [UInt8]
        do {
            bytes = try await objects.objectBytes(bucket: bucket, key: key, limit: limit)
        } catch let e as AWSError where e.code == "EntityTooLarge" {
            throw CFNError.validation("Template may not exceed \(limit) bytes in size.")
        } catch {
            throw CFNError.validation(unreachable)
        }
        guard let text = String(bytes: bytes, encoding: .utf8) else {
            throw CFNError.templateFormat("template is not valid UTF-8")
        }
        return text
    }
}
