import Core
import Foundation
import GRDB

/// What happens to an asynchronous invocation after its first attempt: how often a failure is retried, how old an
/// event may get, and where a record of the outcome goes. One per qualifier ($LATEST, a version or an alias).
struct EventInvokeConfig: Codable, Sendable {
    var MaximumRetryAttempts: Int?
    var MaximumEventAgeInSeconds: Int?
    var OnSuccess: String?
    var OnFailure: String?
    var LastModified: Double

    static let defaultRetries = 2
    static let defaultMaximumAge = 21600

    func json(functionARN: String) -> [String: Any] {
        var out: [String: Any] = [
            "FunctionArn": functionARN, "LastModified": LastModified,
            "DestinationConfig": ["OnSuccess": OnSuccess.map { ["Destination": $0] } ?? [:],
                                  "OnFailure": OnFailure.map { ["Destination": $0] } ?? [:]],
        ]
        if let n = MaximumRetryAttempts { out["MaximumRetryAttempts"] = n }
        if let n = MaximumEventAgeInSeconds { out["MaximumEventAgeInSeconds"] = n }
        return out
    }
}

extension LambdaService {
    static func noEventInvokeConfig(_ qualifiedARN: String) -> AWSError {
        AWSError("ResourceNotFoundException", "The function \(qualifiedARN) doesn't have an EventInvokeConfig", status: .notFound)
            .with("Type", "User")
    }

    /// What the event invoke config operations answer for a missing function (or qualifier).
    static let eventInvokeFunctionMissing = AWSError("ResourceNotFoundException", "The function doesn't exist.", status: .notFound).with("Type", "User")

    /// The function and the qualifier an event invoke config request names. The qualifier may come from the name
    /// (`fn:alias`) or `?Qualifier=`, and both must agree; it must name an existing version or alias.
    func eventInvokeTarget(_ r: LambdaRequest, missing: AWSError? = nil) throws -> (LambdaFunction, String) {
        let (account, region, name, fromName) = try Self.parseName(r.labels["FunctionName"] ?? "", r)
        let query = r.request.queryValue("Qualifier")
        if let query, let fromName, query != fromName {
            throw LambdaError.invalid("The derived qualifier from the function name does not match the specified qualifier.")
        }
        let qualifier = query ?? fromName ?? "$LATEST"
        let arn = Self.functionARN(account: account, region: region, name: name) + ":" + qualifier
        guard let f = try store.function(account: account, region: region, name: name) else {
            throw missing ?? Self.noEventInvokeConfig(arn)
        }
        guard qualifier == "$LATEST" || f.versions.contains(where: { $0.Version == qualifier }) || f.aliases.contains(where: { $0.Name == qualifier }) else {
            throw missing ?? Self.noEventInvokeConfig(arn)
        }
        return (f, qualifier)
    }

    /// PutFunctionEventInvokeConfig replaces the whole configuration; UpdateFunctionEventInvokeConfig changes the
    /// members given and needs one to exist.
    func putFunctionEventInvokeConfig(_ r: LambdaRequest, update: Bool) async throws -> AWSResponse {
        let input = try await r.body()
        let retries = try input["MaximumRetryAttempts"].map { try Self.ranged($0, 0, 0...2, "maximumRetryAttempts") }
        let maxAge = try input["MaximumEventAgeInSeconds"].map { try Self.ranged($0, 0, 60...21600, "maximumEventAgeInSeconds") }
        let destinations = input["DestinationConfig"] as? [String: Any]
        if retries == nil && maxAge == nil && destinations == nil {
            throw LambdaError.invalid("You must specify at least one of error handling or destination setting.")
        }
        let onSuccess = (destinations?["OnSuccess"] as? [String: Any])?["Destination"] as? String
        let onFailure = (destinations?["OnFailure"] as? [String: Any])?["Destination"] as? String
        for (field, arn) in [("onSuccess", onSuccess), ("onFailure", onFailure)] {
            guard let arn else { continue }
            guard Self.matchesDestinationPattern(arn) else {
                throw LambdaError.validation(arn, "destinationConfig.\(field).destination", "Member must satisfy regular expression pattern: $|kafka://([^.]([a-zA-Z0-9\\-_.]{0,248}))|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1})?:(\\d{12})?:(.*)")
            }
        }
        let (f, qualifier) = try eventInvokeTarget(r, missing: Self.eventInvokeFunctionMissing)
        for arn in [onSuccess, onFailure].compactMap({ $0 }) {
            let service = arn.split(separator: ":", omittingEmptySubsequences: false).dropFirst(2).first.map(String.init) ?? ""
            guard ["sqs", "sns", "lambda", "events", "s3"].contains(service) else {
                let show = { (d: String?, kind: String) in d.map { "\(kind)(destination=\($0))" } ?? "null" }
                throw LambdaError.invalid("The provided destination config DestinationConfig(onSuccess=\(show(onSuccess, "OnSuccess")), onFailure=\(show(onFailure, "OnFailure"))) is invalid.")
            }
            if service == "lambda" {
                let target = try Self.parseName(arn, r)
                if target.2 == f.name && target.0 == f.account && target.1 == f.region {
                    throw LambdaError.invalid("You can't specify the function as a destination for itself.")
                }
                guard try store.function(account: target.0, region: target.1, name: target.2) != nil else {
                    throw LambdaError.invalid("The destination ARN \(arn) is invalid.")
                }
            }
        }
        let now = clock.now()
        let saved = try store.db.writeNow { db -> EventInvokeConfig in
            guard var current = try FunctionStore.function(account: f.account, region: f.region, name: f.name, db) else {
                throw Self.eventInvokeFunctionMissing
            }
            var config: EventInvokeConfig
            if update {
                guard let existing = current.eventInvokeConfigs?[qualifier] else {
                    throw Self.noEventInvokeConfig(f.arn + ":" + qualifier)
                }
                config = existing
                if let retries { config.MaximumRetryAttempts = retries }
                if let maxAge { config.MaximumEventAgeInSeconds = maxAge }
                if let destinations {
                    if destinations["OnSuccess"] != nil { config.OnSuccess = onSuccess }
                    if destinations["OnFailure"] != nil { config.OnFailure = onFailure }
                }
                config.LastModified = now
            } else {
                config = EventInvokeConfig(MaximumRetryAttempts: retries, MaximumEventAgeInSeconds: maxAge,
                                           OnSuccess: onSuccess, OnFailure: onFailure, LastModified: now)
            }
            current.eventInvokeConfigs = (current.eventInvokeConfigs ?? [:]).merging([qualifier: config]) { $1 }
            try FunctionStore.save(current, db)
            return config
        }
        return RestJSON.response(saved.json(functionARN: f.arn + ":" + qualifier))
    }

    func getFunctionEventInvokeConfig(_ r: LambdaRequest) throws -> AWSResponse {
        let (f, qualifier) = try eventInvokeTarget(r)
        guard let config = f.eventInvokeConfigs?[qualifier] else { throw Self.noEventInvokeConfig(f.arn + ":" + qualifier) }
        return RestJSON.response(config.json(functionARN: f.arn + ":" + qualifier))
    }

    func deleteFunctionEventInvokeConfig(_ r: LambdaRequest) throws -> AWSResponse {
        let (f, qualifier) = try eventInvokeTarget(r)
        try store.db.writeNow { db in
            guard var current = try FunctionStore.function(account: f.account, region: f.region, name: f.name, db),
                  current.eventInvokeConfigs?.removeValue(forKey: qualifier) != nil else {
                throw Self.noEventInvokeConfig(f.arn + ":" + qualifier)
            }
            try FunctionStore.save(current, db)
        }
        return RestJSON.response(nil, status: .noContent)
    }

    /// ListFunctionEventInvokeConfigs: every qualifier's configuration, $LATEST first, then versions and aliases.
    func listFunctionEventInvokeConfigs(_ r: LambdaRequest) throws -> AWSResponse {
        let (account, region, name, _) = try Self.parseName(r.labels["FunctionName"] ?? "", r)
        guard let f = try store.function(account: account, region: region, name: name) else { throw Self.eventInvokeFunctionMissing }
        let maxItems = try r.request.queryValue("MaxItems").map { try Self.ranged(Int($0) ?? 0, 50, 1...50, "maxItems") } ?? 50
        let start = Int(r.request.queryValue("Marker") ?? "0") ?? 0
        let all = (f.eventInvokeConfigs ?? [:]).sorted { a, b in
            let rank = { (q: String) -> (Int, Int, String) in
                q == "$LATEST" ? (0, 0, q) : Int(q).map { (1, $0, q) } ?? (2, 0, q)
            }
            return rank(a.key) < rank(b.key)
        }
        let page = all.dropFirst(start).prefix(maxItems)
        var out: [String: Any] = ["FunctionEventInvokeConfigs": page.map { $0.value.json(functionARN: f.arn + ":" + $0.key) }]
        if start + page.count < all.count { out["NextMarker"] = String(start + page.count) }
        return RestJSON.response(out)
    }

    /// botocore's pattern for a destination: empty, a `kafka://` broker or an ARN.
    static func matchesDestinationPattern(_ s: String) -> Bool {
        if s.isEmpty || s.hasPrefix("kafka://") { return true }
        let parts = s.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", parts[1].hasPrefix("aws") else { return false }
        let serviceOK = !parts[2].isEmpty && parts[2].allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" }
        let accountOK = parts[4].isEmpty || (parts[4].count == 12 && parts[4].allSatisfy(\.isNumber))
        return serviceOK && accountOK
    }
}
