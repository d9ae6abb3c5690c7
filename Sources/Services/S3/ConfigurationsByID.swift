import Core
import Foundation

/// Analytics, metrics, inventory and S3 Intelligent-Tiering configurations: many per bucket, each kept by its id as the
/// document the Put received (re-serialised), checked first against the members S3 requires (MalformedXML otherwise).
extension S3Service {
    struct ConfigurationKind: Sendable {
        let query: String
        let name: String  // as in the operation names: PutBucket<name>Configuration
        let root: String  // the document's root element, also each item's element in the list answer
        let listRoot: String
        let validate: @Sendable (XMLElement) -> Bool
    }

    static let configurationKinds: [ConfigurationKind] = [
        ConfigurationKind(query: "analytics", name: "Analytics", root: "AnalyticsConfiguration",
                          listRoot: "ListBucketAnalyticsConfigurationResult", validate: validAnalytics),
        ConfigurationKind(query: "metrics", name: "Metrics", root: "MetricsConfiguration",
                          listRoot: "ListMetricsConfigurationsResult", validate: { validFilter($0.child("Filter")) }),
        ConfigurationKind(query: "inventory", name: "Inventory", root: "InventoryConfiguration",
                          listRoot: "ListInventoryConfigurationsResult", validate: validInventory),
        ConfigurationKind(query: "intelligent-tiering", name: "IntelligentTiering", root: "IntelligentTieringConfiguration",
                          listRoot: "ListBucketIntelligentTieringConfigurationsOutput", validate: validIntelligentTiering),
    ]

    /// S3 lists these configurations 100 to a page.
    static let configurationPageSize = 100

    static func configurationKey(_ kind: ConfigurationKind, id: String) -> BucketConfiguration {
        BucketConfiguration(rawValue: kind.query + "/" + id)
    }

    /// Run a Put/Get/Delete/List of a configuration kept by id; nil when `op` is none of them.
    func configurationByID(_ op: String, _ ctx: BucketContext) async throws -> AWSResponse? {
        guard let kind = Self.configurationKinds.first(where: { op.hasSuffix("Bucket\($0.name)Configuration") || op == "ListBucket\($0.name)Configurations" })
        else { return nil }
        let r = ctx.request
        let b = try await ownedBucket(ctx.bucket, r)
        if op.hasPrefix("List") { return listConfigurations(kind, bucket: b.name, r) }
        let id = r.queryValue("id") ?? ""
        switch op.prefix(3) {
        case "Put":
            let body = try await r.collectBody(limit: 1 << 20)
            guard let doc = XMLElement.parse(Array(body.readableBytesView)), doc.name == kind.root,
                  let docID = Self.leaf(doc, "Id"), !docID.isEmpty, kind.validate(doc) else { throw S3Error.malformedXML() }
            // Inventory names the mismatch and checks the destination ARN; the others call any mismatch malformed.
            if kind.query == "inventory" {
                guard docID == id else { throw AWSError("IdMismatch", "Document ID does not match the specified configuration ID.") }
                let arn = doc.child("Destination")?.child("S3BucketDestination").flatMap { Self.leaf($0, "Bucket") } ?? ""
                guard arn.hasPrefix("arn:"), arn.split(separator: ":", omittingEmptySubsequences: false).count >= 6 else {
                    throw AWSError("InvalidS3DestinationBucket", "Invalid bucket ARN.")
                }
            } else if docID != id {
                throw S3Error.malformedXML()
            }
            try store.setConfiguration(b.name, Self.configurationKey(kind, id: id), Self.serialise(doc))
            return AWSResponse()
        case "Get":
            guard let doc = store.configuration(b.name, Self.configurationKey(kind, id: id)) else { throw Self.noSuchConfiguration() }
            return Self.storedDocument(doc)
        default:
            guard store.configuration(b.name, Self.configurationKey(kind, id: id)) != nil else { throw Self.noSuchConfiguration() }
            try store.setConfiguration(b.name, Self.configurationKey(kind, id: id), nil)
            return AWSResponse(status: .noContent)
        }
    }

    static func noSuchConfiguration() -> AWSError {
        AWSError("NoSuchConfiguration", "The specified configuration does not exist.", status: .notFound)
    }

    func listConfigurations(_ kind: ConfigurationKind, bucket: String, _ r: AWSRequest) -> AWSResponse {
        let prefix = kind.query + "/"
        let token = r.queryValue("continuation-token")
        let after = token.flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } ?? ""
        let all = (store.cached(bucket)?.configuration ?? [:])
            .compactMap { key, doc in key.hasPrefix(prefix) ? (id: String(key.dropFirst(prefix.count)), doc: doc) : nil }
            .filter { $0.id > after }
            .sorted { $0.id < $1.id }
        let page = all.prefix(Self.configurationPageSize)
        var xml = XMLWriter(declaration: false)
        if let token { xml.element("ContinuationToken", token) }
        xml.element("IsTruncated", all.count > page.count)
        if all.count > page.count, let last = page.last {
            xml.element("NextContinuationToken", Data(last.id.utf8).base64EncodedString())
        }
        // Each item as stored, without the namespace its own document carries.
        let items = page.map { $0.doc.replacingOccurrences(of: "<\(kind.root) xmlns=\"\(Self.xmlns)\">", with: "<\(kind.root)>") }
        return Self.storedDocument("<\(kind.listRoot) xmlns=\"\(Self.xmlns)\">" + String(buffer: xml.buffer) + items.joined() + "</\(kind.listRoot)>")
    }

    // MARK: documents

    /// The text of a leaf element, trimmed.
    static func leaf(_ e: XMLElement, _ name: String) -> String? {
        e.value(name)?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The element as the Get answers it: S3's namespace on the root, elements and their text, no other attributes.
    static func serialise(_ e: XMLElement) -> String {
        var xml = XMLWriter(declaration: false)
        func write(_ e: XMLElement, root: Bool) {
            if e.children.isEmpty {
                let text = e.text.trimmingCharacters(in: .whitespacesAndNewlines)
                if root { xml.element(e.name, text, xmlns: xmlns) } else { xml.element(e.name, text) }
                return
            }
            xml.open(e.name, xmlns: root ? xmlns : nil)
            for c in e.children { write(c, root: false) }
            xml.close()
        }
        write(e, root: true)
        return String(buffer: xml.buffer)
    }

    /// A Filter: at most one of Prefix, Tag, And (AccessPointArn too for metrics); a Tag has a Key.
    static func validFilter(_ filter: XMLElement?) -> Bool {
        guard let filter else { return true }
        let kinds = filter.children.filter { ["Prefix", "Tag", "And", "AccessPointArn"].contains($0.name) }
        guard kinds.count == filter.children.count, kinds.count <= 1 else { return false }
        return (filter.children("Tag") + (filter.child("And")?.children("Tag") ?? [])).allSatisfy { leaf($0, "Key") != nil }
    }

    static func validAnalytics(_ doc: XMLElement) -> Bool {
        guard validFilter(doc.child("Filter")), let analysis = doc.child("StorageClassAnalysis") else { return false }
        guard let export = analysis.child("DataExport") else { return true }
        guard leaf(export, "OutputSchemaVersion") == "V_1",
              let destination = export.child("Destination")?.child("S3BucketDestination") else { return false }
        return leaf(destination, "Format") == "CSV" && leaf(destination, "Bucket") != nil
    }

    static func validInventory(_ doc: XMLElement) -> Bool {
        guard ["true", "false"].contains(leaf(doc, "IsEnabled") ?? ""),
              ["All", "Current"].contains(leaf(doc, "IncludedObjectVersions") ?? ""),
              let schedule = doc.child("Schedule"), ["Daily", "Weekly"].contains(leaf(schedule, "Frequency") ?? ""),
              let destination = doc.child("Destination")?.child("S3BucketDestination"),
              leaf(destination, "Bucket") != nil, ["CSV", "ORC", "Parquet"].contains(leaf(destination, "Format") ?? "") else { return false }
        if let filter = doc.child("Filter"), filter.children.contains(where: { $0.name != "Prefix" }) { return false }
        let fields = doc.child("OptionalFields")?.children ?? []
        return fields.allSatisfy { $0.name == "Field" && inventoryOptionalFields.contains($0.text.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// botocore's InventoryOptionalField values.
    static let inventoryOptionalFields: Set<String> = [
        "Size", "LastModifiedDate", "StorageClass", "ETag", "IsMultipartUploaded", "ReplicationStatus", "EncryptionStatus",
        "ObjectLockRetainUntilDate", "ObjectLockMode", "ObjectLockLegalHoldStatus", "IntelligentTieringAccessTier",
        "BucketKeyStatus", "ChecksumAlgorithm", "ObjectAccessControlList", "ObjectOwner", "LifecycleExpirationDate",
    ]

    static func validIntelligentTiering(_ doc: XMLElement) -> Bool {
        let tierings = doc.children("Tiering")
        guard ["Enabled", "Disabled"].contains(leaf(doc, "Status") ?? ""), !tierings.isEmpty, validFilter(doc.child("Filter")) else { return false }
        return tierings.allSatisfy { t in
            leaf(t, "Days").flatMap(Int.init) != nil && ["ARCHIVE_ACCESS", "DEEP_ARCHIVE_ACCESS"].contains(leaf(t, "AccessTier") ?? "")
        }
    }
}
