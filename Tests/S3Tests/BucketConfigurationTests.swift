import Core
import Foundation
import Testing
@testable import S3

// Bucket sub-resources: CORS rule matching, ACLs as canned names, grant headers and their stored form, and website
// routing rules (S3 User Guide: "CORS configuration", "Access control list (ACL) overview", "Configuring a
// webpage redirect").

private func xml(_ s: String) -> XMLElement { XMLElement.parse(Array(s.utf8))! }

@Suite struct CORSRuleTests {
    @Test func wildcardsMatchAnyRun() {
        #expect(Wildcard.matches("*", "http://anything:1234"))
        #expect(Wildcard.matches("http://*.origin.com", "http://test.origin.com"))
        #expect(!Wildcard.matches("http://*.origin.com", "http://test.origin.com/"))
        #expect(Wildcard.matches("x-amz-*", "x-amz-date"))
        #expect(!Wildcard.matches("https://a.com", "http://a.com"))
        #expect(Wildcard.matches("a*b*c", "abc") && Wildcard.matches("a*b*c", "a-b-b-c") && !Wildcard.matches("a*b*c", "acb"))
    }

    @Test func firstRuleAllowingOriginMethodAndHeadersMatches() throws {
        let config = try CORSConfiguration.parse(xml("""
            <CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>https://a.test</AllowedOrigin>
            <AllowedHeader>X-Amz-*</AllowedHeader></CORSRule></CORSConfiguration>
            """))
        let rule = config.rules[0]
        #expect(rule.matches(origin: "https://a.test", method: "GET", headers: ["x-amz-date"]))
        #expect(!rule.matches(origin: "https://a.test", method: "PUT", headers: []))
        #expect(!rule.matches(origin: "https://a.test", method: "GET", headers: ["authorization"]))
        let headers = CORSConfiguration.headers(rule, origin: "https://a.test", requestedHeaders: ["x-amz-date"])
        #expect(headers.first { $0.0 == "Access-Control-Allow-Credentials" }?.1 == "true")
        #expect(headers.first { $0.0 == "Access-Control-Allow-Headers" }?.1 == "x-amz-date")
    }

    @Test func unknownMethodsAndEmptyConfigurationsAreRefused() {
        #expect(throws: AWSError("InvalidRequest", "Found unsupported HTTP method in CORS config. Unsupported method is PATCH")) {
            try CORSConfiguration.parse(xml("<CORSConfiguration><CORSRule><AllowedMethod>PATCH</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>"))
        }
        #expect(throws: S3Error.malformedXML()) { try CORSConfiguration.parse(xml("<CORSConfiguration/>")) }
    }
}

@Suite struct AccessControlListTests {
    let owner = String(repeating: "a", count: 64)
    let other = String(repeating: "b", count: 64)

    @Test func cannedACLsExpandToGrants() throws {
        let acl = try #require(AccessControlList.canned("public-read-write", owner: owner, bucketOwner: owner))
        #expect(acl.grants.map(\.permission) == ["FULL_CONTROL", "READ", "WRITE"])
        #expect(AccessControlList.canned("bucket-owner-full-control", owner: owner, bucketOwner: owner)?.isOwnerFullControl(owner) == true)
        #expect(AccessControlList.canned("bucket-owner-full-control", owner: owner, bucketOwner: other)?.grants.count == 2)
        #expect(AccessControlList.canned("fake-acl", owner: owner, bucketOwner: owner) == nil)
    }

    @Test func storedFormRoundTrips() {
        let acl = AccessControlList(grants: [
            .init(grantee: .canonicalUser(owner), permission: "FULL_CONTROL"),
            .init(grantee: .group(AccessControlList.logDelivery), permission: "WRITE"),
            .init(grantee: .email("a,b@example.com"), permission: "READ"),
        ])
        #expect(!acl.encoded.contains("\n"))
        #expect(AccessControlList.decode(acl.encoded) == acl)
    }

    @Test func policyDocumentsNeedAnOwnerAndKnownGrantees() {
        let grant = "<Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"Group\"><URI>http://acs.amazonaws.com/groups/s3/FakeGroup</URI></Grantee><Permission>READ</Permission></Grant>"
        #expect(throws: S3Error.invalidArgument("Invalid group uri")) {
            try AccessControlList.parse(policy: Array("<AccessControlPolicy><Owner><ID>\(owner)</ID></Owner><AccessControlList>\(grant)</AccessControlList></AccessControlPolicy>".utf8))
        }
        #expect(throws: AccessControlList.malformed()) {
            try AccessControlList.parse(policy: Array("<AccessControlPolicy><AccessControlList/></AccessControlPolicy>".utf8))
        }
    }
}

@Suite struct WebsiteConfigurationTests {
    let config = try! WebsiteConfiguration.parse(xml("""
        <WebsiteConfiguration><IndexDocument><Suffix>index.html</Suffix></IndexDocument><RoutingRules>
        <RoutingRule><Condition><KeyPrefixEquals>old/</KeyPrefixEquals></Condition><Redirect><ReplaceKeyPrefixWith>new/</ReplaceKeyPrefixWith></Redirect></RoutingRule>
        <RoutingRule><Condition><HttpErrorCodeReturnedEquals>404</HttpErrorCodeReturnedEquals></Condition><Redirect><ReplaceKeyWith>404.html</ReplaceKeyWith></Redirect></RoutingRule>
        </RoutingRules></WebsiteConfiguration>
        """))

    @Test func prefixRulesApplyBeforeTheLookupErrorRulesAfter() {
        #expect(config.rule(for: "old/a.html", errorCode: nil)?.redirect.replaceKeyPrefixWith == "new/")
        #expect(config.rule(for: "other.html", errorCode: nil) == nil)
        #expect(config.rule(for: "other.html", errorCode: 404)?.redirect.replaceKeyWith == "404.html")
    }

    @Test func addressesOfTheWebsiteEndpoint() {
        let host = WebsiteAddress.parse(hostName: "my.site.s3-website.us-east-1.localhost", rawPath: "/a%20b/")
        #expect(host?.bucket == "my.site" && host?.key == "a b/" && host?.base == "")
        let path = WebsiteAddress.parse(hostName: "127.0.0.1", rawPath: "/_cloudless/website/site/docs")
        #expect(path?.bucket == "site" && path?.key == "docs" && path?.base == "/_cloudless/website/site")
        #expect(WebsiteAddress.parse(hostName: "site.s3.localhost", rawPath: "/x") == nil)
        #expect(WebsiteAddress.parse(hostName: "127.0.0.1", rawPath: "/site/x") == nil)
    }
}
