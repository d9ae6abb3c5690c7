import HTTPTypes
import Synchronization
import Testing
@testable import Core

/// A provider with one key that can be switched off, as IAM's UpdateAccessKey/DeleteAccessKey do.
private final class OneKey: CredentialProvider {
    let active = Mutex(true)
    func secretKey(for accessKeyID: String) -> (secret: String, account: String)? {
        guard accessKeyID == "AKIAIOSFODNN7EXAMPLE", active.withLock({ $0 }) else { return nil }
        return ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "123456789012")
    }
}

@Suite struct CredentialProviderTests {
    // The GET Object example of the S3 API Reference (sig-v4-header-based-auth), signed with the documented key.
    let header = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"

    func verify(_ auth: AuthSettings, service: String = "s3") async throws -> RequestSignature? {
        let creds = RequestCredentials.parse(authorization: header, query: [])
        var headers = HTTPFields()
        headers.set("range", "bytes=0-9")
        headers.set("x-amz-content-sha256", SigV4.emptyPayloadHash)
        headers.set("x-amz-date", "20130524T000000Z")
        return try await SignatureVerifier(settings: auth).verify(
            creds, service: service, method: .get, rawPath: "/test.txt", query: [], headers: headers,
            host: "examplebucket.s3.amazonaws.com", now: AWSDate.parse("20130524T000000Z")!, payloadHash: { "" })
    }

    @Test func anIssuedKeySignsAfterTheStaticOnes() async throws {
        let provider = OneKey()
        let auth = AuthSettings(strict: true, credentials: ["test": "test"], defaultAccount: "000000000000",
                                defaultRegion: "us-east-1", provider: provider)
        let signature = try await verify(auth)
        #expect(signature?.accessKeyID == "AKIAIOSFODNN7EXAMPLE")
        #expect(auth.secret(for: "test") == "test")
        #expect(auth.secret(for: "AKIAIOSFODNN7EXAMPLE") == "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")

        // Switched off (Inactive or deleted): unknown, in each service's words.
        provider.active.withLock { $0 = false }
        await #expect(throws: AWSError.invalidAccessKeyId()) { try await verify(auth) }
        await #expect(throws: AWSError("InvalidClientTokenId", "The security token included in the request is invalid.",
                                       status: .forbidden)) { try await verify(auth, service: "sts") }
    }

    @Test func withoutAProviderOnlyStaticKeysSign() async throws {
        let auth = AuthSettings(strict: true, credentials: ["test": "test"], defaultAccount: "000000000000", defaultRegion: "us-east-1")
        await #expect(throws: AWSError.invalidAccessKeyId()) { try await verify(auth) }
    }

    @Test func anIssuedKeyActsInTheAccountThatIssuedIt() {
        let provider = OneKey()
        let auth = AuthSettings(strict: false, credentials: ["test": "test"], defaultAccount: "000000000000",
                                defaultRegion: "us-east-1", provider: provider)
        #expect(auth.account(for: "AKIAIOSFODNN7EXAMPLE") == "123456789012")
        #expect(auth.account(for: "test") == "000000000000")
        #expect(auth.account(for: "111122223333") == "111122223333")
        #expect(auth.account(for: "other") == "000000000000")
        #expect(auth.account(for: nil) == "000000000000")
        provider.active.withLock { $0 = false }
        #expect(auth.account(for: "AKIAIOSFODNN7EXAMPLE") == "000000000000")
    }
}
