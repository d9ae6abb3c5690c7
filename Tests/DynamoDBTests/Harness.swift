@testable import DynamoDB
import Core
import Foundation
import Logging

/// A service on a fresh data folder, called operation by operation.
struct Harness {
    let dir: String
    let clock: EmulatorClock
    let service: DynamoDBService
    let s = Scope(account: "000000000000", region: "us-east-1")

    init(dir: String? = nil, clock: EmulatorClock = EmulatorClock()) throws {
        let dir = dir ?? NSTemporaryDirectory() + "ddb-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        self.dir = dir
        self.clock = clock
        service = try DynamoDBService(directory: dir, clock: clock, logger: Logger(label: "test"))
    }

    @discardableResult
    func call(_ op: String, _ input: [String: Any]) throws -> [String: Any] { try service.call(op, s, Input(input)) }

    /// The code and message of the error `op` throws ("" if none).
    func error(_ op: String, _ input: [String: Any]) -> (code: String, message: String) {
        do { try call(op, input); return ("", "") } catch let e as AWSError { return (e.code, e.message) } catch let e as ErrorWithBody {
            return (e.error.code, e.error.message)
        } catch { return ("\(error)", "") }
    }

    /// A table `t` with hash key `pk` (S) and range key `sk` (S unless said), plus the given extra definitions and indexes.
    func createTable(_ name: String = "tab", range: String? = "S", extra: [[String: String]] = [], lsi: [[String: Any]]? = nil,
                     gsi: [[String: Any]]? = nil) throws {
        var defs = [["AttributeName": "pk", "AttributeType": "S"]] + extra
        var schema = [["AttributeName": "pk", "KeyType": "HASH"]]
        if let range {
            defs.append(["AttributeName": "sk", "AttributeType": range])
            schema.append(["AttributeName": "sk", "KeyType": "RANGE"])
        }
        var input: [String: Any] = ["TableName": name, "AttributeDefinitions": defs, "KeySchema": schema, "BillingMode": "PAY_PER_REQUEST"]
        if let lsi { input["LocalSecondaryIndexes"] = lsi }
        if let gsi { input["GlobalSecondaryIndexes"] = gsi }
        try call("CreateTable", input)
    }
}

func S(_ s: String) -> [String: Any] { ["S": s] }
func N(_ n: String) -> [String: Any] { ["N": n] }
