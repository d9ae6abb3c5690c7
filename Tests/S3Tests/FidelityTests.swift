import Core
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Testing
@testable import S3

// Wire fidelity (issue 13): which requests S3 refuses before any operation runs, how configurations kept by id are
// checked and answered, and the routing of method and sub-resource pairs.

private func xml(_ s: String) -> XMLElement { XMLElement.parse(Array(s.utf8))! }

private func withService(_ body: (S3Service) async throws -> Void) async throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cloudless-fidelity-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let service = try S3Service(directory: dir, clock: EmulatorClock(), logger: Logger(label: "t"))
    try await body(service)
    try service.store.db.close()
}

private func awsError(_ body: () async throws -> Void) async -> AWSError? {
    do { try await body() } catch let e as AWSError { return e } catch {}
    return nil
}

@Suite struct RequestRuleTests {
    @Test func accountIDsAreTwelveDigits() {
        #expect(S3Service.isAccountID("123456789012"))
        #expect(!S3Service.isAccountID("12345678901") && !S3Service.isAccountID("1234567890123"))
        #expect(!S3Service.isAccountID("12345678901a") && !S3Service.isAccountID(""))
        #expect(!S3Service.isAccountID("１２３４５６７８９０１２"))  // full-width digits are not ASCII digits
    }

    @Test func managedKeyIsStablePerAccountAndRegionInKMSsForm() throws {
        let arn = S3Service.managedKeyARN(account: "123456789012", region: "eu-west-1")
        #expect(arn == S3Service.managedKeyARN(account: "123456789012", region: "eu-west-1"))
        #expect(arn != S3Service.managedKeyARN(account: "123456789012", region: "us-east-1"))
        #expect(arn.hasPrefix("arn:aws:kms:eu-west-1:123456789012:key/"))
        let id = arn.split(separator: "/").last.map(String.init) ?? ""
        #expect(id.split(separator: "-").map(\.count) == [8, 4, 4, 4, 12])
    }

    @Test func operationsOfMethodAndSubresourcePairs() {
        func op(_ m: HTTPRequest.Method, _ path: String, _ query: String) -> String {
            let r = request(m, path, query: query)
            return S3Service.operation(r, try! S3Address.parse(hostName: "127.0.0.1", rawPath: path))
        }
        #expect(op(.delete, "/b", "") == "DeleteBucket")
        #expect(op(.delete, "/b", "x-id=DeleteBucket") == "DeleteBucket")
        #expect(op(.delete, "/b", "uploads") == "Unknown")
        #expect(op(.put, "/b", "versions") == "Unknown")
        #expect(op(.put, "/b", "") == "CreateBucket")
        #expect(op(.post, "/b/k", "tagging") == "Unknown")
        #expect(op(.post, "/b/k", "restore") == "RestoreObject")
        #expect(op(.post, "/b/k", "select&select-type=2") == "SelectObjectContent")
        #expect(op(.put, "/b/k", "encryption") == "UpdateObjectEncryption")
        #expect(op(.put, "/b/k", "") == "PutObject")
        #expect(op(.put, "/b", "abac") == "PutBucketAbac")
        #expect(op(.post, "/b", "metadataTable") == "CreateBucketMetadataTableConfiguration")
        #expect(op(.post, "/b", "") == "PostObject")
        #expect(op(.patch, "/b", "metadataTable") == "Unknown")
        #expect(op(.put, "/b", "metrics&id=m") == "PutBucketMetricsConfiguration")
        #expect(op(.get, "/b", "intelligent-tiering") == "ListBucketIntelligentTieringConfigurations")
    }

    @Test func unservedPairsAreMethodNotAllowedAndOnlyRealOperationsNotImplemented() {
        let r = request(.post, "/b/k", query: "tagging")
        let refused = S3Service.unserved("Unknown", r, resource: "OBJECT")
        #expect(refused == S3Error.methodNotAllowed("POST", resource: "OBJECT"))
        #expect(S3Service.unserved("RestoreObject", r, resource: "OBJECT").code == "NotImplemented")
    }

    @Test func expectedBucketOwnerIsCheckedBeforeTheOperation() async throws {
        try await withService { s in
            _ = try await s.handle(request(.put, "/own"))
            let bad = await awsError { _ = try await s.handle(request(.delete, "/own", headers: [("x-amz-expected-bucket-owner", "abc")])) }
            #expect(bad?.code == "InvalidBucketOwnerAWSAccountID")
            #expect(bad?.message == "The value of the expected bucket owner parameter must be an AWS Account ID... [abc]")
            let other = await awsError {
                _ = try await s.handle(request(.delete, "/own", headers: [("x-amz-expected-bucket-owner", "111111111111")]))
            }
            #expect(other?.code == "AccessDenied")
            #expect(s.store.bucket("own") != nil)
            _ = try await s.handle(request(.delete, "/own", headers: [("x-amz-expected-bucket-owner", "000000000000")]))
            #expect(s.store.bucket("own") == nil)
        }
    }
}

@Suite struct ConfigurationByIDTests {
    @Test func documentsAreReturnedInS3sNamespaceWithoutOtherAttributes() {
        let doc = xml("""
            <MetricsConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/" other="x">
              <Id> m1 </Id><Filter><Prefix>a/</Prefix></Filter>
            </MetricsConfiguration>
            """)
        #expect(S3Service.serialise(doc)
            == "<MetricsConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Id>m1</Id><Filter><Prefix>a/</Prefix></Filter></MetricsConfiguration>")
    }

    @Test func filtersHoldOneConditionAndTagsHaveKeys() {
        #expect(S3Service.validFilter(nil))
        #expect(S3Service.validFilter(xml("<Filter><Prefix>a</Prefix></Filter>")))
        #expect(S3Service.validFilter(xml("<Filter><And><Prefix>a</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></And></Filter>")))
        #expect(!S3Service.validFilter(xml("<Filter><Prefix>a</Prefix><Tag><Key>k</Key></Tag></Filter>")))
        #expect(!S3Service.validFilter(xml("<Filter><Tag><Value>v</Value></Tag></Filter>")))
        #expect(!S3Service.validFilter(xml("<Filter><Suffix>a</Suffix></Filter>")))
    }

    @Test func eachKindRequiresWhatS3Requires() {
        #expect(S3Service.validAnalytics(xml("<AnalyticsConfiguration><Id>a</Id><StorageClassAnalysis/></AnalyticsConfiguration>")))
        #expect(!S3Service.validAnalytics(xml("<AnalyticsConfiguration><Id>a</Id></AnalyticsConfiguration>")))
        let inventory = """
            <InventoryConfiguration><Id>i</Id><IsEnabled>true</IsEnabled><IncludedObjectVersions>All</IncludedObjectVersions>
            <Schedule><Frequency>Weekly</Frequency></Schedule>
            <Destination><S3BucketDestination><Bucket>arn:aws:s3:::d</Bucket><Format>ORC</Format></S3BucketDestination></Destination>
            </InventoryConfiguration>
            """
        #expect(S3Service.validInventory(xml(inventory)))
        #expect(!S3Service.validInventory(xml(inventory.replacingOccurrences(of: "Weekly", with: "Hourly"))))
        #expect(!S3Service.validInventory(xml(inventory.replacingOccurrences(of: "ORC", with: "JSON"))))
        #expect(!S3Service.validInventory(xml(inventory.replacingOccurrences(of: "Weekly", with: "Monthly"))))
        let fields = inventory.replacingOccurrences(of: "</InventoryConfiguration>", with: "<OptionalFields><Field>Size</Field></OptionalFields></InventoryConfiguration>")
        #expect(S3Service.validInventory(xml(fields)))
        #expect(!S3Service.validInventory(xml(fields.replacingOccurrences(of: ">Size<", with: ">Colour<"))))
        let tiering = "<IntelligentTieringConfiguration><Id>t</Id><Status>Enabled</Status><Tiering><Days>90</Days><AccessTier>ARCHIVE_ACCESS</AccessTier></Tiering></IntelligentTieringConfiguration>"
        #expect(S3Service.validIntelligentTiering(xml(tiering)))
        #expect(!S3Service.validIntelligentTiering(xml(tiering.replacingOccurrences(of: "90", with: "ninety"))))
        #expect(!S3Service.validIntelligentTiering(xml(tiering.replacingOccurrences(of: "Enabled", with: "On"))))
    }

    @Test func putGetListDeleteById() async throws {
        try await withService { s in
            _ = try await s.handle(request(.put, "/cfg"))
            _ = try await s.handle(request(.put, "/cfg", query: "metrics&id=b", body: "<MetricsConfiguration><Id>b</Id></MetricsConfiguration>"))
            _ = try await s.handle(request(.put, "/cfg", query: "metrics&id=a", body: "<MetricsConfiguration><Id>a</Id></MetricsConfiguration>"))
            let text = try await cfnText(s.handle(request(.get, "/cfg", query: "metrics")))
            #expect(text.contains("<IsTruncated>false</IsTruncated><MetricsConfiguration><Id>a</Id></MetricsConfiguration><MetricsConfiguration><Id>b</Id></MetricsConfiguration></ListMetricsConfigurationsResult>"))
            let mismatch = await awsError {
                _ = try await s.handle(request(.put, "/cfg", query: "metrics&id=c", body: "<MetricsConfiguration><Id>d</Id></MetricsConfiguration>"))
            }
            #expect(mismatch == S3Error.malformedXML())
            _ = try await s.handle(request(.delete, "/cfg", query: "metrics&id=a"))
            let gone = await awsError { _ = try await s.handle(request(.get, "/cfg", query: "metrics&id=a")) }
            #expect(gone?.code == "NoSuchConfiguration")
        }
    }
}
