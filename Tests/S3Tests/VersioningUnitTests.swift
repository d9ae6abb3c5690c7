import Core
import Foundation
import Testing
@testable import S3

// Lifecycle dates (S3 User Guide, "Lifecycle configuration elements": days are counted from creation and the
// result rounded up to the next midnight UTC), rule selection, Object Lock's delete protection and version ids.

@Suite struct LifecycleDateTests {
    @Test func daysRoundUpToTheNextMidnightUTC() {
        // 2014-01-15 10:30 UTC + 3 days → 2014-01-19 00:00 UTC (the User Guide's example).
        let created = AWSDate.parse("2014-01-15T10:30:00Z")!
        #expect(LifecycleConfiguration.dueDate(from: created, days: 3) == AWSDate.parse("2014-01-19T00:00:00Z")!)
        let midnight = AWSDate.parse("2014-01-15T00:00:00Z")!
        #expect(LifecycleConfiguration.dueDate(from: midnight, days: 1) == AWSDate.parse("2014-01-17T00:00:00Z")!)
    }

    static func object(_ key: String, size: Int = 4, tags: [(String, String)] = []) -> ObjectVersion {
        ObjectVersion(bucket: "b", key: key, versionID: "null", isLatest: true, isDeleteMarker: false, size: size, etag: "\"e\"",
                      lastModified: AWSDate.parse("2024-03-01T12:00:00Z")!, headers: [], metadata: [], tags: tags,
                      storageClass: "STANDARD", checksumAlgorithm: nil, checksumValue: nil, checksumType: nil, parts: [],
                      segments: [], owner: "000000000000")
    }

    @Test func theSoonestMatchingRuleGivesTheExpiration() throws {
        let doc = """
            <LifecycleConfiguration>
              <Rule><ID>late</ID><Status>Enabled</Status><Filter><Prefix>logs/</Prefix></Filter><Expiration><Days>30</Days></Expiration></Rule>
              <Rule><ID>soon</ID><Status>Enabled</Status><Filter><And><Prefix>logs/</Prefix><Tag><Key>t</Key><Value>1</Value></Tag></And></Filter>
                <Expiration><Days>1</Days></Expiration></Rule>
              <Rule><ID>off</ID><Status>Disabled</Status><Filter></Filter><Expiration><Days>1</Days></Expiration></Rule>
              <Rule><ID>big</ID><Status>Enabled</Status><Filter><ObjectSizeGreaterThan>100</ObjectSizeGreaterThan></Filter>
                <Expiration><Date>2030-01-01T00:00:00Z</Date></Expiration></Rule>
            </LifecycleConfiguration>
            """
        let config = try LifecycleConfiguration.parse(doc, minimumSize: "all_storage_classes_128K")
        #expect(config.expiration(of: Self.object("logs/a"))?.ruleID == "late")
        #expect(config.expiration(of: Self.object("logs/a", tags: [("t", "1")]))?.ruleID == "soon")
        #expect(config.expiration(of: Self.object("other")) == nil)
        #expect(config.expiration(of: Self.object("other", size: 101))?.date == AWSDate.parse("2030-01-01T00:00:00Z"))
        #expect(LifecycleConfiguration.decode(config.stored)?.rules.count == 4)
    }

    @Test(arguments: [
        "<LifecycleConfiguration/>",
        "<LifecycleConfiguration><Rule><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>",
        "<LifecycleConfiguration><Rule><Status>Enabled</Status><Filter/><Expiration><Days>1</Days><Date>2030-01-01T00:00:00Z</Date></Expiration></Rule></LifecycleConfiguration>",
    ])
    func malformed(_ doc: String) {
        #expect(throws: AWSError.self) { try LifecycleConfiguration.parse(doc, minimumSize: "all_storage_classes_128K") }
    }
}

@Suite struct ObjectLockStateTests {
    let now = 1_000_000.0

    @Test func retentionAndLegalHold() {
        var s = ObjectLockState(headers: [])
        #expect(s.permitsDeletion(now: now, bypassGovernance: false))
        s.mode = "GOVERNANCE"
        s.retainUntil = now + 60
        #expect(!s.permitsDeletion(now: now, bypassGovernance: false))
        #expect(s.permitsDeletion(now: now, bypassGovernance: true))
        #expect(s.permitsDeletion(now: now + 61, bypassGovernance: false))
        s.mode = "COMPLIANCE"
        #expect(!s.permitsDeletion(now: now, bypassGovernance: true))
        s.retainUntil = nil
        s.legalHold = "ON"
        #expect(!s.permitsDeletion(now: now, bypassGovernance: true))
    }

    @Test func headersRoundTrip() {
        var s = ObjectLockState(headers: [("content-type", "text/plain")])
        s.mode = "GOVERNANCE"
        s.retainUntil = AWSDate.parse("2030-01-01T00:00:00Z")
        s.legalHold = "OFF"
        let headers = s.applied(to: [("content-type", "text/plain"), ("x-amz-object-lock-legal-hold", "ON")])
        #expect(headers.map(\.0) == ["content-type", "x-amz-object-lock-mode", "x-amz-object-lock-retain-until-date", "x-amz-object-lock-legal-hold"])
        let back = ObjectLockState(headers: headers)
        #expect(back.mode == "GOVERNANCE" && back.retainUntil == s.retainUntil && back.legalHold == "OFF")
    }
}

@Suite struct VersionIDTests {
    @Test func newIDsAreURLSafeAndRecognised() {
        let ids = (0..<200).map { _ in S3Service.newVersionID() }
        #expect(Set(ids).count == 200)
        #expect(ids.allSatisfy(S3Service.isVersionID))
        #expect(!S3Service.isVersionID("null"))
        #expect(!S3Service.isVersionID(String(repeating: "a", count: 31) + "/"))
    }
}
