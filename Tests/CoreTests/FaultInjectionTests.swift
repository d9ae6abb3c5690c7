import Foundation
import Testing
@testable import Core

// Fault rules: parsing and validation of what POST /_cloudless/faults takes, and which requests a rule faults.

private let services: Set<String> = ["s3", "sqs", "lambda", "secretsmanager"]

private func parse(_ json: String) throws -> [FaultRule] {
    try FaultRule.parse(Data(json.utf8), services: services)
}

private func rejection(_ json: String) -> String? {
    do {
        _ = try parse(json)
        return nil
    } catch let e as FaultRuleError {
        return e.message
    } catch {
        return "\(error)"
    }
}

@Suite struct FaultRuleParsingTests {
    @Test func defaultsComeFromTheCatalog() throws {
        let rules = try parse(#"[{"service": "s3", "error": "SlowDown"}, {"service": "sqs", "operation": "SendMessage", "error": "ThrottlingException"}]"#)
        #expect(rules.count == 2)
        #expect(rules[0].status == 503 && rules[0].message == "Please reduce your request rate." && rules[0].probability == 1)
        #expect(rules[1].status == 400 && rules[1].message == "Rate exceeded" && rules[1].operation == "SendMessage")
        let internalError = try parse(#"[{"service": "s3", "error": "InternalError"}]"#)[0]
        #expect(internalError.status == 500 && internalError.message == "We encountered an internal error. Please try again.")
    }

    @Test func explicitFieldsWin() throws {
        let rule = try parse(#"{"service": "sqs", "region": "eu-west-1", "probability": 0.25, "error": "ThrottlingException", "status": 429, "message": "slow", "latencyMs": 5, "count": 3}"#)[0]
        #expect(rule == FaultRule(service: "sqs", region: "eu-west-1", probability: 0.25, error: "ThrottlingException", status: 429,
                                  message: "slow", latencyMs: 5, count: 3))
    }

    @Test func latencyAloneServesAndNothingAtAllIsServiceUnavailable() throws {
        let latency = try parse(#"[{"service": "s3", "latencyMs": 200}]"#)[0]
        #expect(latency.error == nil && latency.awsError == nil && latency.latencyMs == 200)
        let bare = try parse(#"[{"service": "s3"}]"#)[0]
        #expect(bare.error == "ServiceUnavailable" && bare.status == 503)
        let statusOnly = try parse(#"[{"service": "s3", "status": 500}]"#)[0]
        #expect(statusOnly.error == "InternalError" && statusOnly.status == 500)
        let custom = try parse(#"[{"service": "s3", "error": "MyOwnCode"}]"#)[0]
        #expect(custom.status == 400 && custom.message.contains("MyOwnCode"))
    }

    @Test func badRulesAreRejectedWithTheirReason() {
        #expect(rejection(#"[{"operation": "SendMessage"}]"#) == "rule 0: 'service' is required")
        #expect(rejection(#"[{"service": "s3"}, {"service": "s3", "probability": 1.5}]"#) == "rule 1: 'probability' must be between 0 and 1")
        #expect(rejection(#"[{"service": "s3", "probability": -0.1}]"#)?.contains("between 0 and 1") == true)
        #expect(rejection(#"[{"service": "s3", "probability": "0.5"}]"#) == "rule 0: 'probability' must be a number")
        #expect(rejection(#"[{"service": "s3", "probability": true}]"#) == "rule 0: 'probability' must be a number")
        #expect(rejection(#"[{"service": "s3", "status": 302}]"#) == "rule 0: 'status' must be between 400 and 599")
        #expect(rejection(#"[{"service": "s3", "status": 600}]"#) == "rule 0: 'status' must be between 400 and 599")
        #expect(rejection(#"[{"service": "s3", "status": 500.5}]"#) == "rule 0: 'status' must be an integer")
        #expect(rejection(#"[{"service": "s3", "error": 5}]"#) == "rule 0: 'error' must be a non-empty string")
        #expect(rejection(#"[{"service": "s3", "error": "Bad Code"}]"#)?.contains("AWS error code") == true)
        #expect(rejection(#"[{"service": "s3", "latency": 5}]"#)?.hasPrefix("rule 0: unknown field 'latency'") == true)
        #expect(rejection(#"[{"service": "s3", "latencyMs": -1}]"#)?.contains("'latencyMs' must be between") == true)
        #expect(rejection(#"[{"service": "s3", "count": 0}]"#) == "rule 0: 'count' must be at least 1")
        #expect(rejection(#"[{"service": "dynamodb"}]"#)?.hasPrefix("rule 0: unknown service 'dynamodb'") == true)
        #expect(rejection(#"[1]"#) == "rule 0: expected an object")
        #expect(rejection(#""s3""#) == "expected a list of fault rules")
        #expect(rejection("not json") == "the body is not JSON: expected a list of fault rules")
    }

    @Test func listedJSONParsesBackToTheSameRule() throws {
        let rule = FaultRule(service: "sqs", operation: "SendMessage", probability: 0.5, error: "RequestThrottled", latencyMs: 10, count: 2)
        #expect(try parse("[\(rule.json)]") == [rule])
        let latency = FaultRule(service: "s3", error: nil, latencyMs: 30)
        #expect(try parse("[\(latency.json)]") == [latency])
    }
}

@Suite struct FaultInjectorTests {
    @Test func noRuleIsInactiveAndDecidesNothing() {
        let faults = FaultInjector(services: services)
        #expect(!faults.isActive)
        #expect(faults.decide(service: "s3", operation: "PutObject", region: "us-east-1") == nil)
    }

    @Test func matchesServiceOperationAndRegion() {
        let faults = FaultInjector(services: services, rules: [
            FaultRule(service: "sqs", operation: "SendMessage", region: "eu-west-1", error: "ThrottlingException"),
        ])
        #expect(faults.isActive)
        #expect(faults.decide(service: "sqs", operation: "SendMessage", region: "eu-west-1")?.error?.code == "ThrottlingException")
        #expect(faults.decide(service: "sqs", operation: "SendMessage", region: "us-east-1") == nil)
        #expect(faults.decide(service: "sqs", operation: "ReceiveMessage", region: "eu-west-1") == nil)
        #expect(faults.decide(service: "s3", operation: "SendMessage", region: "eu-west-1") == nil)
    }

    @Test func probabilityIsDrawnPerRequest() {
        let faults = FaultInjector(services: services, rules: [FaultRule(service: "s3", probability: 0.5, error: "SlowDown")])
        #expect(faults.decide(service: "s3", operation: "GetObject", region: "us-east-1", random: { 0.49 }) != nil)
        #expect(faults.decide(service: "s3", operation: "GetObject", region: "us-east-1", random: { 0.5 }) == nil)
        let never = FaultInjector(services: services, rules: [FaultRule(service: "s3", probability: 0, error: "SlowDown")])
        #expect(never.decide(service: "s3", operation: "GetObject", region: "us-east-1", random: { 0 }) == nil)
    }

    @Test func countSpendsTheRuleAndThenRemovesIt() {
        let faults = FaultInjector(services: services, rules: [FaultRule(service: "sqs", error: "ThrottlingException", count: 2)])
        #expect(faults.decide(service: "sqs", operation: "SendMessage", region: "us-east-1") != nil)
        #expect(faults.installed.first?.count == 1)
        #expect(faults.decide(service: "sqs", operation: "SendMessage", region: "us-east-1") != nil)
        #expect(faults.installed.isEmpty && !faults.isActive)
        #expect(faults.decide(service: "sqs", operation: "SendMessage", region: "us-east-1") == nil)
    }

    @Test func aCountIsOnlySpentByFiring() {
        let faults = FaultInjector(services: services, rules: [FaultRule(service: "sqs", probability: 0.5, error: "ThrottlingException", count: 1)])
        #expect(faults.decide(service: "sqs", operation: "SendMessage", region: "us-east-1", random: { 0.9 }) == nil)
        #expect(faults.installed.first?.count == 1)
    }

    @Test func latencyRulesAddUpUntilTheFirstErrorRule() {
        let faults = FaultInjector(services: services, rules: [
            FaultRule(service: "s3", error: nil, latencyMs: 20),
            FaultRule(service: "s3", operation: "GetObject", error: "InternalError", latencyMs: 5),
            FaultRule(service: "s3", error: "SlowDown", latencyMs: 1000),
        ])
        let get = faults.decide(service: "s3", operation: "GetObject", region: "us-east-1")
        #expect(get == FaultDecision(latencyMs: 25, error: AWSError("InternalError", "We encountered an internal error. Please try again.",
                                                                    status: .internalServerError)))
        let put = faults.decide(service: "s3", operation: "PutObject", region: "us-east-1")
        #expect(put?.latencyMs == 1020 && put?.error?.code == "SlowDown" && put?.error?.status.code == 503)
        #expect(put?.error?.isSenderFault == false)
    }

    @Test func replaceAppendAndClear() {
        let faults = FaultInjector(services: services)
        faults.replace([FaultRule(service: "s3", error: "SlowDown")])
        faults.append([FaultRule(service: "sqs", error: "ThrottlingException")])
        #expect(faults.installed.map(\.service) == ["s3", "sqs"])
        faults.replace([FaultRule(service: "lambda", error: "TooManyRequestsException")])
        #expect(faults.installed.map(\.service) == ["lambda"] && faults.installed[0].status == 429)
        faults.clear()
        #expect(faults.installed.isEmpty && !faults.isActive && faults.json == "[]")
    }
}
