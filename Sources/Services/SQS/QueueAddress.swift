import Core

/// Queue URLs: `http://<host the client used>/<account>/<name>`. Any host form is accepted back
/// (`localhost`, `127.0.0.1`, `sqs.us-east-1.localhost.localstack.cloud`...): only the path names the queue.
enum QueueAddress {
    static func url(host: String, account: String, name: String) -> String {
        "http://\(host)/\(account)/\(name)"
    }

    /// Account and name from a QueueUrl, a bare `/account/name` path, or a bare queue name (the caller's queue).
    static func parse(_ url: String, callerAccount: String? = nil) throws -> (account: String, name: String) {
        if let callerAccount, !url.isEmpty, !url.contains("/") { return (callerAccount, url) }
        var rest = Substring(url)
        if let scheme = rest.range(of: "://") {
            rest = rest[scheme.upperBound...]
            guard let slash = rest.firstIndex(of: "/") else { throw SQSError.invalidAddress(url) }
            rest = rest[slash...]
        }
        let parts = rest.split(separator: "/", omittingEmptySubsequences: true)
        guard parts.count == 2, AccountID.isValid(String(parts[0])) else {
            throw SQSError.queueDoesNotExist()
        }
        return (String(parts[0]), String(parts[1]))
    }
}
