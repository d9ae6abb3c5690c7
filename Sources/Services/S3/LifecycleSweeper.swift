import Core
import Foundation
import GRDB
import HTTPTypes
import NIOCore

/// What one lifecycle sweep did.
struct LifecycleSweepResult {
    var expired = 0  // current versions expired (removed, or hidden behind a delete marker when versioned)
    var noncurrentExpired = 0
    var deleteMarkersRemoved = 0
    var uploadsAborted = 0
}

extension S3Service {
    /// Apply every bucket's lifecycle rules at the emulator's clock (which tests move forward). Runs every minute and
    /// on `POST /_cloudless/s3/lifecycle/run`. Versions that Object Lock protects are left alone, as in AWS.
    public func sweepLifecycle() async throws -> String {
        // A database never created holds no rules: the periodic sweep opens nothing.
        guard store.database.hasContent else { return "{\"expired\":0,\"noncurrentExpired\":0,\"deleteMarkersRemoved\":0,\"uploadsAborted\":0}" }
        let r = try await runLifecycle(now: clock.now())
        return "{\"expired\":\(r.expired),\"noncurrentExpired\":\(r.noncurrentExpired),"
            + "\"deleteMarkersRemoved\":\(r.deleteMarkersRemoved),\"uploadsAborted\":\(r.uploadsAborted)}"
    }

    /// `POST /_cloudless/s3/lifecycle/run`: one sweep now; answers what it did.
    public func internalResponse(method: HTTPRequest.Method, path: String) async -> AWSResponse? {
        guard method == .post, path == "/_cloudless/s3/lifecycle/run" else { return nil }
        var h = HTTPFields()
        h[.contentType] = "application/json"
        do {
            return AWSResponse(headers: h, bytes: ByteBuffer(string: try await sweepLifecycle()))
        } catch {
            return AWSResponse(status: .internalServerError, headers: h, bytes: ByteBuffer(string: "{\"error\":\(JSONString.quote("\(error)"))}"))
        }
    }

    func runLifecycle(now: Double) async throws -> LifecycleSweepResult {
        var result = LifecycleSweepResult()
        for bucket in store.allBuckets() {
            guard let config = LifecycleConfiguration.decode(bucket.configuration[BucketConfiguration.lifecycle.rawValue]) else { continue }
            for rule in config.rules where rule.enabled {
                try expireCurrent(bucket, rule, now: now, &result)
                if rule.noncurrentDays != nil || rule.newerNoncurrentVersions != nil { try expireNoncurrent(bucket, rule, now: now, &result) }
                if let days = rule.abortDaysAfterInitiation { try await abortUploads(bucket, prefix: rule.filter.prefix, days: days, now: now, &result) }
            }
        }
        return result
    }

    /// Expiration Days/Date: a current version past its date is deleted as DeleteObject would (a delete marker in a
    /// versioned bucket). A delete marker left as the only version of its key is removed by ExpiredObjectDeleteMarker,
    /// and by Days once it is that old.
    private func expireCurrent(_ bucket: Bucket, _ rule: LifecycleConfiguration.Rule, now: Double, _ result: inout LifecycleSweepResult) throws {
        let expires = rule.expirationDays != nil || rule.expirationDate != nil
        guard expires || rule.expiredObjectDeleteMarker else { return }
        let latest = try store.latestVersions(bucket: bucket.name, prefix: rule.filter.prefix)
        for o in latest where rule.filter.matches(key: o.key, size: o.size, tags: o.tags) {
            if o.isDeleteMarker {
                guard bucket.versioning != nil else { continue }
                let due = rule.expiredObjectDeleteMarker
                    || rule.expirationDays.map { LifecycleConfiguration.dueDate(from: o.lastModified, days: $0) <= now } == true
                guard due else { continue }
                let removed = try store.db.writeNow { db -> ([String], EventOutbox.Staged)? in
                    // Only a marker with nothing behind it is "expired".
                    guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM object WHERE bucket = ? AND key = ?",
                                           arguments: [bucket.name, S3Store.keyData(o.key)]) == 1 else { return nil }
                    return (try S3Store.deleteVersion(bucket: bucket.name, key: o.key, versionID: o.versionID, db),
                            try stageEvent("LifecycleExpiration:Delete", bucket: bucket, key: o.key, versionID: o.versionID, origin: .lifecycle(), db))
                }
                if let (freed, staged) = removed {
                    store.blobs.remove(freed)
                    result.deleteMarkersRemoved += 1
                    outbox.deliver(staged)
                }
                continue
            }
            guard expires else { continue }
            let due = rule.expirationDays.map { LifecycleConfiguration.dueDate(from: o.lastModified, days: $0) } ?? rule.expirationDate!
            guard due <= now else { continue }
            let wall = wallSeconds()
            let deleted = try store.db.writeNow { db -> ([String], EventOutbox.Staged)? in
                // The version must still be the latest (a write may have come meanwhile).
                guard try Bool.fetchOne(db, sql: "SELECT is_latest FROM object WHERE id = ?", arguments: [o.id]) == true else { return nil }
                let (outcome, freed) = try Self.delete(bucket: bucket, key: o.key, versionID: nil, now: wall, owner: bucket.account, db)
                // A versioned bucket keeps the object behind a new delete marker; otherwise it is gone.
                let staged = try stageEvent(
                    outcome.deleteMarker ? "LifecycleExpiration:DeleteMarkerCreated" : "LifecycleExpiration:Delete", bucket: bucket,
                    key: o.key, versionID: outcome.deleteMarker ? outcome.deleteMarkerVersionID : o.versionID, origin: .lifecycle(), db)
                return (freed, staged)
            }
            if let (freed, staged) = deleted {
                store.blobs.remove(freed)
                result.expired += 1
                outbox.deliver(staged)
            }
        }
    }

    /// NoncurrentVersionExpiration: a version becomes noncurrent when the next one is written; it expires NoncurrentDays
    /// after that, except the NewerNoncurrentVersions newest noncurrent versions, which are kept.
    private func expireNoncurrent(_ bucket: Bucket, _ rule: LifecycleConfiguration.Rule, now: Double, _ result: inout LifecycleSweepResult) throws {
        for key in try store.keysWithNoncurrentVersions(bucket: bucket.name, prefix: rule.filter.prefix) {
            let versions = try store.versions(bucket: bucket.name, key: key)  // newest first
            var doomed: [ObjectVersion] = []
            for i in versions.indices.dropFirst() {
                let o = versions[i], newerNoncurrent = i - 1
                guard rule.filter.matches(key: o.key, size: o.size, tags: o.tags) else { continue }
                if let keep = rule.newerNoncurrentVersions, newerNoncurrent < keep { continue }
                if let days = rule.noncurrentDays, LifecycleConfiguration.dueDate(from: versions[i - 1].lastModified, days: days) > now { continue }
                if !ObjectLockState(headers: o.headers).permitsDeletion(now: now, bypassGovernance: false) { continue }
                doomed.append(o)
            }
            if doomed.isEmpty { continue }
            let (freed, staged) = try store.db.writeNow { db -> ([String], EventOutbox.Staged) in
                var freed: [String] = []
                var staged = EventOutbox.Staged()
                for o in doomed {
                    freed += try S3Store.deleteVersion(bucket: bucket.name, key: key, versionID: o.versionID, db)
                    staged.append(try stageEvent("LifecycleExpiration:Delete", bucket: bucket, key: key, versionID: o.versionID,
                                                 origin: .lifecycle(), db))
                }
                return (freed, staged)
            }
            store.blobs.remove(freed)
            result.noncurrentExpired += doomed.count
            outbox.deliver(staged)
        }
    }

    /// AbortIncompleteMultipartUpload: uploads initiated DaysAfterInitiation ago (rounded to midnight) are aborted.
    private func abortUploads(_ bucket: Bucket, prefix: String, days: Int, now: Double, _ result: inout LifecycleSweepResult) async throws {
        for u in try await store.uploads(bucket: bucket.name, prefix: prefix)
        where LifecycleConfiguration.dueDate(from: u.initiated, days: days) <= now {
            let freed = try store.db.writeNow { db in try S3Store.removeUpload(u.uploadID, db) }
            store.blobs.remove(freed)
            result.uploadsAborted += 1
        }
    }
}

extension S3Store {
    /// The latest version (or delete marker) of every key under a prefix.
    func latestVersions(bucket: String, prefix: String) throws -> [ObjectVersion] {
        try db.readNow { db in
            var sql = "SELECT \(Self.objectColumns) FROM object WHERE bucket = ? AND is_latest = 1"
            var args: StatementArguments = [bucket]
            if !prefix.isEmpty {
                sql += " AND key >= ? AND key < ?"
                _ = args.append(contentsOf: [Self.keyData(prefix), Self.keyData(prefix) + Data([0xFF])])
            }
            return try Row.fetchAll(db, sql: sql, arguments: args).map(Self.object)
        }
    }

    func keysWithNoncurrentVersions(bucket: String, prefix: String) throws -> [String] {
        try db.readNow { db in
            var sql = "SELECT DISTINCT key FROM object WHERE bucket = ? AND is_latest = 0"
            var args: StatementArguments = [bucket]
            if !prefix.isEmpty {
                sql += " AND key >= ? AND key < ?"
                _ = args.append(contentsOf: [Self.keyData(prefix), Self.keyData(prefix) + Data([0xFF])])
            }
            return try Data.fetchAll(db, sql: sql, arguments: args).map { String(decoding: $0, as: UTF8.self) }
        }
    }

    /// Every version of a key, newest first.
    func versions(bucket: String, key: String) throws -> [ObjectVersion] {
        try db.readNow { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.objectColumns) FROM object WHERE bucket = ? AND key = ? ORDER BY id DESC",
                             arguments: [bucket, Self.keyData(key)]).map(Self.object)
        }
    }
}
