import Core
import Foundation
import GRDB
import HTTPTypes

extension S3Service {
    /// Result of deleting one key: what the answer reports.
    struct DeleteOutcome {
        var versionID: String?
        var deleteMarker: Bool
        var deleteMarkerVersionID: String?
    }

    /// Delete a key (or one version of it) inside a transaction; returns the outcome and the freed blobs.
    static func delete(bucket: Bucket, key: String, versionID: String?, now: Double, owner: String, _ db: Database) throws -> (DeleteOutcome, [String]) {
        if let versionID {
            let wasMarker = try Bool.fetchOne(
                db, sql: "SELECT is_delete_marker FROM object WHERE bucket = ? AND key = ? AND version_id = ?",
                arguments: [bucket.name, S3Store.keyData(key), versionID]) ?? false
            let freed = try S3Store.deleteVersion(bucket: bucket.name, key: key, versionID: versionID, db)
            return (DeleteOutcome(versionID: versionID, deleteMarker: wasMarker, deleteMarkerVersionID: wasMarker ? versionID : nil), freed)
        }
        guard let versioning = bucket.versioning else {
            let freed = try S3Store.deleteVersion(bucket: bucket.name, key: key, versionID: "null", db)
            return (DeleteOutcome(versionID: nil, deleteMarker: false), freed)
        }
        // Versioned: a delete marker becomes the latest version (suspended: the null version is replaced by it).
        let markerID = versioning == "Enabled" ? newVersionID() : "null"
        let marker = ObjectVersion(
            bucket: bucket.name, key: key, versionID: markerID, isLatest: true, isDeleteMarker: true, size: 0, etag: "",
            lastModified: now, headers: [], metadata: [], tags: [], storageClass: "STANDARD", checksumAlgorithm: nil,
            checksumValue: nil, checksumType: nil, parts: [], segments: [], owner: owner)
        let freed = try S3Store.putVersion(marker, versioning: versioning, db)
        return (DeleteOutcome(versionID: markerID, deleteMarker: true, deleteMarkerVersionID: markerID), freed)
    }

    func deleteObject(_ ctx: ObjectContext) async throws -> AWSResponse {
        let r = ctx.request
        let bucket = try await ownedBucket(ctx.bucket, r)
        let versionID = r.queryValue("versionId")
        if let versionID, versionID != "null", bucket.versioning == nil || !Self.isVersionID(versionID) {
            throw S3Error.invalidArgument("Invalid version id specified", name: "versionId", value: versionID)
        }
        let bypass = try Self.bypassGovernance(r, bucket: bucket)
        let now = wallSeconds(), lockNow = clock.now()
        let ifMatch = r.header("if-match")
        let (outcome, freed, staged) = try store.db.writeNow { db -> (DeleteOutcome, [String], EventOutbox.Staged) in
            if let ifMatch {
                let current = try String.fetchOne(
                    db, sql: "SELECT etag FROM object WHERE bucket = ? AND key = ? AND is_latest = 1 AND is_delete_marker = 0",
                    arguments: [bucket.name, S3Store.keyData(ctx.key)])
                guard let current else { throw S3Error.noSuchKey(ctx.key) }
                if !ETag.matches(ifMatch, current) { throw S3Error.preconditionFailed("If-Match") }
            }
            if let versionID { try Self.checkDeletable(bucket: bucket, key: ctx.key, versionID: versionID, now: lockNow, bypass: bypass, db) }
            let (outcome, freed) = try Self.delete(bucket: bucket, key: ctx.key, versionID: versionID, now: now, owner: r.caller.accountID, db)
            return (outcome, freed, try stageRemoved(outcome, key: ctx.key, requestedVersion: versionID, bucket: bucket, request: r, db))
        }
        store.blobs.remove(freed)
        outbox.deliver(staged)
        var h = HTTPFields()
        if outcome.deleteMarker { h.set("x-amz-delete-marker", "true") }
        if let v = outcome.versionID, bucket.versioning != nil || versionID != nil { h.set("x-amz-version-id", v) }
        return AWSResponse(status: .noContent, headers: h)
    }

    func deleteObjects(_ ctx: BucketContext) async throws -> AWSResponse {
        let r = ctx.request
        let bucket = try await ownedBucket(ctx.bucket, r)
        let body = try await r.collectBody(limit: 2 << 20)
        guard let doc = XMLElement.parse(Array(body.readableBytesView)), doc.name == "Delete" else { throw S3Error.malformedXML() }
        let quiet = doc.value("Quiet")?.lowercased() == "true"
        let items = doc.children("Object")
        if items.count > 1000 { throw S3Error.malformedXML() }
        var targets: [(String, String?)] = []
        for item in items {
            guard let key = item.value("Key") else { throw S3Error.malformedXML() }
            targets.append((key, item.value("VersionId")))
        }
        let bypass = try Self.bypassGovernance(r, bucket: bucket)
        let now = wallSeconds(), lockNow = clock.now()
        let toDelete = targets
        let (freed, results, staged) = try store.db.writeNow { db -> ([String], [(String, String?, Result<DeleteOutcome, AWSError>)], EventOutbox.Staged) in
            var freed: [String] = []
            var staged = EventOutbox.Staged()
            var results: [(String, String?, Result<DeleteOutcome, AWSError>)] = []
            for (key, version) in toDelete {
                if key.utf8.count > 1024 {
                    results.append((key, version, .failure(S3Error.keyTooLong(key.utf8.count))))
                    continue
                }
                if let version, version != "null", try Bool.fetchOne(
                    db, sql: "SELECT EXISTS (SELECT 1 FROM object WHERE bucket = ? AND key = ? AND version_id = ?)",
                    arguments: [bucket.name, S3Store.keyData(key), version]) != true {
                    results.append((key, version, .failure(S3Error.noSuchVersion(key, version))))
                    continue
                }
                if let version {
                    do {
                        try Self.checkDeletable(bucket: bucket, key: key, versionID: version, now: lockNow, bypass: bypass, db)
                    } catch let e as AWSError {
                        results.append((key, version, .failure(e)))
                        continue
                    }
                }
                let (outcome, f) = try Self.delete(bucket: bucket, key: key, versionID: version, now: now, owner: r.caller.accountID, db)
                freed += f
                results.append((key, version, .success(outcome)))
                staged.append(try stageRemoved(outcome, key: key, requestedVersion: version, bucket: bucket, request: r, db))
            }
            return (freed, results, staged)
        }
        store.blobs.remove(freed)
        outbox.deliver(staged)
        var xml = XMLWriter()
        xml.open("DeleteResult", xmlns: Self.xmlns)
        for (key, version, result) in results {
            switch result {
            case .success(let o):
                if quiet { continue }
                xml.open("Deleted")
                xml.element("Key", key)
                xml.element("VersionId", version)
                if o.deleteMarker {
                    xml.element("DeleteMarker", true)
                    xml.element("DeleteMarkerVersionId", o.deleteMarkerVersionID)
                }
                xml.close()
            case .failure(let e):
                xml.open("Error")
                xml.element("Key", key)
                xml.element("VersionId", version)
                xml.element("Code", e.code)
                xml.element("Message", e.message)
                xml.close()
            }
        }
        xml.close()
        return AWSResponse(xml: xml)
    }
}
