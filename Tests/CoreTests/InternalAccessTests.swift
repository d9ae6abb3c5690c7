import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Testing
@testable import Core

// Who may read the request log and SQS peek: anyone without --strict-auth; with it, a valid signature, and then only
// the signer's account.

@Suite struct InternalAccessTests {
    static let keys = ["test": "test", "111111111111": "other-secret"]

    func access(strict: Bool) -> InternalAccess {
        let auth = AuthSettings(strict: strict, credentials: Self.keys, defaultAccount: "000000000000", defaultRegion: "us-east-1")
        return InternalAccess(auth: auth, verifier: SignatureVerifier(settings: auth), clock: EmulatorClock())
    }

    /// A GET of `path` signed with a SigV4 header as the console signs it (scope service `cloudless`).
    func request(_ target: String, key: String? = nil, secret: String = "") -> Request {
        var headers = HTTPFields()
        if let key {
            let date = AWSDate.amzDate(Date().timeIntervalSince1970), day = String(date.prefix(8))
            headers.set("x-amz-date", date)
            headers.set("x-amz-content-sha256", SigV4.emptyPayloadHash)
            let path = String(target.prefix(while: { $0 != "?" }))
            let query = target.contains("?") ? Percent.parseQuery(String(target.drop(while: { $0 != "?" }).dropFirst())) ?? [] : []
            let signed = ["host", "x-amz-content-sha256", "x-amz-date"]
            let canonical = SigV4.canonicalRequest(
                method: "GET", rawPath: path, query: query,
                headers: [("host", "h"), ("x-amz-content-sha256", SigV4.emptyPayloadHash), ("x-amz-date", date)],
                signedHeaders: signed, payloadHash: SigV4.emptyPayloadHash, service: "cloudless")
            let scope = "\(day)/us-east-1/cloudless/aws4_request"
            let sts = SigV4.stringToSign(amzDate: date, scope: scope, canonicalRequest: canonical)
            let signature = SigV4.signature(signingKey: SigV4.signingKey(secret: secret, date: day, region: "us-east-1", service: "cloudless"),
                                            stringToSign: sts)
            headers[.authorization] = "AWS4-HMAC-SHA256 Credential=\(key)/\(scope), SignedHeaders=\(signed.joined(separator: ";")), Signature=\(signature)"
        }
        return Request(head: HTTPRequest(method: .get, scheme: "http", authority: "h", path: target, headerFields: headers),
                       body: RequestBody(buffer: ByteBuffer()))
    }

    func check(_ a: InternalAccess, _ target: String, key: String? = nil, secret: String = "") async -> InternalAccess.Outcome {
        let path = target.prefix(while: { $0 != "?" })
        let query = target.contains("?") ? target.drop(while: { $0 != "?" }).dropFirst() : ""
        return await a.check(request(target, key: key, secret: secret), rawPath: path, rawQuery: query)
    }

    func refusal(_ outcome: InternalAccess.Outcome) -> (Int, String)? {
        guard case .denied(let r) = outcome else { return nil }
        return (r.status.code, r.headers[.contentType] ?? "")
    }

    @Test func guardsOnlyPathsWithAccountData() {
        #expect(InternalAccess.guards("/_cloudless/requests") && InternalAccess.guards("/_cloudless/requests/stream"))
        #expect(InternalAccess.guards("/_cloudless/sqs/peek/000000000000/us-east-1/q"))
        #expect(!InternalAccess.guards("/_cloudless/health") && !InternalAccess.guards("/_cloudless/console/requests"))
        #expect(!InternalAccess.guards("/_cloudless/lambda/code/x"))
        #expect(InternalAccess.guards("/_cloudless/lambda/async-queue/000000000000/us-east-1/f"))
        #expect(InternalAccess.ownerAccount("/_cloudless/sqs/peek/111111111111/us-east-1/q") == "111111111111")
        #expect(InternalAccess.ownerAccount("/_cloudless/lambda/async-queue/222222222222/us-east-1/f:live") == "222222222222")
        #expect(InternalAccess.ownerAccount("/_cloudless/requests") == nil)
    }

    @Test func withoutStrictAuthAnyoneSeesEverything() async {
        guard case .anyone = await check(access(strict: false), "/_cloudless/requests") else { Issue.record("refused"); return }
        guard case .anyone = await check(access(strict: false), "/_cloudless/sqs/peek/111111111111/us-east-1/q") else {
            Issue.record("refused"); return
        }
    }

    @Test func strictAuthRefusesUnsignedAndBadlySigned() async {
        let a = access(strict: true)
        #expect(refusal(await check(a, "/_cloudless/requests"))?.0 == 403)
        #expect(refusal(await check(a, "/_cloudless/requests", key: "test", secret: "wrong"))?.0 == 403)
        #expect(refusal(await check(a, "/_cloudless/requests", key: "AKIDUNKNOWN", secret: "x"))?.0 == 403)
        // Unguarded paths are not checked at all.
        guard case .anyone = await check(a, "/_cloudless/health") else { Issue.record("health refused"); return }
    }

    @Test func strictAuthNamesTheSignersAccount() async {
        let a = access(strict: true)
        guard case .account(let mine) = await check(a, "/_cloudless/requests?service=sqs", key: "test", secret: "test") else {
            Issue.record("refused"); return
        }
        #expect(mine == "000000000000")
        guard case .account(let theirs) = await check(a, "/_cloudless/requests", key: "111111111111", secret: "other-secret") else {
            Issue.record("refused"); return
        }
        #expect(theirs == "111111111111")
        guard case .account = await check(a, "/_cloudless/sqs/peek/000000000000/us-east-1/q", key: "test", secret: "test") else {
            Issue.record("own queue refused"); return
        }
        #expect(refusal(await check(a, "/_cloudless/sqs/peek/111111111111/us-east-1/q", key: "test", secret: "test"))?.0 == 403)
    }

    @Test func theLogShowsOnlyTheGivenAccount() async throws {
        let log = RequestLog()
        for account in ["000000000000", "111111111111", "000000000000"] {
            log.record(method: "POST", service: "sqs", operation: "ListQueues",
                       caller: CallerIdentity(accountID: account, region: "us-east-1", accessKeyID: account), status: 200,
                       duration: .milliseconds(1), errorCode: nil)
        }
        let filter = RequestLog.Filter(query: "", onlyAccount: "111111111111")
        #expect(log.entries().filter(filter.matches).map(\.account) == ["111111111111"])
        // An `account=` filter cannot widen it.
        #expect(log.entries().filter(RequestLog.Filter(query: "account=000000000000", onlyAccount: "111111111111").matches).isEmpty)
    }
}
