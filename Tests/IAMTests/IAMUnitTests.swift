import Core
import Foundation
import NIOCore
import Testing

@testable import IAM

@Suite struct IAMQueryDecodingTests {
    @Test func listsAreMemberWrappedInIndexOrder() {
        let input = IAMInput(["TagKeys.member.2": "b", "TagKeys.member.10": "c", "TagKeys.member.1": "a", "TagKeys": "",
                              "Other.member.1": "x"])
        #expect(input.list("TagKeys") == ["a", "b", "c"])
        #expect(IAMInput(["TagKeys": ""]).list("TagKeys") == [])
    }

    @Test func tagsAreKeyValueStructures() throws {
        let input = IAMInput(["Tags.member.2.Key": "team", "Tags.member.2.Value": "core",
                              "Tags.member.1.Key": "env", "Tags.member.1.Value": ""])
        #expect(try input.tags() == [Tag(key: "env", value: ""), Tag(key: "team", value: "core")])
    }

    @Test func tagErrorsAreAWSs() {
        #expect(throws: IAMError.invalidInput("Duplicate tag keys found. Please note that Tag keys are case insensitive.")) {
            try IAMInput(["Tags.member.1.Key": "Env", "Tags.member.1.Value": "a", "Tags.member.2.Key": "env", "Tags.member.2.Value": "b"]).tags()
        }
        #expect(throws: IAMError.validation("1 validation error detected: Value null at 'tags.1.member.value' failed to satisfy constraint: Member must not be null")) {
            try IAMInput(["Tags.member.1.Key": "k"]).tags()
        }
        #expect(throws: IAMError.validation("1 validation error detected: Value 'a#b' at 'tags.1.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+")) {
            try IAMInput(["Tags.member.1.Key": "a#b", "Tags.member.1.Value": "v"]).tags()
        }
        var many: [String: String] = [:]
        for i in 1...51 { many["Tags.member.\(i).Key"] = "k\(i)"; many["Tags.member.\(i).Value"] = "v" }
        #expect(throws: IAMError.validation("1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50")) {
            try IAMInput(many).tags()
        }
    }

    @Test func namesFollowTheModelsPatternAndLengths() throws {
        #expect(try IAMInput(["RoleName": "a+b=c,d.e@f_g-9"]).requiredName("RoleName", max: 64) == "a+b=c,d.e@f_g-9")
        #expect(throws: IAMError.validation("1 validation error detected: Value 'a b' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+")) {
            try IAMInput(["RoleName": "a b"]).requiredName("RoleName", max: 64)
        }
        #expect(throws: IAMError.validation("1 validation error detected: Value '\(String(repeating: "r", count: 65))' at 'roleName' failed to satisfy constraint: Member must have length less than or equal to 64")) {
            try IAMInput(["RoleName": String(repeating: "r", count: 65)]).requiredName("RoleName", max: 64)
        }
        #expect(throws: IAMError.validation("1 validation error detected: Value null at 'userName' failed to satisfy constraint: Member must not be null")) {
            try IAMInput([:]).requiredName("UserName", max: 64)
        }
    }

    @Test func pathsAndIntegers() throws {
        #expect(try IAMInput([:]).path() == "/")
        #expect(try IAMInput(["Path": "/a/b/"]).path() == "/a/b/")
        #expect(throws: AWSError.self) { try IAMInput(["Path": "/a"]).path() }
        #expect(throws: AWSError.self) { try IAMInput(["Path": "a/"]).path() }
        #expect(try IAMInput(["PathPrefix": "/a"]).pathPrefix() == "/a")
        #expect(throws: IAMError.validation("1 validation error detected: Value '60' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600")) {
            try IAMInput(["MaxSessionDuration": "60"]).int("MaxSessionDuration", min: 3600, max: 43200)
        }
        #expect(try IAMInput(["MaxItems": "2", "Marker": "bQ=="]).paging() == ("bQ==", 2))
        #expect(try IAMInput([:]).paging().maxItems == 100)
        #expect(IAMInput(["OnlyAttached": "true"]).bool("OnlyAttached") == true)
    }
}

@Suite struct IAMFormatTests {
    func isIDCharacter(_ c: Character) -> Bool { c.isASCII && (c.isUppercase || ("2"..."7").contains(c)) }

    @Test func uniqueIDsAndAccessKeys() {
        for prefix in ["AROA", "AIDA", "AGPA", "ANPA", "AIPA"] {
            let id = IAMFormat.uniqueID(prefix: prefix)
            #expect(id.count == 21 && id.hasPrefix(prefix) && id.allSatisfy(isIDCharacter))
        }
        let key = IAMFormat.accessKeyID()
        #expect(key.count == 20 && key.hasPrefix("AKIA") && key.allSatisfy(isIDCharacter))
        let secret = IAMFormat.secretAccessKey()
        #expect(secret.count == 40 && secret.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "+" || $0 == "/") })
        #expect(IAMFormat.uniqueID(prefix: "AROA") != IAMFormat.uniqueID(prefix: "AROA"))
    }

    @Test func arnsDatesAndDocuments() throws {
        #expect(IAMFormat.arn(account: "123456789012", kind: "role", path: "/svc/", name: "r") == "arn:aws:iam::123456789012:role/svc/r")
        #expect(IAMFormat.arn(account: "123456789012", kind: "user", path: "/", name: "alice") == "arn:aws:iam::123456789012:user/alice")
        #expect(IAMFormat.date(1_780_000_000.75) == "2026-05-28T20:26:40Z")
        #expect(IAMFormat.encodedDocument(#"{"a": "b+c/d"}"#) == "%7B%22a%22%3A%20%22b%2Bc%2Fd%22%7D")
        #expect(try IAMFormat.policyARN("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
                == ("aws", "/service-role/", "AWSLambdaBasicExecutionRole"))
        #expect(try IAMFormat.policyARN("arn:aws:iam::123456789012:policy/p") == ("123456789012", "/", "p"))
        for bad in ["p", "arn:aws:iam::123456789012:role/p", "arn:aws:s3:::policy/p", "arn:aws:iam::123456789012:policy/"] {
            #expect(throws: IAMError.invalidARN) { try IAMFormat.policyARN(bad) }
        }
    }

    @Test func policyDocumentsAreCheckedAsAWSDoes() throws {
        try IAMFormat.validatePolicy(#"{"Version":"2012-10-17","Statement":[]}"#)
        #expect(throws: IAMError.malformedPolicy("This policy contains invalid Json")) { try IAMFormat.validatePolicy("{nope") }
        #expect(throws: IAMError.malformedPolicy("Syntax errors in policy.")) { try IAMFormat.validatePolicy(#"{"Version":"2012-10-17"}"#) }
    }

    @Test func pagesFollowTheirMarker() throws {
        let names = ["b", "A", "c", "D", "e"]
        let first = try Page(names, key: { $0 }, marker: nil, maxItems: 2)
        #expect(first.items == ["A", "b"] && first.isTruncated)
        let second = try Page(names, key: { $0 }, marker: first.marker, maxItems: 2)
        #expect(second.items == ["c", "D"])
        let last = try Page(names, key: { $0 }, marker: second.marker, maxItems: 2)
        #expect(last.items == ["e"] && !last.isTruncated && last.marker == nil)
        let ordered = try Page(ordered: [3, 2, 1], marker: nil, maxItems: 2)
        let rest = try Page(ordered: [3, 2, 1], marker: ordered.marker, maxItems: 2)
        #expect(ordered.items == [3, 2] && rest.items == [1])
        #expect(throws: IAMError.validation("Invalid Marker.")) { try Page(names, key: { $0 }, marker: "%%", maxItems: 2) }
    }

    @Test func tagsMergeWithoutCase() throws {
        let merged = try Tag.merge([Tag(key: "env", value: "a"), Tag(key: "x", value: "1")], [Tag(key: "Env", value: "b")])
        #expect(merged == [Tag(key: "Env", value: "b"), Tag(key: "x", value: "1")])
        #expect(Tag.remove(merged, keys: ["ENV"]) == [Tag(key: "x", value: "1")])
    }

    @Test func awsManagedPoliciesHaveStableIDs() {
        let ids = AWSManagedPolicy.all.map(\.id)
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { $0.count == 21 && $0.hasPrefix("ANPA") })
        #expect(AWSManagedPolicy.find(path: "/service-role/", name: "AWSLambdaBasicExecutionRole")?.arn
                == "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
        for p in AWSManagedPolicy.all { #expect((try? IAMFormat.validatePolicy(p.document)) != nil, "\(p.name)") }
    }
}

/// Operations against a real store in a temporary folder (one per test, removed after it).
@Suite final class IAMServiceTests {
    let folder = NSTemporaryDirectory() + "iam-tests-" + UUID().uuidString
    let caller = IAMService.Caller(account: "123456789012", accessKeyID: "test", now: 1_780_000_000)

    deinit { try? FileManager.default.removeItem(atPath: folder) }

    func service() throws -> IAMService {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return try IAMService(directory: folder, clock: EmulatorClock())
    }

    func call(_ iam: IAMService, _ action: String, _ parameters: [String: String], as caller: IAMService.Caller? = nil) throws -> String {
        var xml = XMLWriter(declaration: false)
        try iam.perform(action, IAMInput(parameters), caller ?? self.caller, version: "2010-05-08")?(&xml)
        return String(buffer: xml.buffer)
    }

    @Test func rolesKeepWhatTheyWereCreatedWith() throws {
        let iam = try service()
        let doc = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#
        let created = try call(iam, "CreateRole", ["RoleName": "App", "Path": "/svc/", "AssumeRolePolicyDocument": doc])
        #expect(created.contains("<Path>/svc/</Path><RoleName>App</RoleName><RoleId>AROA"))
        #expect(created.contains("<Arn>arn:aws:iam::123456789012:role/svc/App</Arn><CreateDate>2026-05-28T20:26:40Z</CreateDate>"))
        #expect(created.contains("<AssumeRolePolicyDocument>\(Percent.encode(doc))</AssumeRolePolicyDocument>"))
        #expect(!created.contains("MaxSessionDuration"))
        let got = try call(iam, "GetRole", ["RoleName": "app"])
        #expect(got.contains("<RoleName>App</RoleName>") && got.contains("<MaxSessionDuration>3600</MaxSessionDuration><RoleLastUsed/>"))
        #expect(throws: IAMError.alreadyExists("Role with name APP already exists.")) {
            try call(iam, "CreateRole", ["RoleName": "APP", "AssumeRolePolicyDocument": doc])
        }
        // Another account sees none of it.
        let other = IAMService.Caller(account: "210987654321", accessKeyID: nil, now: 1)
        #expect(throws: IAMError.roleNotFound("App")) { try call(iam, "GetRole", ["RoleName": "App"], as: other) }
    }

    @Test func issuedKeysSignUntilInactiveOrDeleted() throws {
        let iam = try service()
        _ = try call(iam, "CreateUser", ["UserName": "alice", "Path": "/dev/"])
        let created = try call(iam, "CreateAccessKey", ["UserName": "alice"])
        let id = try #require(created.firstMatch(of: /<AccessKeyId>(AKIA[A-Z2-7]{16})<\/AccessKeyId>/)?.1).description
        let secret = try #require(created.firstMatch(of: /<SecretAccessKey>([^<]{40})<\/SecretAccessKey>/)?.1).description
        #expect(iam.credentials.secretKey(for: id)?.secret == secret)
        #expect(iam.credentials.secretKey(for: id)?.account == "123456789012")
        let principal = try #require(iam.credentials.principal(for: id))
        #expect(principal.arn == "arn:aws:iam::123456789012:user/dev/alice" && principal.userID.hasPrefix("AIDA"))

        // The key's own user is the caller's when UserName is left out.
        let asAlice = IAMService.Caller(account: "123456789012", accessKeyID: id, now: 2)
        #expect(try call(iam, "GetUser", [:], as: asAlice).contains("<UserName>alice</UserName>"))
        #expect(try call(iam, "GetUser", [:]).contains("<UserId>123456789012</UserId><Arn>arn:aws:iam::123456789012:root</Arn>"))

        _ = try call(iam, "UpdateAccessKey", ["UserName": "alice", "AccessKeyId": id, "Status": "Inactive"])
        #expect(iam.credentials.secretKey(for: id) == nil)
        _ = try call(iam, "UpdateAccessKey", ["UserName": "alice", "AccessKeyId": id, "Status": "Active"])
        #expect(iam.credentials.secretKey(for: id)?.secret == secret)

        // Keys survive a restart (they are read back from iam.sqlite).
        let reopened = try IAMService(directory: folder, clock: EmulatorClock())
        #expect(reopened.credentials.secretKey(for: id)?.secret == secret)

        _ = try call(iam, "DeleteAccessKey", ["UserName": "alice", "AccessKeyId": id])
        #expect(iam.credentials.secretKey(for: id) == nil)
        #expect(throws: IAMError.accessKeyNotFound(id)) {
            try call(iam, "DeleteAccessKey", ["UserName": "alice", "AccessKeyId": id])
        }
    }

    @Test func policyVersionsStopAtFive() throws {
        let iam = try service()
        let doc = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#
        _ = try call(iam, "CreatePolicy", ["PolicyName": "p", "PolicyDocument": doc])
        let arn = "arn:aws:iam::123456789012:policy/p"
        for n in 2...5 {
            let v = try call(iam, "CreatePolicyVersion", ["PolicyArn": arn, "PolicyDocument": doc, "SetAsDefault": n == 3 ? "true" : "false"])
            #expect(v.contains("<VersionId>v\(n)</VersionId><IsDefaultVersion>\(n == 3)</IsDefaultVersion>") && !v.contains("Document"))
        }
        #expect(throws: IAMError.limitExceeded(
            "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.")) {
            try call(iam, "CreatePolicyVersion", ["PolicyArn": arn, "PolicyDocument": doc])
        }
        #expect(throws: IAMError.deleteConflict("Cannot delete the default version of a policy.")) {
            try call(iam, "DeletePolicyVersion", ["PolicyArn": arn, "VersionId": "v3"])
        }
        _ = try call(iam, "DeletePolicyVersion", ["PolicyArn": arn, "VersionId": "v5"])
        // Numbers go on: the next version is v6, not v5 again.
        #expect(try call(iam, "CreatePolicyVersion", ["PolicyArn": arn, "PolicyDocument": doc]).contains("<VersionId>v6</VersionId>"))
        let listed = try call(iam, "ListPolicyVersions", ["PolicyArn": arn])
        #expect(listed.matches(of: /<VersionId>(v\d)<\/VersionId>/).map { String($0.1) } == ["v6", "v4", "v3", "v2", "v1"])
    }
}
