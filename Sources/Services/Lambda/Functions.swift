import Core
import Foundation
import GRDB

/// The control plane: create, read, update, delete and list functions; versions; aliases; tags; concurrency.
extension LambdaService {
    static func validateName(_ name: String) throws {
        if name.count > 64 {
            throw AWSError("InvalidParameterValueException", "1 validation error detected: Value '\(name)' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to 64")
                .with("Type", "User")
        }
        let ok = !name.isEmpty
            && name.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 45 || $0 == 95 }
        guard ok else {
            throw LambdaError.validation(name, "functionName", "Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?")
        }
    }

    /// AWS's answer to a runtime it does not know (CreateFunction and UpdateFunctionConfiguration alike).
    static func invalidRuntime(_ rt: String) -> AWSError {
        LambdaError.invalid("Value \(rt) at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [\(Runtimes.all.joined(separator: ", "))] or be a valid ARN")
    }

    /// An integer member within its range, with the validation message of the bound it crosses.
    static func ranged(_ value: Any?, _ fallback: Int, _ range: ClosedRange<Int>, _ field: String) throws -> Int {
        guard let v = value else { return fallback }
        let n = (v as? NSNumber)?.intValue ?? Int.min
        if n < range.lowerBound {
            throw LambdaError.validation(String(n), field, "Member must have value greater than or equal to \(range.lowerBound)")
        }
        if n > range.upperBound {
            throw LambdaError.validation(String(n), field, "Member must have value less than or equal to \(range.upperBound)")
        }
        return n
    }

    /// The code a CreateFunction / UpdateFunctionCode names: inline zip, an S3 object, or a hot-reload folder.
    func resolveCode(_ input: [String: Any]) async throws -> (sha: String, size: Int, hotReload: String?) {
        if let zip = input["ZipFile"] as? String {
            guard let bytes = Data(base64Encoded: zip) else { throw LambdaError.invalid("ZipFile is not valid base64.") }
            let stored = try code.store([UInt8](bytes))
            return (stored.sha256Base64 + "|" + stored.sha256Hex, stored.size, nil)
        }
        if let bucket = input["S3Bucket"] as? String, let key = input["S3Key"] as? String {
            if bucket == "hot-reload" {
                // LocalStack's convention: the code is the folder S3Key names, read afresh at each invoke.
                var isDir: ObjCBool = false
                guard key.hasPrefix("/"), FileManager.default.fileExists(atPath: key, isDirectory: &isDir), isDir.boolValue else {
                    throw LambdaError.invalid("The hot-reload S3Key must be an absolute path to an existing folder: \(key)")
                }
                return ("hot-reload|", 0, key)
            }
            guard let objects else { throw LambdaError.invalid("S3 code locations are not available.") }
            do {
                let bytes = try await objects.objectBytes(bucket: bucket, key: key, limit: FunctionCode.maxUnzippedBytes)
                let stored = try code.store(bytes, direct: false)
                return (stored.sha256Base64 + "|" + stored.sha256Hex, stored.size, nil)
            } catch let e as AWSError where e.code == "EntityTooLarge" {
                throw FunctionCode.unzippedTooLarge
            } catch let e as AWSError where ["NoSuchBucket", "NoSuchKey"].contains(e.code) {
                throw LambdaError.invalid("Error occurred while GetObject. S3 Error Code: \(e.code). S3 Error Message: \(e.message)")
            }
        }
        throw LambdaError.invalid("Please provide a source for function code.")
    }

    func createFunction(_ r: LambdaRequest) async throws -> AWSResponse {
        let input = try await r.body()
        guard let name = input["FunctionName"] as? String else { throw LambdaError.invalid("FunctionName is required.") }
        try Self.validateName(name)
        guard let role = input["Role"] as? String else { throw LambdaError.invalid("Role is required.") }
        guard role.hasPrefix("arn:aws:iam::"), role.contains(":role/") else {
            throw LambdaError.validation(role, "role", "Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+")
        }
        let packageType = input["PackageType"] as? String ?? "Zip"
        var runtime = input["Runtime"] as? String
        let handler = input["Handler"] as? String
        var sha = "", size = 0
        var hotReload: String?
        var imageURI: String?
        if packageType == "Image" {
            imageURI = (input["Code"] as? [String: Any])?["ImageUri"] as? String
            guard imageURI != nil else { throw LambdaError.invalid("ImageUri is required for the Image package type.") }
            runtime = nil
        } else {
            guard let rt = runtime else { throw LambdaError.invalid("Runtime is required for .zip deployment packages.") }
            guard Runtimes.all.contains(rt) else { throw Self.invalidRuntime(rt) }
            guard handler != nil || Runtimes.provided.contains(rt) else { throw LambdaError.invalid("Handler is required for .zip deployment packages.") }
            guard let codeInput = input["Code"] as? [String: Any] else { throw LambdaError.invalid("Code is required.") }
            (sha, size, hotReload) = try await resolveCode(codeInput)
        }
        let timeout = try Self.ranged(input["Timeout"], 3, 1...900, "timeout")
        let memory = try Self.ranged(input["MemorySize"], 128, 128...10240, "memorySize")
        let env = ((input["Environment"] as? [String: Any])?["Variables"] as? [String: String])
        let layers = input["Layers"] as? [String] ?? []
        let layerContents = try resolveLayers(layers, region: r.region)
        let ephemeral = try Self.ephemeralStorage(input) ?? 512
        var settings = FunctionSettings()
        try settings.apply(input)
        let now = clock.now()
        let arn = Self.functionARN(account: r.account, region: r.region, name: name)
        let config = FunctionConfig(
            FunctionName: name, FunctionArn: arn, Runtime: runtime, Role: role, Handler: handler, CodeSize: size,
            Description: input["Description"] as? String ?? "", Timeout: timeout, MemorySize: memory, LastModified: Self.lastModified(now),
            CodeSha256: String(sha.split(separator: "|", omittingEmptySubsequences: false).first ?? ""), Version: "$LATEST", Environment: env,
            PackageType: packageType, ImageUri: imageURI, Architectures: input["Architectures"] as? [String] ?? ["x86_64"],
            EphemeralStorageSize: ephemeral,
            Layers: layers, LayerContents: layerContents, State: "Active", LastUpdateStatus: "Successful", RevisionId: Self.revision(),
            HotReloadPath: hotReload, DeadLetterTargetArn: Self.deadLetterTarget(input), Settings: settings)
        var function = LambdaFunction(account: r.account, region: r.region, name: name, latest: config,
                                      tags: input["Tags"] as? [String: String] ?? [:], created: now)
        function.codeSigningConfigArn = input["CodeSigningConfigArn"] as? String
        function.codeHex = String(sha.split(separator: "|", omittingEmptySubsequences: false).last ?? "")
        if input["Publish"] as? Bool == true { function.publish(description: "", now: now) }
        let saved = function
        try store.db.writeNow { db in
            if try FunctionStore.function(account: r.account, region: r.region, name: name, db) != nil {
                throw LambdaError.conflict("Function already exist: \(name)")
            }
            if let csc = saved.codeSigningConfigArn, try Self.codeSigningConfig(csc, db)?.account != r.account {
                throw Self.codeSigningConfigNotFound(csc)
            }
            try FunctionStore.save(saved, db)
        }
        // The answer shows the function still being created; reads right after show it Active (waiters pass). Lambda
        // gives each state its own RevisionId: the Pending one answered here is not the Active one stored.
        var out = (saved.versions.last ?? config).json
        out["FunctionArn"] = arn
        out["RevisionId"] = Self.revision()
        out.removeValue(forKey: "LastUpdateStatus")
        out["State"] = "Pending"
        out["StateReason"] = "The function is being created."
        out["StateReasonCode"] = "Creating"
        return RestJSON.response(out, status: .created)
    }

    func getFunction(_ r: LambdaRequest) throws -> AWSResponse {
        let (f, qualifier) = try function(r)
        let (config, _) = try Self.configuration(f, qualifier: qualifier)
        var codeInfo: [String: Any] = ["RepositoryType": "S3", "Location": "\(pool.endpoint.url)/_cloudless/lambda/code/\(f.codeHex(for: config))"]
        if let image = config.ImageUri { codeInfo = ["RepositoryType": "ECR", "ImageUri": image] }
        var out: [String: Any] = ["Configuration": config.json, "Code": codeInfo]
        if !f.tags.isEmpty { out["Tags"] = f.tags }
        if let c = f.reservedConcurrency { out["Concurrency"] = ["ReservedConcurrentExecutions": c] }
        return RestJSON.response(out)
    }

    func getFunctionConfiguration(_ r: LambdaRequest) throws -> AWSResponse {
        let (f, qualifier) = try function(r)
        return RestJSON.response(try Self.configuration(f, qualifier: qualifier).0.json)
    }

    func listFunctions(_ r: LambdaRequest) throws -> AWSResponse {
        let all = try store.db.readNow { db in try FunctionStore.all(account: r.account, region: r.region, db) }
        let configs = r.request.queryValue("FunctionVersion") == "ALL" ? all.flatMap { [$0.latest] + $0.versions } : all.map(\.latest)
        let limit = try Self.ranged(r.request.queryValue("MaxItems").map { NSNumber(value: Int($0) ?? 0) }, 50, 1...10000, "maxItems")
        let start = Int(r.request.queryValue("Marker") ?? "0") ?? 0
        let page = Array(configs.dropFirst(start).prefix(limit))
        var out: [String: Any] = ["Functions": page.map(Self.listed)]
        if start + page.count < configs.count { out["NextMarker"] = String(start + page.count) }
        return RestJSON.response(out)
    }

    func deleteFunction(_ r: LambdaRequest) throws -> AWSResponse {
        // A qualifier names a version to delete: never $LATEST alone, never an alias (checked before the function).
        let (_, _, _, fromName) = try Self.parseName(r.labels["FunctionName"] ?? "", r)
        if let q = r.request.queryValue("Qualifier") ?? fromName {
            if q == "$LATEST" { throw LambdaError.invalid("$LATEST version cannot be deleted without deleting the function.") }
            if !q.allSatisfy(\.isNumber) { throw LambdaError.invalid("Deletion of aliases is not currently supported.") }
        }
        let (f, qualifier) = try function(r)
        try store.db.writeNow { db in
            if let q = qualifier, q != "$LATEST" {
                guard var current = try FunctionStore.function(account: f.account, region: f.region, name: f.name, db) else { return }
                current.versions.removeAll { $0.Version == q }
                current.eventInvokeConfigs?.removeValue(forKey: q)
                current.policies?[q] = nil
                try FunctionStore.save(current, db)
            } else {
                try FunctionStore.delete(account: f.account, region: f.region, name: f.name, db)
                // Its queued asynchronous invocations go with it (a function created later under the name starts clean).
                try db.execute(sql: "DELETE FROM async_invocation WHERE account = ? AND region = ? AND function = ?",
                               arguments: [f.account, f.region, f.name])
            }
        }
        pool.retire(prefix: f.arn + "|")
        return RestJSON.response(nil, status: .noContent)
    }

    /// Apply a change to $LATEST in one transaction; the answer shows the update in progress.
    func updateLatest(_ r: LambdaRequest, _ change: (inout LambdaFunction) throws -> Void) throws -> AWSResponse {
        let (f, _) = try function(r)
        let updated = try store.db.writeNow { db -> LambdaFunction in
            guard var current = try FunctionStore.function(account: f.account, region: f.region, name: f.name, db) else {
                throw LambdaError.notFound(f.arn)
            }
            try change(&current)
            current.latest.LastModified = Self.lastModified(clock.now())
            current.latest.RevisionId = Self.revision()
            try FunctionStore.save(current, db)
            return current
        }
        pool.retire(prefix: f.arn + "|")
        // As for CreateFunction: the InProgress answer has its own RevisionId, the stored Successful one another.
        var out = updated.latest.json
        out["RevisionId"] = Self.revision()
        out["LastUpdateStatus"] = "InProgress"
        out["LastUpdateStatusReason"] = "The function is being created."
        out["LastUpdateStatusReasonCode"] = "Creating"
        return RestJSON.response(out)
    }

    func updateFunctionConfiguration(_ r: LambdaRequest) async throws -> AWSResponse {
        let input = try await r.body()
        let layers = input["Layers"] as? [String]
        let layerContents = try layers.map { try resolveLayers($0, region: r.region) }
        return try updateLatest(r) { f in
            if let v = input["RevisionId"] as? String, v != f.latest.RevisionId {
                throw AWSError("PreconditionFailedException", "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
                               status: .preconditionFailed).with("Type", "User")
            }
            if input["Timeout"] != nil { f.latest.Timeout = try Self.ranged(input["Timeout"], 3, 1...900, "timeout") }
            if input["MemorySize"] != nil { f.latest.MemorySize = try Self.ranged(input["MemorySize"], 128, 128...10240, "memorySize") }
            if let h = input["Handler"] as? String { f.latest.Handler = h }
            if let d = input["Description"] as? String { f.latest.Description = d }
            if let role = input["Role"] as? String { f.latest.Role = role }
            if let rt = input["Runtime"] as? String {
                guard Runtimes.all.contains(rt) else { throw Self.invalidRuntime(rt) }
                f.latest.Runtime = rt
            }
            if let e = input["Environment"] as? [String: Any] { f.latest.Environment = e["Variables"] as? [String: String] ?? [:] }
            if let layers, let layerContents { (f.latest.Layers, f.latest.LayerContents) = (layers, layerContents) }
            if input["DeadLetterConfig"] != nil { f.latest.DeadLetterTargetArn = Self.deadLetterTarget(input) }
            if let size = try Self.ephemeralStorage(input) { f.latest.EphemeralStorageSize = size }
            var settings = f.latest.Settings ?? FunctionSettings()
            try settings.apply(input)
            f.latest.Settings = settings
        }
    }

    /// EphemeralStorage.Size, within Lambda's 512–10240 MB.
    static func ephemeralStorage(_ input: [String: Any]) throws -> Int? {
        guard let e = input["EphemeralStorage"] as? [String: Any] else { return nil }
        return try ranged(e["Size"] ?? NSNumber(value: Int.min), 512, 512...10240, "ephemeralStorage.size")
    }

    /// DeadLetterConfig.TargetArn (an empty one removes the queue).
    static func deadLetterTarget(_ input: [String: Any]) -> String? {
        ((input["DeadLetterConfig"] as? [String: Any])?["TargetArn"] as? String).flatMap { $0.isEmpty ? nil : $0 }
    }

    func updateFunctionCode(_ r: LambdaRequest) async throws -> AWSResponse {
        let input = try await r.body()
        let (sha, size, hot) = try await resolveCode(input)
        let publish = input["Publish"] as? Bool == true
        let now = clock.now()
        return try updateLatest(r) { f in
            f.latest.CodeSha256 = String(sha.split(separator: "|", omittingEmptySubsequences: false).first ?? "")
            f.codeHex = String(sha.split(separator: "|", omittingEmptySubsequences: false).last ?? "")
            f.latest.CodeSize = size
            f.latest.HotReloadPath = hot
            if publish { f.publish(description: "", now: now) }
        }
    }

    func publishVersion(_ r: LambdaRequest) async throws -> AWSResponse {
        let input = try await r.body()
        let (f, _) = try function(r)
        let now = clock.now()
        let published = try store.db.writeNow { db -> FunctionConfig in
            guard var current = try FunctionStore.function(account: f.account, region: f.region, name: f.name, db) else {
                throw LambdaError.notFound(f.arn)
            }
            if let sha = input["CodeSha256"] as? String, sha != current.latest.CodeSha256 {
                throw LambdaError.invalid("CodeSHA256 (\(sha)) is different from current CodeSHA256 in $LATEST (\(current.latest.CodeSha256)). Please try again with the CodeSHA256 in $LATEST.")
            }
            // Publishing unchanged code and configuration again returns the last version.
            if let last = current.versions.last, last.CodeSha256 == current.latest.CodeSha256, last.Handler == current.latest.Handler,
               last.Environment == current.latest.Environment, last.Runtime == current.latest.Runtime, last.Timeout == current.latest.Timeout,
               last.MemorySize == current.latest.MemorySize, last.Layers == current.latest.Layers, current.codeHex(for: last) == current.codeHex {
                return last
            }
            current.publish(description: input["Description"] as? String ?? current.latest.Description, now: now)
            try FunctionStore.save(current, db)
            return current.versions.last!
        }
        return RestJSON.response(published.json, status: .created)
    }

    func listVersionsByFunction(_ r: LambdaRequest) throws -> AWSResponse {
        let (f, _) = try function(r)
        var latest = Self.listed(f.latest)
        latest["FunctionArn"] = f.arn + ":$LATEST"
        return RestJSON.response(["Versions": [latest] + f.versions.map(Self.listed)])
    }

    /// A configuration as the list operations show it: without the state fields, which only GetFunction and
    /// GetFunctionConfiguration report (Lambda's ListFunctions documentation).
    static func listed(_ c: FunctionConfig) -> [String: Any] {
        var out = c.json
        for key in ["State", "StateReason", "StateReasonCode", "LastUpdateStatus", "LastUpdateStatusReason", "LastUpdateStatusReasonCode"] {
            out.removeValue(forKey: key)
        }
        return out
    }

    static func refuseQualified(_ arn: String) throws {
        if arn.split(separator: ":").count == 8 {
            throw LambdaError.invalid("Tags on function aliases and versions are not supported. Please specify a function ARN.")
        }
    }

    func tagResource(_ r: LambdaRequest) async throws -> AWSResponse {
        let input = try await r.body()
        let tags = input["Tags"] as? [String: String] ?? [:]
        if try changeOtherTags(r.labels["Resource"] ?? "", r, { $0.merge(tags) { _, new in new } }) {
            return RestJSON.response(nil, status: .noContent)
        }
        try Self.refuseQualified(r.labels["Resource"] ?? "")
        try changeFunction(arn: r.labels["Resource"] ?? "", r) { f in f.tags.merge(tags) { _, new in new } }
        return RestJSON.response(nil, status: .noContent)
    }

    func untagResource(_ r: LambdaRequest) throws -> AWSResponse {
        let keys = r.request.query.filter { $0.0 == "tagKeys" }.map(\.1)
        if try changeOtherTags(r.labels["Resource"] ?? "", r, { tags in for k in keys { tags.removeValue(forKey: k) } }) {
            return RestJSON.response(nil, status: .noContent)
        }
        try changeFunction(arn: r.labels["Resource"] ?? "", r) { f in for k in keys { f.tags.removeValue(forKey: k) } }
        return RestJSON.response(nil, status: .noContent)
    }

    func listTags(_ r: LambdaRequest) throws -> AWSResponse {
        if let tags = try otherTags(r.labels["Resource"] ?? "") { return RestJSON.response(["Tags": tags]) }
        let (account, region, name, _) = try Self.parseName(r.labels["Resource"] ?? "", r)
        guard let f = try store.function(account: account, region: region, name: name) else {
            throw LambdaError.notFound(Self.functionARN(account: account, region: region, name: name))
        }
        return RestJSON.response(["Tags": f.tags])
    }

    func changeFunction(arn: String, _ r: LambdaRequest, _ change: (inout LambdaFunction) throws -> Void) throws {
        let (account, region, name, _) = try Self.parseName(arn, r)
        try store.db.writeNow { db in
            guard var f = try FunctionStore.function(account: account, region: region, name: name, db) else {
                throw LambdaError.notFound(Self.functionARN(account: account, region: region, name: name))
            }
            try change(&f)
            try FunctionStore.save(f, db)
        }
    }

    func putFunctionConcurrency(_ r: LambdaRequest) async throws -> AWSResponse {
        let input = try await r.body()
        guard let value = input["ReservedConcurrentExecutions"] else {
            throw LambdaError.validation("null", "reservedConcurrentExecutions", "Member must not be null")
        }
        // Above the account's limit, the unreserved-minimum answer below speaks.
        let n = try Self.ranged(value, 0, 0...Int.max, "reservedConcurrentExecutions")
        if (r.labels["FunctionName"] ?? "").split(separator: ":").count == 8 || r.request.queryValue("Qualifier") != nil {
            throw LambdaError.invalid("This operation is permitted on Lambda functions only. Aliases and versions do not support this operation. Please specify either a function name or an unqualified function ARN.")
        }
        let (f, _) = try function(r, latestInError: true)
        let others = try store.db.readNow { db in try FunctionStore.all(account: f.account, region: f.region, db) }
            .filter { $0.name != f.name }.compactMap(\.reservedConcurrency).reduce(0, +)
        if 1000 - others - n < 100 {
            throw LambdaError.invalid("Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100].")
        }
        try changeFunction(arn: f.arn, r) { $0.reservedConcurrency = n }
        return RestJSON.response(["ReservedConcurrentExecutions": n])
    }

    func deleteFunctionConcurrency(_ r: LambdaRequest) throws -> AWSResponse {
        let (f, _) = try function(r)
        try changeFunction(arn: f.arn, r) { $0.reservedConcurrency = nil }
        return RestJSON.response(nil, status: .noContent)
    }

    func getFunctionConcurrency(_ r: LambdaRequest) throws -> AWSResponse {
        let (f, _) = try function(r)
        return RestJSON.response(f.reservedConcurrency.map { ["ReservedConcurrentExecutions": $0] } ?? [:])
    }

    func getAccountSettings(_ r: LambdaRequest) throws -> AWSResponse {
        let functions = try store.db.readNow { db in try FunctionStore.all(account: r.account, region: r.region, db) }
        return RestJSON.response([
            "AccountLimit": ["TotalCodeSize": 80_530_636_800, "CodeSizeUnzipped": 262_144_000, "CodeSizeZipped": 52_428_800,
                             "ConcurrentExecutions": 1000, "UnreservedConcurrentExecutions": 1000 - functions.compactMap(\.reservedConcurrency).reduce(0, +)],
            "AccountUsage": ["TotalCodeSize": functions.map(\.latest.CodeSize).reduce(0, +), "FunctionCount": functions.count],
        ])
    }
}

extension LambdaFunction {
    /// Publish $LATEST as the next numbered version.
    mutating func publish(description: String, now: Double) {
        var v = latest
        v.Version = String((versions.compactMap { Int($0.Version) }.max() ?? 0) + 1)
        v.FunctionArn = latest.FunctionArn + ":\(v.Version)"
        v.Description = description
        v.RevisionId = UUID().uuidString.lowercased()
        versionCode[v.Version] = codeHex
        versions.append(v)
    }

    /// The stored zip (hex digest) a configuration runs.
    func codeHex(for config: FunctionConfig) -> String {
        config.Version == "$LATEST" ? codeHex : (versionCode[config.Version] ?? codeHex)
    }
}
