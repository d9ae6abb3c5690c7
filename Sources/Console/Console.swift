public import Core
public import Hummingbird
import HTTPTypes
import NIOCore

/// The console at `/_cloudless/console/`: one HTML shell per page, rendered here, and static assets. The pages are an
/// AWS client in the browser: their JavaScript calls the real APIs on the same origin, signed with SigV4, so nothing
/// the console does bypasses what any client can do (ARCHITECTURE.md, "The console").
public struct Console: InternalRoutes {
    /// Page path → title, in the order of the navigation bar.
    static let pages: [(path: String, title: String)] = [
        ("s3", "S3"), ("sqs", "SQS"), ("secretsmanager", "Secrets Manager"), ("lambda", "Lambda"), ("ecs", "ECS"),
        ("logs", "CloudWatch Logs"), ("iam", "IAM"), ("cloudformation", "CloudFormation"), ("requests", "Request log"),
    ]
    static let prefix = "/_cloudless/console"

    let strict: Bool
    let defaultAccount: String
    let defaultRegion: String
    let shells: [String: Asset]

    public init(strictAuth: Bool, defaultAccount: String, defaultRegion: String) {
        self.strict = strictAuth
        self.defaultAccount = defaultAccount
        self.defaultRegion = defaultRegion
        var shells: [String: Asset] = [:]
        for (path, title) in [("", "Overview")] + Self.pages {
            shells[path] = Asset(text: Self.shell(page: path, title: title, strict: strictAuth, account: defaultAccount,
                                                  region: defaultRegion), name: "page.html")
        }
        self.shells = shells
    }

    public func response(to request: Request, path: Substring, query: Substring) async -> Response? {
        guard path == Self.prefix || path.hasPrefix(Self.prefix + "/") else { return nil }
        guard request.method == .get || request.method == .head else {
            return plain(.methodNotAllowed, "The console's pages are read with GET.")
        }
        if path == Self.prefix {
            var headers = HTTPFields()
            headers[.location] = Self.prefix + "/"
            return Response(status: .found, headers: headers)
        }
        let rest = path.dropFirst(Self.prefix.count + 1)
        if rest.hasPrefix("assets/") {
            guard let asset = Asset.all[String(rest.dropFirst("assets/".count))] else { return plain(.notFound, "No such asset.") }
            return serve(asset, request)
        }
        let page = rest.hasSuffix("/") ? String(rest.dropLast()) : String(rest)
        guard let shell = shells[page] else { return plain(.notFound, "No console page '\(page)'.") }
        return serve(shell, request)
    }

    /// With `Cache-Control: no-cache` and an ETag, a browser revalidates every load (a new binary's assets are
    /// never stale) and gets an empty 304 while they are unchanged.
    func serve(_ asset: Asset, _ request: Request) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = asset.contentType
        headers[.cacheControl] = "no-cache"
        headers[.eTag] = asset.etag
        headers[.xContentTypeOptions] = "nosniff"
        if let tags = request.headers[.ifNoneMatch],
           tags.split(separator: ",").contains(where: { $0.trimmingCharacters(in: " ") == asset.etag || $0 == "*" }) {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentLength] = String(asset.bytes.count)
        if request.method == .head { return Response(status: .ok, headers: headers) }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: asset.bytes)))
    }

    func plain(_ status: HTTPResponse.Status, _ text: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text + "\n")))
    }
}

extension Substring {
    func trimmingCharacters(in set: Character) -> Substring {
        var s = self
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return s
    }
}
