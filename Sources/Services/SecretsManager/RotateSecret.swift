import Core
import Foundation
import GRDB

/// RotateSecret and CancelRotateSecret, and the scheduled rotations the emulator's clock drives. The rotation
/// function's four steps run through Core's `SecretRotator`, after RotateSecret has answered (as in AWS).
extension SecretsManagerService {
    func rotateSecret(_ r: AWSRequest, _ input: Input) async throws -> [String: Any] {
        let id = try input.required("SecretId")
        guard let token = try input.token() else {
            throw SecretsError.invalidParameter("You must provide a ClientRequestToken value. We recommend a UUID-type value.")
        }
        let lambda = try input.string("RotationLambdaARN")
        let rules = try RotationSchedule.parse(input.raw["RotationRules"].map { $0 as? [String: Any] ?? [:] })
        let immediately = try input.bool("RotateImmediately") ?? true
        let current = try store.db.readNow { db in try writable(id, r, db) }
        guard let function = lambda ?? current.record.rotationLambdaARN else {
            throw SecretsError.invalidRequest("No Lambda rotation function ARN is associated with this secret.")
        }
        guard await rotator.canInvoke(functionARN: function) else {
            throw AWSError("AccessDeniedException",
                           "Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com.")
        }
        let now = clock.now()
        let secret = try store.db.writeNow { db -> Secret in
            var s = try writable(id, r, db)
            let versions = try SecretStore.versions(arn: s.arn, db)
            if immediately, versions.contains(where: { $0.stages.contains("AWSPENDING") && !$0.stages.contains("AWSCURRENT") && $0.versionID != token }) {
                throw SecretsError.invalidRequest("A previous rotation isn't complete. That rotation will be reattempted.")
            }
            s.record.rotationEnabled = true
            s.record.rotationLambdaARN = function
            if let rules { s.record.rotationRules = rules }
            s.record.nextRotation = s.record.rotationRules.flatMap { RotationSchedule.next(after: now, $0) }
            s.record.lastChanged = now
            try SecretStore.save(s, db)
            if immediately { try labelPending(token, arn: s.arn, now: now, db) }
            return s
        }
        var out: [String: Any] = ["ARN": secret.arn, "Name": secret.name]
        if immediately {
            out["VersionId"] = token
            let service = self
            Task { await service.rotate(arn: secret.arn, function: function, token: token) }
        }
        return out
    }

    /// Before the first step, as AWS does: the new version id exists, labelled AWSPENDING, without a value (rotation
    /// functions written from AWS's templates refuse a token that is not AWSPENDING, and probe GetSecretValue for it).
    /// A version that already has this id (a retried rotation) is left as it is.
    func labelPending(_ token: String, arn: String, now: Double, _ db: Database) throws {
        var versions = try SecretStore.versions(arn: arn, db)
        guard !versions.contains(where: { $0.versionID == token }) else { return }
        versions.append(SecretVersion.pending(token, now: now))
        let changed = Self.attach(["AWSPENDING"], to: token, in: &versions)
        for v in versions where changed.contains(v.versionID) {
            if v.versionID == token { try SecretStore.saveVersion(v, arn: arn, db) } else {
                try SecretStore.setStages(v.stages, arn: arn, versionID: v.versionID, db)
            }
        }
    }

    /// Run the four steps; on success the secret records LastRotatedDate and its next rotation.
    func rotate(arn: String, function: String, token: String) async {
        do {
            for step in RotationStep.allCases {
                try await rotator.invoke(functionARN: function, step: step, secretARN: arn, clientRequestToken: token)
            }
            let now = clock.now()
            try store.db.writeNow { db in
                guard var s = try SecretStore.byARN(arn, db) else { return }
                // A completed rotation leaves no AWSPENDING label behind.
                for v in try SecretStore.versions(arn: arn, db) where v.stages.contains("AWSPENDING") {
                    try SecretStore.setStages(v.stages.filter { $0 != "AWSPENDING" }, arn: arn, versionID: v.versionID, db)
                }
                s.record.lastRotated = now
                s.record.nextRotation = s.record.rotationRules.flatMap { RotationSchedule.next(after: now, $0) }
                try SecretStore.save(s, db)
            }
        } catch {
            logger.warning("rotation of a secret failed", metadata: ["secret": "\(arn)", "error": "\(error)"])
        }
    }

    func cancelRotateSecret(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        let id = try input.required("SecretId")
        let now = clock.now()
        return try store.db.writeNow { db in
            var s = try writable(id, r, db)
            s.record.rotationEnabled = false
            s.record.nextRotation = nil
            s.record.lastChanged = now
            try SecretStore.save(s, db)
            var out: [String: Any] = ["ARN": s.arn, "Name": s.name]
            let pending = try SecretStore.versions(arn: s.arn, db).first { $0.stages.contains("AWSPENDING") }
            if let pending { out["VersionId"] = pending.versionID }
            return out
        }
    }

    /// One pass of the background sweep: remove secrets whose recovery window ended and start rotations that are due
    /// by the emulator's clock. Returns the rotations started (for tests).
    @discardableResult
    public func sweep() async throws -> Int {
        guard store.database.hasContent else { return 0 }  // never created: nothing due, nothing opened
        let now = clock.now()
        let due = try store.db.writeNow { db -> [(String, String, String)] in
            try purgeDue(db)
            let rows = try Row.fetchAll(db, sql: "SELECT \(SecretStore.columns) FROM secret WHERE deleted IS NULL AND primary_arn IS NULL")
            var out: [(String, String, String)] = []
            for row in rows {
                var s = try SecretStore.secret(row)
                guard s.record.rotationEnabled == true, let next = s.record.nextRotation, next <= now,
                      let function = s.record.rotationLambdaARN else { continue }
                // Push the next date forward first, so a slow rotation is not started twice.
                s.record.nextRotation = s.record.rotationRules.flatMap { RotationSchedule.next(after: now, $0) }
                try SecretStore.save(s, db)
                // An unfinished rotation is attempted again with its own token, as AWS does; else a new one.
                let unfinished = try SecretStore.versions(arn: s.arn, db)
                    .first { $0.stages.contains("AWSPENDING") && !$0.stages.contains("AWSCURRENT") }
                let token = unfinished?.versionID ?? UUID().uuidString.lowercased()
                try labelPending(token, arn: s.arn, now: now, db)
                out.append((s.arn, function, token))
            }
            return out
        }
        for (arn, function, token) in due {
            await rotate(arn: arn, function: function, token: token)
        }
        return due.count
    }
}
