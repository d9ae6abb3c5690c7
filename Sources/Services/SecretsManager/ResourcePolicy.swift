import Core
import Foundation
import GRDB

/// Resource policies (Get/Put/Delete/ValidateResourcePolicy), stored and checked for shape, not enforced; and
/// GetRandomPassword.
extension SecretsManagerService {
    /// Parse a policy document: a JSON object with a Statement (object or list of objects), each with Effect.
    static func policyStatements(_ text: String) throws -> [[String: Any]] {
        let malformed = AWSError("MalformedPolicyDocumentException", "This resource policy contains a syntax error.")
        guard let doc = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { throw malformed }
        let statements: [[String: Any]]
        if let one = doc["Statement"] as? [String: Any] {
            statements = [one]
        } else if let many = doc["Statement"] as? [[String: Any]] {
            statements = many
        } else {
            throw malformed
        }
        for s in statements {
            guard let effect = s["Effect"] as? String, effect == "Allow" || effect == "Deny" else { throw malformed }
        }
        return statements
    }

    /// An Allow statement for everyone (`"*"` or `{"AWS": "*"}`) without conditions grants broad access.
    static func isPublic(_ statements: [[String: Any]]) -> Bool {
        statements.contains { s in
            guard s["Effect"] as? String == "Allow", s["Condition"] == nil else { return false }
            if let p = s["Principal"] as? String { return p == "*" }
            if let p = s["Principal"] as? [String: Any] {
                if let aws = p["AWS"] as? String { return aws == "*" }
                if let aws = p["AWS"] as? [String] { return aws.contains("*") }
            }
            return false
        }
    }

    func getResourcePolicy(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        let id = try input.required("SecretId")
        return try store.db.readNow { db in
            let s = try source(of: try secret(id, r, db), db)
            var out: [String: Any] = ["ARN": s.arn, "Name": s.name]
            if let p = s.record.policy { out["ResourcePolicy"] = p }
            return out
        }
    }

    func putResourcePolicy(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        let id = try input.required("SecretId")
        let policy = try input.required("ResourcePolicy")
        let statements = try Self.policyStatements(policy)
        if try input.bool("BlockPublicPolicy") == true && Self.isPublic(statements) {
            throw AWSError("PublicPolicyException",
                           "The BlockPublicPolicy parameter is set to true, and the resource policy did not prevent broad access to the secret.")
        }
        let now = clock.now()
        return try store.db.writeNow { db in
            var s = try writable(id, r, db)
            s.record.policy = policy
            s.record.lastChanged = now
            try SecretStore.save(s, db)
            return ["ARN": s.arn, "Name": s.name]
        }
    }

    func deleteResourcePolicy(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        let id = try input.required("SecretId")
        let now = clock.now()
        return try store.db.writeNow { db in
            var s = try writable(id, r, db)
            s.record.policy = nil
            s.record.lastChanged = now
            try SecretStore.save(s, db)
            return ["ARN": s.arn, "Name": s.name]
        }
    }

    func validateResourcePolicy(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        let policy = try input.required("ResourcePolicy")
        if let id = try input.string("SecretId") {
            _ = try store.db.readNow { db in try secret(id, r, db) }
        }
        _ = try Self.policyStatements(policy)
        return ["PolicyValidationPassed": true, "ValidationErrors": [[String: Any]]()]
    }

    // MARK: GetRandomPassword

    static let punctuation = Array("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")

    func getRandomPassword(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        let length = try input.int("PasswordLength") ?? 32
        if length > 4096 || length < 1 {
            throw AWSError("ValidationException", "1 validation error detected: Value '\(length)' at 'passwordLength' failed to satisfy "
                           + "constraint: Member must have value \(length > 4096 ? "less than or equal to 4096" : "greater than or equal to 1")")
        }
        let excluded = Set(try input.string("ExcludeCharacters") ?? "")
        var classes: [[Character]] = []
        if try input.bool("ExcludeLowercase") != true { classes.append(Array("abcdefghijklmnopqrstuvwxyz")) }
        if try input.bool("ExcludeUppercase") != true { classes.append(Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ")) }
        if try input.bool("ExcludeNumbers") != true { classes.append(Array("0123456789")) }
        if try input.bool("ExcludePunctuation") != true { classes.append(Self.punctuation) }
        if try input.bool("IncludeSpace") == true { classes.append([" "]) }
        classes = classes.map { $0.filter { !excluded.contains($0) } }.filter { !$0.isEmpty }
        guard !classes.isEmpty else {
            throw SecretsError.invalidParameter("The password can't be generated: every character type was excluded.")
        }
        let requireEach = try input.bool("RequireEachIncludedType") ?? true
        if requireEach && length < classes.count {
            throw SecretsError.invalidParameter("Password length is too short based on the required types.")
        }
        return ["RandomPassword": Self.password(length: length, classes: classes, requireEach: requireEach)]
    }

    /// A password from libcrypto's random bytes, uniform over the allowed characters (rejection sampling), with one
    /// character of each class at a random position when `requireEach`.
    static func password(length: Int, classes: [[Character]], requireEach: Bool) -> String {
        func uniform(_ n: Int) -> Int {
            let limit = UInt32.max - UInt32.max % UInt32(n)
            while true {
                let b = randomBytes(count: 4)
                let v = UInt32(b[0]) << 24 | UInt32(b[1]) << 16 | UInt32(b[2]) << 8 | UInt32(b[3])
                if v < limit { return Int(v % UInt32(n)) }
            }
        }
        let all = classes.flatMap { $0 }
        var chars = (0..<length).map { _ in all[uniform(all.count)] }
        if requireEach {
            // Distinct positions, one per class, each overwritten with a character of its class.
            var positions = Array(0..<length)
            for (k, cls) in classes.enumerated() {
                let j = k + uniform(length - k)
                positions.swapAt(k, j)
                chars[positions[k]] = cls[uniform(cls.count)]
            }
        }
        return String(chars)
    }
}
