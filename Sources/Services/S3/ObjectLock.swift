import Core
import Foundation
import GRDB
import HTTPTypes

/// Object Lock on a version: its retention (mode and retain-until date) and legal hold, kept with the version's
/// stored headers (`x-amz-object-lock-*`), so GET/HEAD play them back as they are.
struct ObjectLockState {
    static let modeHeader = "x-amz-object-lock-mode"
    static let untilHeader = "x-amz-object-lock-retain-until-date"
    static let holdHeader = "x-amz-object-lock-legal-hold"
    static let names: Set<String> = [modeHeader, untilHeader, holdHeader]
    static let modes: Set<String> = ["GOVERNANCE", "COMPLIANCE"]

    var mode: String?
    var retainUntil: Double?
    var legalHold: String?

    init(headers: [(String, String)]) {
        for (k, v) in headers {
            switch k {
            case Self.modeHeader: mode = v
            case Self.untilHeader: retainUntil = AWSDate.parse(v)
            case Self.holdHeader: legalHold = v
            default: break
            }
        }
    }

    var headers: [(String, String)] {
        var h: [(String, String)] = []
        if let mode, let retainUntil {
            h.append((Self.modeHeader, mode))
            h.append((Self.untilHeader, AWSDate.iso8601(retainUntil)))
        }
        if let legalHold { h.append((Self.holdHeader, legalHold)) }
        return h
    }

    /// The version's headers with this lock state in place of the old one.
    func applied(to headers: [(String, String)]) -> [(String, String)] {
        headers.filter { !Self.names.contains($0.0) } + self.headers
    }

    func retained(now: Double) -> Bool { (retainUntil ?? 0) > now }

    /// May this version be deleted (or its retention shortened) now? Legal hold and COMPLIANCE never give way;
    /// GOVERNANCE does to x-amz-bypass-governance-retention.
    func permitsDeletion(now: Double, bypassGovernance: Bool) -> Bool {
        if legalHold == "ON" { return false }
        guard retained(now: now) else { return true }
        return mode == "GOVERNANCE" && bypassGovernance
    }

    static func denied() -> AWSError { AWSError.accessDenied("Access Denied because object protected by object lock.") }
    static func missingConfiguration() -> AWSError { S3Error.invalidRequest("Bucket is missing Object Lock Configuration") }
    static func noConfiguration() -> AWSError {
        AWSError("NoSuchObjectLockConfiguration", "The specified object does not have a ObjectLock configuration", status: .notFound)
    }
}

/// A bucket's default retention (PutObjectLockConfiguration's Rule), applied to new versions that name none.
struct DefaultRetention {
    var mode: String
    var days: Int?
    var years: Int?

    var seconds: Double { Double(days ?? 0) * 86400 + Double(years ?? 0) * 365 * 86400 }

    /// The Rule of a stored ObjectLockConfiguration document, nil when it has none.
    static func of(_ document: String?) -> DefaultRetention? {
        guard let document, let doc = XMLElement.parse(Array(document.utf8)),
              let r = doc.child("Rule")?.child("DefaultRetention"), let mode = r.value("Mode") else { return nil }
        return DefaultRetention(mode: mode, days: r.value("Days").flatMap { Int($0) }, years: r.value("Years").flatMap { Int($0) })
    }
}

extension S3Service {
    /// The Object Lock headers a new version gets (PutObject, CopyObject, CreateMultipartUpload): those of the request,
    /// validated, else the bucket's default retention. Content-MD5 or a checksum is required where AWS requires it.
    func lockHeaders(_ r: AWSRequest, bucket: Bucket, requireIntegrity: Bool) throws -> [(String, String)] {
        let mode = r.header(ObjectLockState.modeHeader), until = r.header(ObjectLockState.untilHeader)
        let hold = r.header(ObjectLockState.holdHeader)
        let now = clock.now()
        guard mode != nil || until != nil || hold != nil else {
            guard bucket.objectLock, let d = DefaultRetention.of(store.configuration(bucket.name, .objectLock)) else { return [] }
            var state = ObjectLockState(headers: [])
            state.mode = d.mode
            state.retainUntil = now + d.seconds
            return state.headers
        }
        guard bucket.objectLock else { throw ObjectLockState.missingConfiguration() }
        if mode != nil && until == nil {
            throw S3Error.invalidArgument("x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied",
                                          name: ObjectLockState.untilHeader)
        }
        if until != nil && mode == nil {
            throw S3Error.invalidArgument("x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied",
                                          name: ObjectLockState.modeHeader)
        }
        var state = ObjectLockState(headers: [])
        if let mode, let until {
            guard ObjectLockState.modes.contains(mode) else {
                throw S3Error.invalidArgument("Unknown wormMode directive.", name: ObjectLockState.modeHeader, value: mode)
            }
            guard let date = AWSDate.parse(until) else {
                throw S3Error.invalidArgument("The retain until date must be in the future!", name: ObjectLockState.untilHeader, value: until)
            }
            if date <= now {
                throw S3Error.invalidArgument("The retain until date must be in the future!", name: ObjectLockState.untilHeader, value: until)
            }
            state.mode = mode
            state.retainUntil = date
        }
        if let hold {
            guard hold == "ON" || hold == "OFF" else {
                throw S3Error.invalidArgument("Legal Hold must be either of 'ON' or 'OFF'", name: ObjectLockState.holdHeader, value: hold)
            }
            state.legalHold = hold
        }
        if requireIntegrity && r.header("content-md5") == nil && r.header("x-amz-trailer") == nil
            && r.header("x-amz-sdk-checksum-algorithm") == nil && !r.headers.contains(where: { $0.name.canonicalName.hasPrefix("x-amz-checksum-") }) {
            throw S3Error.invalidRequest("Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters")
        }
        return state.headers
    }

    /// x-amz-bypass-governance-retention is refused on a bucket without Object Lock; true when it is set.
    static func bypassGovernance(_ r: AWSRequest, bucket: Bucket) throws -> Bool {
        guard let v = r.header("x-amz-bypass-governance-retention") else { return false }
        guard bucket.objectLock else {
            throw S3Error.invalidArgument("x-amz-bypass-governance-retention is only applicable to Object Lock enabled buckets.",
                                          name: "x-amz-bypass-governance-retention")
        }
        return v.lowercased() == "true"
    }

    /// Inside a delete's transaction: refuse to remove a version that Object Lock protects.
    static func checkDeletable(bucket: Bucket, key: String, versionID: String, now: Double, bypass: Bool, _ db: Database) throws {
        guard bucket.objectLock, let headers = try String.fetchOne(
            db, sql: "SELECT headers FROM object WHERE bucket = ? AND key = ? AND version_id = ?",
            arguments: [bucket.name, S3Store.keyData(key), versionID]) else { return }
        if !ObjectLockState(headers: HeaderPairs.decode(headers)).permitsDeletion(now: now, bypassGovernance: bypass) {
            throw ObjectLockState.denied()
        }
    }

    // MARK: Bucket configuration

    func putObjectLockConfiguration(_ ctx: BucketContext) async throws -> AWSResponse {
        let bucket = try await ownedBucket(ctx.bucket, ctx.request)
        let body = try await ctx.request.collectBody(limit: 64 * 1024)
        let retention = try Self.objectLockRetention(Array(body.readableBytesView))
        if !bucket.objectLock {
            guard bucket.versioning == "Enabled" else {
                throw AWSError("InvalidBucketState", "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration",
                               status: .conflict)
            }
            try store.setBucketState(bucket.name, versioning: "Enabled", objectLock: true)
        }
        try store.setConfiguration(bucket.name, .objectLock, String(buffer: Self.objectLockDocument(retention).buffer))
        return AWSResponse()
    }

    /// The default retention of a PutObjectLockConfiguration body (nil without a Rule), checked as S3 checks it.
    static func objectLockRetention(_ bytes: [UInt8]) throws -> DefaultRetention? {
        guard let doc = XMLElement.parse(bytes), doc.name == "ObjectLockConfiguration",
              doc.value("ObjectLockEnabled") == "Enabled" else { throw S3Error.malformedXML() }
        guard let rule = doc.child("Rule") else { return nil }
        guard let d = rule.child("DefaultRetention"), let mode = d.value("Mode"), ObjectLockState.modes.contains(mode) else {
            throw S3Error.malformedXML()
        }
        let days = d.value("Days"), years = d.value("Years")
        guard (days == nil) != (years == nil) else { throw S3Error.malformedXML() }
        guard let n = Int(days ?? years ?? ""), n > 0 else {
            throw S3Error.invalidArgument("Default retention period must be a positive integer value", name: days != nil ? "Days" : "Years",
                                          value: days ?? years)
        }
        return DefaultRetention(mode: mode, days: days != nil ? n : nil, years: years != nil ? n : nil)
    }

    /// The ObjectLockConfiguration document GetObjectLockConfiguration answers (and the stored one).
    static func objectLockDocument(_ retention: DefaultRetention?) -> XMLWriter {
        var xml = XMLWriter()
        xml.open("ObjectLockConfiguration", xmlns: xmlns)
        xml.element("ObjectLockEnabled", "Enabled")
        if let retention {
            xml.open("Rule")
            xml.open("DefaultRetention")
            xml.element("Mode", retention.mode)
            if let d = retention.days { xml.element("Days", d) }
            if let y = retention.years { xml.element("Years", y) }
            xml.close()
            xml.close()
        }
        xml.close()
        return xml
    }

    func getObjectLockConfiguration(_ ctx: BucketContext) async throws -> AWSResponse {
        let bucket = try await ownedBucket(ctx.bucket, ctx.request)
        guard bucket.objectLock else {
            throw AWSError("ObjectLockConfigurationNotFoundError", "Object Lock configuration does not exist for this bucket", status: .notFound)
                .with("BucketName", bucket.name)
        }
        return AWSResponse(xml: Self.objectLockDocument(DefaultRetention.of(store.configuration(bucket.name, .objectLock))))
    }

    // MARK: Retention and legal hold of a version

    /// The version a retention / legal hold request means, on a bucket with Object Lock.
    private func lockedVersion(_ ctx: ObjectContext) async throws -> (Bucket, ObjectVersion) {
        let bucket = try await ownedBucket(ctx.bucket, ctx.request)
        guard bucket.objectLock else { throw ObjectLockState.missingConfiguration() }
        return (bucket, try await readableObject(ctx, bucket: bucket))
    }

    private func setLock(_ o: ObjectVersion, _ state: ObjectLockState) throws {
        try store.db.writeNow { db in
            try db.execute(sql: "UPDATE object SET headers = ? WHERE id = ?", arguments: [HeaderPairs.encode(state.applied(to: o.headers)), o.id])
            if db.changesCount == 0 { throw S3Error.noSuchKey(o.key) }
        }
    }

    private func versionHeader(_ o: ObjectVersion) -> HTTPFields {
        var h = HTTPFields()
        h.set("x-amz-version-id", o.versionID)
        return h
    }

    func putObjectRetention(_ ctx: ObjectContext) async throws -> AWSResponse {
        let r = ctx.request
        let (bucket, o) = try await lockedVersion(ctx)
        let body = try await r.collectBody(limit: 64 * 1024)
        guard let doc = XMLElement.parse(Array(body.readableBytesView)), doc.name == "Retention" else { throw S3Error.malformedXML() }
        let mode = doc.value("Mode"), untilText = doc.value("RetainUntilDate")
        guard (mode == nil) == (untilText == nil) else { throw S3Error.malformedXML() }
        let now = clock.now()
        var state = ObjectLockState(headers: o.headers)
        let old = state
        if let mode, let untilText {
            guard ObjectLockState.modes.contains(mode), let until = AWSDate.parse(untilText) else { throw S3Error.malformedXML() }
            if until <= now {
                throw S3Error.invalidArgument("The retain until date must be in the future!", name: "RetainUntilDate", value: untilText)
            }
            state.mode = mode
            state.retainUntil = until
        } else {
            state.mode = nil
            state.retainUntil = nil
        }
        // Extending a retention is always allowed; weakening it needs GOVERNANCE and the bypass, never COMPLIANCE.
        if old.retained(now: now) {
            let weaker = state.mode != old.mode || (state.retainUntil ?? 0) < (old.retainUntil ?? 0)
            let bypass = try Self.bypassGovernance(r, bucket: bucket)
            if weaker && !(old.mode == "GOVERNANCE" && bypass) { throw ObjectLockState.denied() }
        }
        try setLock(o, state)
        return AWSResponse(headers: versionHeader(o))
    }

    func getObjectRetention(_ ctx: ObjectContext) async throws -> AWSResponse {
        let (_, o) = try await lockedVersion(ctx)
        let state = ObjectLockState(headers: o.headers)
        guard let mode = state.mode, let until = state.retainUntil else { throw ObjectLockState.noConfiguration() }
        var xml = XMLWriter()
        xml.open("Retention", xmlns: Self.xmlns)
        xml.element("Mode", mode)
        xml.element("RetainUntilDate", AWSDate.iso8601(until))
        xml.close()
        return AWSResponse(xml: xml)
    }

    func putObjectLegalHold(_ ctx: ObjectContext) async throws -> AWSResponse {
        let (_, o) = try await lockedVersion(ctx)
        let body = try await ctx.request.collectBody(limit: 64 * 1024)
        guard let doc = XMLElement.parse(Array(body.readableBytesView)), doc.name == "LegalHold",
              let status = doc.value("Status"), status == "ON" || status == "OFF" else { throw S3Error.malformedXML() }
        var state = ObjectLockState(headers: o.headers)
        state.legalHold = status
        try setLock(o, state)
        return AWSResponse(headers: versionHeader(o))
    }

    func getObjectLegalHold(_ ctx: ObjectContext) async throws -> AWSResponse {
        let (_, o) = try await lockedVersion(ctx)
        guard let status = ObjectLockState(headers: o.headers).legalHold else { throw ObjectLockState.noConfiguration() }
        var xml = XMLWriter()
        xml.open("LegalHold", xmlns: Self.xmlns)
        xml.element("Status", status)
        xml.close()
        return AWSResponse(xml: xml)
    }
}
