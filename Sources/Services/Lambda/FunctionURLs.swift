import Core
import Foundation
import GRDB

/// A function URL's configuration, kept in `function_url` by its URL id (the Host label requests arrive on).
struct FunctionURLConfig: Codable, Sendable {
    struct CorsConfig: Codable, Sendable, Equatable {
        var AllowCredentials: Bool?
        var AllowHeaders: [String]?
        var AllowMethods: [String]?
        var AllowOrigins: [String]?
        var ExposeHeaders: [String]?
        var MaxAge: Int?
    }
    var urlID: String
    var account: String
    var region: String
    var name: String
    /// An alias name, or "" for the unqualified function.
    var qualifier: String
    var FunctionArn: String
    var AuthType: String
    var Cors: CorsConfig?
    /// As given; nil (never set) reads as BUFFERED, and Create and Update then leave it out of their answers as AWS does.
    var InvokeMode: String?
    var CreationTime: String
    var LastModifiedTime: String

    func json(functionURL: String) -> [String: Any] {
        var out: [String: Any] = ["FunctionUrl": functionURL, "FunctionArn": FunctionArn, "AuthType": AuthType, "CreationTime": CreationTime,
                                  "LastModifiedTime": LastModifiedTime, "InvokeMode": InvokeMode ?? "BUFFERED"]
        if let c = Cors, let data = try? JSONEncoder().encode(c), let object = try? JSONSerialization.jsonObject(with: data) {
            out["Cors"] = object
        }
        return out
    }

    static func find(urlID: String, _ db: Database) throws -> FunctionURLConfig? {
        try String.fetchOne(db.cachedStatement(sql: "SELECT doc FROM function_url WHERE url_id = ?"), arguments: [urlID])
            .map { try JSONDecoder().decode(FunctionURLConfig.self, from: Data($0.utf8)) }
    }

    static func find(account: String, region: String, name: String, qualifier: String, _ db: Database) throws -> FunctionURLConfig? {
        try String.fetchOne(db.cachedStatement(sql: "SELECT doc FROM function_url WHERE account = ? AND region = ? AND name = ? AND qualifier = ?"),
                            arguments: [account, region, name, qualifier])
            .map { try JSONDecoder().decode(FunctionURLConfig.self, from: Data($0.utf8)) }
    }

    static func all(account: String, region: String, name: String, _ db: Database) throws -> [FunctionURLConfig] {
        try String.fetchAll(db.cachedStatement(sql: "SELECT doc FROM function_url WHERE account = ? AND region = ? AND name = ? ORDER BY rowid"),
                            arguments: [account, region, name])
            .map { try JSONDecoder().decode(FunctionURLConfig.self, from: Data($0.utf8)) }
    }

    func save(_ db: Database) throws {
        let doc = String(decoding: try JSONEncoder().encode(self), as: UTF8.self)
        try db.execute(sql: "INSERT OR REPLACE INTO function_url (url_id, account, region, name, qualifier, doc) VALUES (?, ?, ?, ?, ?, ?)",
                       arguments: [urlID, account, region, name, qualifier, doc])
    }

    static func delete(account: String, region: String, name: String, qualifier: String, _ db: Database) throws {
        try db.execute(sql: "DELETE FROM function_url WHERE account = ? AND region = ? AND name = ? AND qualifier = ?",
                       arguments: [account, region, name, qualifier])
    }

    /// 32 lowercase letters and digits, as AWS's URL ids.
    static func newID() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<32).map { _ in alphabet.randomElement()! })
    }
}

/// Create/Get/Update/Delete/ListFunctionUrlConfigs. A URL belongs to the unqualified function or to an alias
/// (versions and `$LATEST` are refused as AWS refuses them); requests to it are served by FunctionURLInvoke.swift.
extension LambdaService {
    static let urlQualifierPattern = "Member must satisfy regular expression pattern: ((?!^\\d+$)^[0-9a-zA-Z-_]+$)"

    /// The function and alias a URL request names; `missing` is the error for an unknown function or alias
    /// (Create and Update say "Function does not exist", Get and Delete "The resource you requested does not exist.").
    func urlTarget(_ r: LambdaRequest, missing: AWSError) throws -> (LambdaFunction, String) {
        let (account, region, name, fromName) = try Self.parseName(r.labels["FunctionName"] ?? "", r)
        let fromQuery = r.request.queryValue("Qualifier")
        for q in [fromName, fromQuery].compactMap({ $0 }) where q.isEmpty || q.allSatisfy(\.isNumber) || !q.utf8.allSatisfy(Self.isNameByte) {
            throw LambdaError.validation(q, "qualifier", Self.urlQualifierPattern)
        }
        if let a = fromName, let b = fromQuery, a != b {
            throw LambdaError.invalid("The derived qualifier from the function name does not match the specified qualifier.")
        }
        let qualifier = fromQuery ?? fromName ?? ""
        guard let f = try store.function(account: account, region: region, name: name),
              qualifier.isEmpty || f.aliases.contains(where: { $0.Name == qualifier }) else { throw missing }
        return (f, qualifier)
    }

    static let functionDoesNotExist = AWSError("ResourceNotFoundException", "Function does not exist", status: .notFound).with("Type", "User")

    /// `http://<url-id>.lambda-url.<region>.localhost:<port>/`: reachable on Cloudless's own port.
    func functionURL(_ c: FunctionURLConfig) -> String {
        let port = pool.endpoint.url.split(separator: ":").last.map(String.init) ?? "4566"
        return "http://\(c.urlID).lambda-url.\(c.region).localhost:\(port)/"
    }

    static func urlSettings(_ input: [String: Any], _ c: inout FunctionURLConfig) throws {
        if let auth = input["AuthType"] {
            guard let a = auth as? String, ["NONE", "AWS_IAM"].contains(a) else {
                throw LambdaError.validation("\(auth)", "authType", "Member must satisfy enum value set: [AWS_IAM, NONE]")
            }
            c.AuthType = a
        }
        if let mode = input["InvokeMode"] {
            guard let m = mode as? String, ["BUFFERED", "RESPONSE_STREAM"].contains(m) else {
                throw LambdaError.validation("\(mode)", "invokeMode", "Member must satisfy enum value set: [RESPONSE_STREAM, BUFFERED]")
            }
            c.InvokeMode = m
        }
        if let cors = input["Cors"] as? [String: Any] {
            let data = try JSONSerialization.data(withJSONObject: cors)
            guard let parsed = try? JSONDecoder().decode(FunctionURLConfig.CorsConfig.self, from: data) else { throw LambdaError.invalid("Cors is not valid.") }
            if let age = parsed.MaxAge, !(0...86400).contains(age) {
                throw LambdaError.validation(String(age), "cors.maxAge", "Member must have value less than or equal to 86400")
            }
            c.Cors = parsed
        }
    }

    func createFunctionUrlConfig(_ r: LambdaRequest) async throws -> AWSResponse {
        let input = try await r.body()
        let (f, qualifier) = try urlTarget(r, missing: Self.functionDoesNotExist)
        guard input["AuthType"] != nil else { throw LambdaError.invalid("AuthType is required.") }
        let now = AWSDate.iso8601(clock.now())
        var config = FunctionURLConfig(urlID: FunctionURLConfig.newID(), account: f.account, region: f.region, name: f.name, qualifier: qualifier,
                                       FunctionArn: f.arn + (qualifier.isEmpty ? "" : ":\(qualifier)"), AuthType: "NONE", Cors: nil,
                                       InvokeMode: nil, CreationTime: now, LastModifiedTime: now)
        try Self.urlSettings(input, &config)
        let saved = config
        try store.db.writeNow { db in
            if try FunctionURLConfig.find(account: f.account, region: f.region, name: f.name, qualifier: qualifier, db) != nil {
                throw LambdaError.conflict("Failed to create function url config for [functionArn = \(saved.FunctionArn)]. Error message:  FunctionUrlConfig exists for this Lambda function")
            }
            try saved.save(db)
        }
        var out = saved.json(functionURL: functionURL(saved))
        out.removeValue(forKey: "LastModifiedTime")
        if saved.InvokeMode == nil { out.removeValue(forKey: "InvokeMode") }
        return RestJSON.response(out, status: .created)
    }

    func getFunctionUrlConfig(_ r: LambdaRequest) throws -> AWSResponse {
        let (f, qualifier) = try urlTarget(r, missing: ResourcePolicy.doesNotExist)
        guard let c = try store.db.readNow({ db in try FunctionURLConfig.find(account: f.account, region: f.region, name: f.name, qualifier: qualifier, db) }) else {
            throw ResourcePolicy.doesNotExist
        }
        return RestJSON.response(c.json(functionURL: functionURL(c)))
    }

    func updateFunctionUrlConfig(_ r: LambdaRequest) async throws -> AWSResponse {
        let input = try await r.body()
        let (f, qualifier) = try urlTarget(r, missing: Self.functionDoesNotExist)
        let now = AWSDate.iso8601(clock.now())
        let updated = try store.db.writeNow { db -> FunctionURLConfig in
            guard var c = try FunctionURLConfig.find(account: f.account, region: f.region, name: f.name, qualifier: qualifier, db) else {
                throw ResourcePolicy.doesNotExist
            }
            try Self.urlSettings(input, &c)
            c.LastModifiedTime = now
            try c.save(db)
            return c
        }
        var out = updated.json(functionURL: functionURL(updated))
        if updated.InvokeMode == nil { out.removeValue(forKey: "InvokeMode") }
        return RestJSON.response(out)
    }

    func deleteFunctionUrlConfig(_ r: LambdaRequest) throws -> AWSResponse {
        let (f, qualifier) = try urlTarget(r, missing: ResourcePolicy.doesNotExist)
        try store.db.writeNow { db in
            guard try FunctionURLConfig.find(account: f.account, region: f.region, name: f.name, qualifier: qualifier, db) != nil else {
                throw ResourcePolicy.doesNotExist
            }
            try FunctionURLConfig.delete(account: f.account, region: f.region, name: f.name, qualifier: qualifier, db)
        }
        return RestJSON.response(nil, status: .noContent)
    }

    func listFunctionUrlConfigs(_ r: LambdaRequest) throws -> AWSResponse {
        let (account, region, name, _) = try Self.parseName(r.labels["FunctionName"] ?? "", r)
        guard try store.function(account: account, region: region, name: name) != nil else { throw Self.functionDoesNotExist }
        let all = try store.db.readNow { db in try FunctionURLConfig.all(account: account, region: region, name: name, db) }
        let limit = Int(r.request.queryValue("MaxItems") ?? "50") ?? 50
        guard (1...50).contains(limit) else {
            throw LambdaError.validation(String(limit), "maxItems", "Member must have value \(limit < 1 ? "greater than or equal to 1" : "less than or equal to 50")")
        }
        let start = Int(r.request.queryValue("Marker") ?? "0") ?? 0
        let page = Array(all.dropFirst(start).prefix(limit))
        var out: [String: Any] = ["FunctionUrlConfigs": page.map { $0.json(functionURL: functionURL($0)) }]
        if start + page.count < all.count { out["NextMarker"] = String(start + page.count) }
        return RestJSON.response(out)
    }
}
