import Core
import Logging

/// The server-log note written when a stage is created or deployed: where it answers on this machine. A stack's
/// `ApiUrl` names AWS's host (`<id>.execute-api.<region>.amazonaws.com`), which resolves to AWS; the
/// `execute-api.localhost` form resolves here (RFC 6761) and the gateway sends its `execute-api` label to this service.
struct StageNote: Sendable {
    /// The bound port once the server listens; nil (units) means the default 4566.
    let endpoint: ServerEndpoint?
    let logger: Logger

    /// The stage's base URL; a `$default` stage answers at the root.
    static func url(apiID: String, stage: String, port: Int) -> String {
        "http://\(apiID).execute-api.localhost:\(port)/" + (stage == "$default" ? "" : stage + "/")
    }

    func served(apiID: String, stage: String) {
        logger.notice("API Gateway: \(apiID) stage \(stage) is served at \(Self.url(apiID: apiID, stage: stage, port: endpoint?.port ?? 4566))")
    }
}
