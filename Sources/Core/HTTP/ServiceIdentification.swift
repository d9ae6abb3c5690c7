/// Finds the service a request is for, the way AWS SDKs address a custom endpoint (DESIGN.md §2):
/// X-Amz-Target, then the SigV4 credential scope, then Query `Action`/`Version`, then REST-JSON path
/// prefixes, then the Host name; anything else is S3.
public struct ServiceIdentification: Sendable {
    /// `X-Amz-Target` prefix (`AmazonSQS`, `secretsmanager`) → signing name.
    /// Known before the services exist, so an unsigned JSON request for one gets a JSON answer.
    public var targetPrefixes: [String: String] = [
        "AmazonSQS": "sqs", "secretsmanager": "secretsmanager", "AmazonEC2ContainerServiceV20141113": "ecs",
        "Logs_20140328": "logs", "AWSLambda": "lambda",
        "AnyScaleFrontendService": "application-autoscaling", "DynamoDB_20120810": "dynamodb",
        "DynamoDBStreams_20120810": "dynamodb",
    ]
    /// Query protocol `Version` → signing name (`2011-06-15` → `sts`).
    public var queryVersions: [String: String] = [:]
    /// REST-JSON path prefixes (`/2015-03-31/functions`) → signing name.
    public var pathPrefixes: [(String, String)] = []
    /// Signing names that are aliases of another (`sqs` keeps its own; `s3express` → `s3`).
    public var aliases: [String: String] = [:]

    public init() {}

    public enum Result: Equatable {
        case service(String)
        /// A Query request whose Action/Version lives in a form body that must be read first.
        case formBody
    }

    public func identify(target: String?, credentials: RequestCredentials, query: [(String, String)],
                         path: String, hostName: String, contentType: String?, isPost: Bool) -> Result {
        if let target, let dot = target.firstIndex(of: ".") {
            if let name = targetPrefixes[String(target[..<dot])] { return .service(name) }
        }
        if let scoped = credentials.scopeService {
            return .service(aliases[scoped] ?? scoped)
        }
        if let version = query.first(where: { $0.0 == "Version" })?.1, query.contains(where: { $0.0 == "Action" }),
           let name = queryVersions[version] {
            return .service(name)
        }
        for (prefix, name) in pathPrefixes where path.hasPrefix(prefix) { return .service(name) }
        if let first = hostName.split(separator: ".").first, hostName.contains(".") {
            // `sts.localhost`, `sqs.us-east-1.localhost.localstack.cloud`
            let label = String(first)
            if label != "s3", queryVersions.values.contains(label) || targetPrefixes.values.contains(label) {
                return .service(label)
            }
        }
        // An unsigned form POST to `/` or to a queue path (`/000000000000/orders`): the form names the service.
        if isPost, let ct = contentType, ct.lowercased().hasPrefix("application/x-www-form-urlencoded"),
           path == "/" || Self.isQueuePath(path) {
            return .formBody
        }
        return .service("s3")
    }

    /// `/<12-digit account>/<name>`: where SQS's Query requests may be sent.
    public static func isQueuePath(_ path: String) -> Bool {
        let parts = path.split(separator: "/")
        return parts.count == 2 && AccountID.isValid(String(parts[0]))
    }

    /// The region a request names: the credential scope, else a region label in the Host, else nil.
    public static func region(credentials: RequestCredentials, hostName: String) -> String? {
        if let r = credentials.scopeRegion, Region.isValid(r) { return r }
        // s3.eu-west-1.localhost..., sqs.us-east-1.localhost.localstack.cloud, bucket.s3.us-west-2.amazonaws.com
        // Only real region names: a bucket called `tf-state-1` is not a region.
        for label in hostName.split(separator: ".") where Region.known.contains(String(label)) {
            return String(label)
        }
        return nil
    }
}
