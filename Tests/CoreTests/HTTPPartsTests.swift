import Testing
@testable import Core

// URL encoding, dates, service and credential identification, ids and ARNs.
// Dates: the RFC 7231 §7.1.1.1 example instant (Sun, 06 Nov 1994 08:49:37 GMT = 784111777) in its
// three HTTP forms, plus instants whose epoch seconds were computed with Python's calendar.timegm.

// MARK: - Percent

@Suite struct PercentTests {
    @Test func unreservedCharactersPass() {
        #expect(Percent.encode("AZaz09-._~") == "AZaz09-._~")
    }

    @Test(arguments: [
        (" ", "%20"), ("/", "%2F"), ("+", "%2B"), ("=", "%3D"), ("&", "%26"), ("*", "%2A"), ("%", "%25"),
        ("?", "%3F"), ("#", "%23"), (":", "%3A"), ("@", "%40"), ("!", "%21"), ("'", "%27"), ("\n", "%0A"),
        ("ä", "%C3%A4"), ("€", "%E2%82%AC"), ("😀", "%F0%9F%98%80"),
    ])
    func reservedAndNonASCIIAreUppercaseHexOfUTF8(_ input: String, _ expected: String) {
        #expect(Percent.encode(input) == expected)
    }

    @Test func keepSlash() {
        #expect(Percent.encode("a b/c/ä", keepSlash: true) == "a%20b/c/%C3%A4")
        #expect(Percent.encode("a b/c/ä") == "a%20b%2Fc%2F%C3%A4")
        #expect(Percent.encode("//", keepSlash: true) == "//")
    }

    @Test func encodesSubstrings() {
        let s = "xa b"
        #expect(Percent.encode(s.dropFirst()) == "a%20b")
    }

    @Test func decode() {
        #expect(Percent.decode("a%20b") == "a b")
        #expect(Percent.decode("%C3%A4%e2%82%ac") == "ä€")
        #expect(Percent.decode("%F0%9F%98%80") == "😀")
        #expect(Percent.decode("plain") == "plain")
        #expect(Percent.decode("") == "")
        #expect(Percent.decode("%25") == "%")
        #expect(Percent.decode("%2525") == "%25")
        #expect(Percent.decode("%41") == "A")
        #expect(Percent.decode("x%41") == "xA")
    }

    @Test func plusIsLiteralUnlessFormDecoding() {
        #expect(Percent.decode("a+b") == "a+b")
        #expect(Percent.decode("a+b", plusIsSpace: true) == "a b")
        #expect(Percent.decode("a%2Bb", plusIsSpace: true) == "a+b")
        #expect(Percent.decode("+%20+", plusIsSpace: true) == "   ")
    }

    @Test(arguments: ["%", "%4", "a%", "a%4", "%G1", "%1G", "%zz", "%%", "% 1"])
    func badPercentIsNil(_ input: String) {
        #expect(Percent.decode(input) == nil)
    }

    @Test(arguments: ["%FF", "%C3", "%C3%28", "%80", "%ED%A0%80"])
    func decodedBytesThatAreNotUTF8AreNil(_ input: String) {
        #expect(Percent.decode(input) == nil)
    }

    @Test func roundTrip() {
        for s in ["", "a b+c/d?e=f&g", "ä€😀", "%41", "\u{0}\u{7F}", "~!*'()"] {
            #expect(Percent.decode(Percent.encode(s)) == s)
            #expect(Percent.decode(Percent.encode(s, keepSlash: true)) == s)
        }
    }

    private func pairs(_ q: String, plusIsSpace: Bool = true) -> [String]? {
        Percent.parseQuery(q, plusIsSpace: plusIsSpace).map { $0.map { "\($0.0)=\($0.1)" } }
    }

    @Test func parseQuery() {
        #expect(pairs("a=1&b=%20x&flag") == ["a=1", "b= x", "flag="])
        #expect(pairs("") == [])
        #expect(pairs("&&a=1&") == ["a=1"])
        #expect(pairs("a=b=c") == ["a=b=c"])
        #expect(pairs("=v") == ["=v"])
        #expect(pairs("a=2&a=1") == ["a=2", "a=1"])
        #expect(pairs("k%C3%A4=%E2%82%AC") == ["kä=€"])
        #expect(pairs("uploads") == ["uploads="])
        #expect(pairs("uploads=") == ["uploads="])
    }

    @Test func parseQueryPlus() {
        let form = Percent.parseQuery("q=a+b&r=a%2Bb")
        #expect(form?.map(\.1) == ["a b", "a+b"])
        let raw = Percent.parseQuery("q=a+b&r=a%2Bb", plusIsSpace: false)
        #expect(raw?.map(\.1) == ["a+b", "a+b"])
    }

    @Test(arguments: ["a=%ZZ", "%=1", "a=1&b=%", "a=%C3", "x%2"])
    func parseQueryBadEncodingIsNil(_ q: String) {
        #expect(Percent.parseQuery(q) == nil)
    }
}

// MARK: - AWSDate

@Suite struct AWSDateTests {
    static let rfcExample = 784_111_777.0  // Sun, 06 Nov 1994 08:49:37 GMT
    static let backToTheFuture = 1_445_412_480.0  // Wed, 21 Oct 2015 07:28:00 GMT

    @Test func iso8601() {
        #expect(AWSDate.iso8601(0) == "1970-01-01T00:00:00.000Z")
        #expect(AWSDate.iso8601(Self.backToTheFuture) == "2015-10-21T07:28:00.000Z")
        #expect(AWSDate.iso8601(1_795_631_827) == "2026-11-25T18:37:07.000Z")
        #expect(AWSDate.iso8601(951_825_600) == "2000-02-29T12:00:00.000Z")
    }

    @Test func iso8601Milliseconds() {
        // Fractions exact in binary, so that the expected digits do not depend on rounding.
        #expect(AWSDate.iso8601(1.5) == "1970-01-01T00:00:01.500Z")
        #expect(AWSDate.iso8601(Self.backToTheFuture + 0.125) == "2015-10-21T07:28:00.125Z")
        #expect(AWSDate.iso8601(1_709_251_199.75) == "2024-02-29T23:59:59.750Z")
    }

    @Test func rfc1123() {
        #expect(AWSDate.rfc1123(0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(AWSDate.rfc1123(Self.rfcExample) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(AWSDate.rfc1123(Self.backToTheFuture) == "Wed, 21 Oct 2015 07:28:00 GMT")
        #expect(AWSDate.rfc1123(1_795_631_827) == "Wed, 25 Nov 2026 18:37:07 GMT")
        #expect(AWSDate.rfc1123(4_107_542_400) == "Mon, 01 Mar 2100 00:00:00 GMT")
        // Fractions are dropped, not rounded.
        #expect(AWSDate.rfc1123(946_684_799.9) == "Fri, 31 Dec 1999 23:59:59 GMT")
    }

    @Test func amzDate() {
        #expect(AWSDate.amzDate(0) == "19700101T000000Z")
        #expect(AWSDate.amzDate(Self.backToTheFuture) == "20151021T072800Z")
        #expect(AWSDate.amzDate(1_709_251_199) == "20240229T235959Z")
    }

    @Test(arguments: [
        "Sun, 06 Nov 1994 08:49:37 GMT",  // RFC 1123
        "Sunday, 06-Nov-94 08:49:37 GMT",  // RFC 850
        "Sun Nov  6 08:49:37 1994",  // asctime
        "  Sun, 06 Nov 1994 08:49:37 GMT\t",
        "1994-11-06T08:49:37Z",
        "1994-11-06T08:49:37.000Z",
        "1994-11-06T08:49:37",
        "1994-11-06T08:49:37+00:00",
        "19941106T084937Z",
    ])
    func parseForms(_ s: String) {
        #expect(AWSDate.parse(s) == Self.rfcExample)
    }

    @Test func parseFraction() throws {
        let v = try #require(AWSDate.parse("2015-10-21T07:28:00.5Z"))
        #expect(v == Self.backToTheFuture + 0.5)
        let w = try #require(AWSDate.parse("2015-10-21T07:28:00.123Z"))
        #expect(abs(w - (Self.backToTheFuture + 0.123)) < 1e-6)
    }

    @Test func parseRFC850CenturyWindow() {
        // Two-digit years: 70...99 are 19xx, 00...69 are 20xx.
        #expect(AWSDate.parse("Wednesday, 21-Oct-15 07:28:00 GMT") == Self.backToTheFuture)
        #expect(AWSDate.parse("Friday, 31-Dec-99 23:59:59 GMT") == 946_684_799)
    }

    @Test func parseISOWithOffsetIsConvertedToUTC() {
        // ISO 8601 / RFC 3339: 09:49:37+01:00 and 03:49:37-05:00 are both 08:49:37Z.
        #expect(AWSDate.parse("1994-11-06T09:49:37+01:00") == Self.rfcExample)
        #expect(AWSDate.parse("1994-11-06T03:49:37-05:00") == Self.rfcExample)
    }

    @Test(arguments: [
        "", "yesterday", "GMT",
        "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 32 Nov 1994 08:49:37 GMT",
        "Sun, 00 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:60:00 GMT",
        "Sun, 06 Nov 1994 08:49 GMT",
        "Sun, 06 Nov 1994 xx:49:37 GMT",
        "1994-13-06T08:49:37Z",
        "1994-00-06T08:49:37Z",
        "1994-11-06X08:49:37Z",
        "1994-11-06",
        "19941306T084937Z",
        "19941106T084937",
        "1994110ST084937Z",
    ])
    func invalidIsNil(_ s: String) {
        #expect(AWSDate.parse(s) == nil)
    }

    @Test func roundTrips() {
        // Every ~37 days from 1970 to 2100 at an odd time of day; leap days and century rules included.
        var t = 0.0
        while t < 4_200_000_000 {
            #expect(AWSDate.parse(AWSDate.rfc1123(t)) == t)
            #expect(AWSDate.parse(AWSDate.amzDate(t)) == t)
            #expect(AWSDate.parse(AWSDate.iso8601(t)) == t)
            #expect(AWSDate.parse(AWSDate.iso8601(t + 0.5)) == t + 0.5)
            t += 3_200_003
        }
        for leap in [951_825_600.0, 1_709_251_199, 4_107_542_400] {
            #expect(AWSDate.parse(AWSDate.rfc1123(leap)) == leap)
            #expect(AWSDate.parse(AWSDate.iso8601(leap)) == leap)
        }
    }
}

// MARK: - ServiceIdentification

@Suite struct ServiceIdentificationTests {
    static var ids: ServiceIdentification {
        var ids = ServiceIdentification()
        ids.targetPrefixes = ["AmazonSQS": "sqs", "secretsmanager": "secretsmanager", "DynamoDB_20120810": "dynamodb"]
        ids.queryVersions = ["2011-06-15": "sts", "2012-11-05": "sqs"]
        ids.pathPrefixes = [("/2015-03-31/functions", "lambda")]
        ids.aliases = ["s3express": "s3"]
        return ids
    }

    static func sigV4(service: String, region: String = "us-east-1", key: String = "AKIDEXAMPLE") -> RequestCredentials {
        .sigV4Header(SigV4Authorization(
            credential: SigV4Credential(accessKeyId: key, date: "20150830", region: region, service: service),
            signedHeaders: ["host", "x-amz-date"], signature: "abc"))
    }

    func identify(target: String? = nil, credentials: RequestCredentials = .anonymous, query: [(String, String)] = [],
                  path: String = "/", host: String = "127.0.0.1", contentType: String? = nil, post: Bool = false)
        -> ServiceIdentification.Result {
        Self.ids.identify(target: target, credentials: credentials, query: query, path: path, hostName: host,
                          contentType: contentType, isPost: post)
    }

    @Test func targetPrefixWinsOverEverything() {
        #expect(identify(target: "AmazonSQS.SendMessage", credentials: Self.sigV4(service: "s3"), post: true) == .service("sqs"))
        #expect(identify(target: "secretsmanager.GetSecretValue") == .service("secretsmanager"))
        #expect(identify(target: "DynamoDB_20120810.GetItem", host: "sts.localhost") == .service("dynamodb"))
    }

    @Test func unknownOrMalformedTargetFallsThrough() {
        #expect(identify(target: "Unknown.Op") == .service("s3"))
        #expect(identify(target: "AmazonSQS") == .service("s3"))
        #expect(identify(target: "Unknown.Op", credentials: Self.sigV4(service: "sts")) == .service("sts"))
    }

    @Test func credentialScopeNamesTheService() {
        #expect(identify(credentials: Self.sigV4(service: "sts"), post: true) == .service("sts"))
        #expect(identify(credentials: Self.sigV4(service: "sqs")) == .service("sqs"))
        #expect(identify(credentials: Self.sigV4(service: "s3express")) == .service("s3"))
        // The scope is read before the query: a signed request names its service even with another Version.
        #expect(identify(credentials: Self.sigV4(service: "s3"), query: [("Action", "GetCallerIdentity"), ("Version", "2011-06-15")])
            == .service("s3"))
        #expect(identify(credentials: .sigV2Header(accessKey: "AKID", signature: "sig")) == .service("s3"))
    }

    @Test func queryActionAndVersion() {
        #expect(identify(query: [("Action", "GetCallerIdentity"), ("Version", "2011-06-15")]) == .service("sts"))
        #expect(identify(query: [("Version", "2012-11-05"), ("Action", "ListQueues")]) == .service("sqs"))
        // Version without Action, or an unknown version, is not a Query request.
        #expect(identify(query: [("Version", "2011-06-15")]) == .service("s3"))
        #expect(identify(query: [("Action", "GetCallerIdentity"), ("Version", "1999-01-01")]) == .service("s3"))
    }

    @Test func pathPrefix() {
        #expect(identify(path: "/2015-03-31/functions/f/invocations", post: true) == .service("lambda"))
        #expect(identify(path: "/2015-03-31") == .service("s3"))
    }

    @Test func unsignedFormPostMustBeReadFirst() {
        #expect(identify(path: "/", contentType: "application/x-www-form-urlencoded; charset=utf-8", post: true) == .formBody)
        #expect(identify(path: "/", contentType: "Application/X-WWW-Form-Urlencoded", post: true) == .formBody)
        // A GET, another path (S3 POST to a bucket) or another content type stays S3.
        #expect(identify(path: "/", contentType: "application/x-www-form-urlencoded", post: false) == .service("s3"))
        #expect(identify(path: "/bucket", contentType: "application/x-www-form-urlencoded", post: true) == .service("s3"))
        #expect(identify(path: "/", contentType: "multipart/form-data; boundary=x", post: true) == .service("s3"))
        #expect(identify(path: "/", contentType: nil, post: true) == .service("s3"))
    }

    @Test func hostLabel() {
        #expect(identify(host: "sts.localhost") == .service("sts"))
        #expect(identify(host: "sqs.us-east-1.localhost.localstack.cloud") == .service("sqs"))
        #expect(identify(host: "secretsmanager.localhost") == .service("secretsmanager"))
        #expect(identify(host: "s3.localhost.localstack.cloud") == .service("s3"))
        #expect(identify(host: "mybucket.s3.localhost.localstack.cloud") == .service("s3"))
        #expect(identify(host: "sts") == .service("s3"))
        #expect(identify(host: "localhost") == .service("s3"))
    }

    @Test func defaultIsS3() {
        #expect(identify() == .service("s3"))
        // A target prefix nobody registered says nothing about the service.
        #expect(ServiceIdentification().identify(target: "NoSuchService_20200101.DoThing", credentials: .anonymous, query: [],
                                                 path: "/", hostName: "localhost", contentType: nil, isPost: false) == .service("s3"))
    }

    @Test func knownTargetPrefixesNameTheirServiceBeforeItExists() {
        // So an unsigned JSON request for a service not served yet gets a JSON error, not S3's XML.
        #expect(ServiceIdentification().identify(target: "AmazonSQS.SendMessage", credentials: .anonymous, query: [],
                                                 path: "/", hostName: "localhost", contentType: nil, isPost: true) == .service("sqs"))
        #expect(ServiceIdentification().identify(target: "secretsmanager.GetSecretValue", credentials: .anonymous, query: [],
                                                 path: "/", hostName: "localhost", contentType: nil, isPost: true) == .service("secretsmanager"))
    }

    @Test func regionFromCredentialScope() {
        #expect(ServiceIdentification.region(credentials: Self.sigV4(service: "s3", region: "eu-west-1"), hostName: "localhost") == "eu-west-1")
        // The scope wins over the host.
        #expect(ServiceIdentification.region(credentials: Self.sigV4(service: "s3", region: "ap-south-2"),
                                             hostName: "b.s3.us-west-2.amazonaws.com") == "ap-south-2")
        // An invalid scope region is not used.
        #expect(ServiceIdentification.region(credentials: Self.sigV4(service: "s3", region: "EU_WEST"), hostName: "localhost") == nil)
        #expect(ServiceIdentification.region(credentials: Self.sigV4(service: "s3", region: "EU_WEST"),
                                             hostName: "sqs.eu-central-1.localhost.localstack.cloud") == "eu-central-1")
    }

    @Test func regionFromHost() {
        #expect(ServiceIdentification.region(credentials: .anonymous, hostName: "bucket.s3.eu-west-2.amazonaws.com") == "eu-west-2")
        #expect(ServiceIdentification.region(credentials: .anonymous, hostName: "sqs.us-east-1.localhost.localstack.cloud") == "us-east-1")
        #expect(ServiceIdentification.region(credentials: .anonymous, hostName: "s3.ap-southeast-2.localhost") == "ap-southeast-2")
        #expect(ServiceIdentification.region(credentials: .sigV2Header(accessKey: "A", signature: "S"),
                                             hostName: "b.s3.sa-east-1.amazonaws.com") == "sa-east-1")
        #expect(ServiceIdentification.region(credentials: .anonymous, hostName: "localhost") == nil)
        #expect(ServiceIdentification.region(credentials: .anonymous, hostName: "127.0.0.1") == nil)
        #expect(ServiceIdentification.region(credentials: .anonymous, hostName: "bucket.s3.localhost.localstack.cloud") == nil)
    }

    @Test func onlyRealRegionsAreTakenFromTheHost() {
        // `tf-state-1` is a bucket (virtual-hosted), not a region: the caller's region must stay the default.
        #expect(ServiceIdentification.region(credentials: .anonymous, hostName: "tf-state-1.s3.localhost.localstack.cloud") == nil)
        #expect(ServiceIdentification.region(credentials: .anonymous, hostName: "my-app-2.localhost") == nil)
        // GovCloud regions have four dash-separated parts.
        #expect(ServiceIdentification.region(credentials: .anonymous, hostName: "b.s3.us-gov-west-1.amazonaws.com") == "us-gov-west-1")
    }
}

// MARK: - RequestCredentials

@Suite struct RequestCredentialsTests {
    static let v4Header = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
        + "SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"

    // From the S3 API reference "Authenticating Requests: Using Query Parameters".
    static let presignQuery: [(String, String)] = [
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
        ("X-Amz-Credential", "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"),
        ("X-Amz-Date", "20130524T000000Z"),
        ("X-Amz-Expires", "86400"),
        ("X-Amz-SignedHeaders", "host"),
        ("X-Amz-Signature", "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"),
    ]

    @Test func sigV4Header() throws {
        let c = RequestCredentials.parse(authorization: Self.v4Header, query: [])
        guard case .sigV4Header(let a) = c else {
            Issue.record("expected a SigV4 header, got \(c)")
            return
        }
        #expect(a.accessKeyId == "AKIDEXAMPLE")
        #expect(a.date == "20150830")
        #expect(a.signedHeaders == ["content-type", "host", "x-amz-date"])
        #expect(a.signature == "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7")
        #expect(c.accessKeyID == "AKIDEXAMPLE")
        #expect(c.scopeService == "iam")
        #expect(c.scopeRegion == "us-east-1")
    }

    @Test func malformedSigV4HeaderIsNotSigV4() {
        let c = RequestCredentials.parse(authorization: "AWS4-HMAC-SHA256 Credential=garbage", query: [])
        guard case .anonymous = c else {
            Issue.record("expected anonymous, got \(c)")
            return
        }
        #expect(c.accessKeyID == nil)
    }

    @Test func sigV4Presigned() {
        let c = RequestCredentials.parse(authorization: nil, query: Self.presignQuery + [("prefix", "x")])
        guard case .sigV4Presigned(let p) = c else {
            Issue.record("expected presigned SigV4, got \(c)")
            return
        }
        #expect(p.amzDate == "20130524T000000Z")
        #expect(p.expires == 86400)
        #expect(p.signedHeaders == ["host"])
        #expect(p.signature == "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
        #expect(c.accessKeyID == "AKIAIOSFODNN7EXAMPLE")
        #expect(c.scopeService == "s3")
        #expect(c.scopeRegion == "us-east-1")
    }

    @Test func presignWithAMissingParameterIsMalformed() {
        for dropped in Self.presignQuery.map(\.0) {
            let query = Self.presignQuery.filter { $0.0 != dropped }
            let c = RequestCredentials.parse(authorization: nil, query: query)
            guard case .malformedPresign = c else {
                Issue.record("without \(dropped): expected malformedPresign, got \(c)")
                continue
            }
            #expect(c.accessKeyID == nil)
            #expect(throws: AWSError("AuthorizationQueryParametersError", "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.")) {
                try c.validate()
            }
        }
    }

    @Test func presignExpiryLimits() throws {
        func creds(_ expires: String) -> RequestCredentials {
            RequestCredentials.parse(authorization: nil, query: Self.presignQuery.map { $0.0 == "X-Amz-Expires" ? ($0.0, expires) : $0 })
        }
        // Seven days (604800 s) is the longest a SigV4 presigned URL may live.
        try creds("604800").validate()
        try creds("1").validate()
        #expect(throws: AWSError("AuthorizationQueryParametersError", "X-Amz-Expires must be less than a week (in seconds) that is 604800")) {
            try creds("604801").validate()
        }
        guard case .malformedPresign = creds("-1") else {
            Issue.record("a negative X-Amz-Expires is not a valid presign")
            return
        }
    }

    @Test func otherCredentialsValidate() throws {
        try RequestCredentials.parse(authorization: Self.v4Header, query: []).validate()
        try RequestCredentials.anonymous.validate()
        try RequestCredentials.sigV2Header(accessKey: "A", signature: "S").validate()
    }

    @Test func sigV2Header() {
        // S3 "Signing and authenticating REST requests" example.
        let c = RequestCredentials.parse(authorization: "AWS AKIAIOSFODNN7EXAMPLE:qgk2+6Sv9/oM7G3qLEjTH1a1l1g=", query: [])
        guard case .sigV2Header(let key, let signature) = c else {
            Issue.record("expected SigV2 header, got \(c)")
            return
        }
        #expect(key == "AKIAIOSFODNN7EXAMPLE")
        #expect(signature == "qgk2+6Sv9/oM7G3qLEjTH1a1l1g=")
        #expect(c.accessKeyID == "AKIAIOSFODNN7EXAMPLE")
        #expect(c.scopeService == "s3")
        #expect(c.scopeRegion == nil)
    }

    @Test func sigV2Presigned() {
        let c = RequestCredentials.parse(authorization: nil, query: [
            ("AWSAccessKeyId", "AKIAIOSFODNN7EXAMPLE"), ("Expires", "1141889120"), ("Signature", "vjbyPxybdZaNmGa+yT272YEAiv4="),
        ])
        guard case .sigV2Presigned(let key, let signature, let expires) = c else {
            Issue.record("expected SigV2 presigned, got \(c)")
            return
        }
        #expect(key == "AKIAIOSFODNN7EXAMPLE")
        #expect(signature == "vjbyPxybdZaNmGa+yT272YEAiv4=")
        #expect(expires == "1141889120")
        #expect(c.scopeService == "s3")
    }

    @Test func anonymous() {
        for c in [
            RequestCredentials.parse(authorization: nil, query: []),
            RequestCredentials.parse(authorization: nil, query: [("list-type", "2"), ("prefix", "a")]),
            RequestCredentials.parse(authorization: "Bearer token", query: []),
            RequestCredentials.parse(authorization: nil, query: [("AWSAccessKeyId", "AKID")]),  // no Signature
        ] {
            guard case .anonymous = c else {
                Issue.record("expected anonymous, got \(c)")
                continue
            }
            #expect(c.accessKeyID == nil)
            #expect(c.scopeService == nil)
            #expect(c.scopeRegion == nil)
        }
    }
}

// MARK: - AccountID, ARN, RequestID

@Suite struct IdentityTests {
    @Test func accountFromAccessKey() {
        #expect(AccountID.from(accessKey: "123456789012", default: "000000000000") == "123456789012")
        #expect(AccountID.from(accessKey: "000000000001", default: "000000000000") == "000000000001")
        for key in [nil, "", "AKIAIOSFODNN7EXAMPLE", "test", "12345678901", "1234567890123", "12345678901a", " 23456789012",
                    "١٢٣٤٥٦٧٨٩٠١٢"] as [String?] {
            #expect(AccountID.from(accessKey: key, default: "000000000000") == "000000000000")
        }
        #expect(AccountID.isValid("123456789012"))
        #expect(!AccountID.isValid("12345678901"))
    }

    @Test func arnParseAndPrint() throws {
        let a = try #require(ARN("arn:aws:iam::123456789012:user/Development/product_1234/*"))
        #expect(a.partition == "aws")
        #expect(a.service == "iam")
        #expect(a.region == "")
        #expect(a.account == "123456789012")
        #expect(a.resource == "user/Development/product_1234/*")
        #expect(a.description == "arn:aws:iam::123456789012:user/Development/product_1234/*")

        // The resource keeps its own colons.
        let b = try #require(ARN("arn:aws-cn:sns:cn-north-1:123456789012:topic:subscription-id"))
        #expect(b.partition == "aws-cn")
        #expect(b.region == "cn-north-1")
        #expect(b.resource == "topic:subscription-id")
        #expect(b.description == "arn:aws-cn:sns:cn-north-1:123456789012:topic:subscription-id")

        let c = try #require(ARN("arn:aws:s3:::my-bucket/a:b"))
        #expect(c.service == "s3")
        #expect(c.account == "")
        #expect(c.resource == "my-bucket/a:b")

        let built = ARN(service: "sqs", region: "us-east-1", account: "123456789012", resource: "queue1")
        #expect(built.description == "arn:aws:sqs:us-east-1:123456789012:queue1")
        #expect(ARN(built.description) == built)
    }

    @Test(arguments: ["", "arn", "arn:aws:s3", "arn:aws:s3::", "urn:aws:s3:::b", "ARN:aws:s3:::b"])
    func invalidARN(_ s: String) {
        #expect(ARN(s) == nil)
    }

    @Test func arnWithEmptyResourceStillHasSixFields() {
        #expect(ARN("arn:aws:s3:::")?.resource == "")
    }

    @Test func requestIDsAre16UppercaseHexAndUnique() {
        var seen = Set<String>()
        var malformed: [String] = []
        let hex = Set("0123456789ABCDEF".utf8)
        for _ in 0..<10_000 {
            let id = RequestID.next()
            if id.utf8.count != 16 || !id.utf8.allSatisfy({ hex.contains($0) }) { malformed.append(id) }
            seen.insert(id)
        }
        #expect(malformed.isEmpty)
        #expect(seen.count == 10_000)
    }

    @Test func uuidShape() {
        let u = RequestID.uuid()
        let groups = u.split(separator: "-", omittingEmptySubsequences: false)
        #expect(groups.map(\.count) == [8, 4, 4, 4, 12])
        #expect(u.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) || $0 == 45 })
        #expect(RequestID.uuid() != u)
        #expect(RequestID.hostID(for: "ABC") == "cloudless/ABC")
    }
}
