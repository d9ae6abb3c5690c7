import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `/_cloudless/snapshots`: GET lists; `POST /_cloudless/snapshots/<name>` saves; `POST …/<name>/restore` restores;
/// `DELETE …/<name>` deletes. Names arrive percent-encoded (`a%2Fb` is the name `a/b`, refused).
extension SnapshotStore {
    static let prefix = "/_cloudless/snapshots"

    func handle(method: HTTPRequest.Method, path: String) async -> Response? {
        guard path == Self.prefix || path.hasPrefix(Self.prefix + "/") else { return nil }
        let segments = path.dropFirst(Self.prefix.count).split(separator: "/", omittingEmptySubsequences: true)
            .map { String($0).removingPercentEncoding ?? String($0) }
        let started = ContinuousClock.now
        func elapsed() -> Double {
            let d = ContinuousClock.now - started
            return ((Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15) * 1000).rounded() / 1000
        }
        do {
            switch (method, segments.count) {
            case (.get, 0):
                let items = list().map { e in
                    "{\"name\":\(JSONString.quote(e.manifest.name)),\"created\":\(e.manifest.created),\"size\":\(e.size),"
                        + "\"version\":\(JSONString.quote(e.manifest.version))}"
                }
                return Self.json("{\"snapshots\":[\(items.joined(separator: ","))]}")
            case (.post, 1), (.put, 1):
                let m = try await save(segments[0])
                return Self.json("{\"name\":\(JSONString.quote(m.name)),\"created\":\(m.created),\"databases\":\(m.databases.count),"
                                 + "\"linkedFiles\":\(m.linkedFiles),\"milliseconds\":\(elapsed())}")
            case (.post, 2) where segments[1] == "restore":
                let m = try await restore(segments[0])
                return Self.json("{\"restored\":\(JSONString.quote(m.name)),\"milliseconds\":\(elapsed())}")
            case (.delete, 1):
                try delete(segments[0])
                return Self.json("{\"deleted\":\(JSONString.quote(segments[0]))}")
            case (_, 0), (_, 1):
                return Self.error(SnapshotError(status: 405, code: "MethodNotAllowed", message: "\(method.rawValue) is not allowed here."))
            case (_, 2) where segments[1] == "restore":
                return Self.error(SnapshotError(status: 405, code: "MethodNotAllowed", message: "\(method.rawValue) is not allowed here."))
            default:
                // More segments than a name: the name had a '/' in it.
                return Self.error(SnapshotError.invalidName("A snapshot name must not contain '/' or '\\'."))
            }
        } catch let error as SnapshotError {
            return Self.error(error)
        } catch {
            return Self.error(SnapshotError(status: 500, code: "InternalError", message: "\(error)"))
        }
    }

    static func error(_ e: SnapshotError) -> Response {
        json("{\"code\":\(JSONString.quote(e.code)),\"error\":\(JSONString.quote(e.message))}", status: .init(code: e.status))
    }

    static func json(_ s: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: s)))
    }
}
