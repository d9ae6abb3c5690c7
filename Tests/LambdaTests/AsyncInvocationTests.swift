import Core
import Foundation
import Testing

@testable import Lambda

@Suite struct AsyncInvocationTests {
    static func config() -> FunctionConfig {
        FunctionConfig(FunctionName: "f", FunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:f", Runtime: "python3.12",
                       Role: "arn:aws:iam::000000000000:role/r", Handler: "h.h", CodeSize: 0, Description: "", Timeout: 3,
                       MemorySize: 128, LastModified: "", CodeSha256: "", Version: "$LATEST", PackageType: "Zip",
                       Architectures: ["x86_64"], EphemeralStorageSize: 512, Layers: [], State: "Active",
                       LastUpdateStatus: "Successful", RevisionId: "")
    }

    static func invocation(attempts: Int, payload: String = #"{"a": 1}"#) -> AsyncInvocation {
        var e = AsyncInvocation(id: 1, account: "000000000000", region: "us-east-1", function: "f", qualifier: "live",
                                requestID: "req-1", payload: Array(payload.utf8), clientContext: nil, attempts: 0, received: 0)
        e.attempts = attempts
        return e
    }

    @Test func aFailureRecordCarriesTheRequestTheConditionAndTheAnswer() throws {
        let f = LambdaFunction(account: "000000000000", region: "us-east-1", name: "f", latest: Self.config(), created: 0)
        let text = LambdaService.invocationRecord(
            Self.invocation(attempts: 3), f, Self.config(), condition: "RetriesExhausted",
            response: Array(#"{"errorMessage":"boom","errorType":"ValueError"}"#.utf8), functionError: "Unhandled", timestamp: 0)
        let record = try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(record["version"] as? String == "1.0")
        #expect(record["timestamp"] as? String == "1970-01-01T00:00:00.000Z")
        let context = try #require(record["requestContext"] as? [String: Any])
        #expect(context["requestId"] as? String == "req-1")
        #expect(context["functionArn"] as? String == "arn:aws:lambda:us-east-1:000000000000:function:f:live")
        #expect(context["condition"] as? String == "RetriesExhausted")
        #expect(context["approximateInvokeCount"] as? Int == 3)
        #expect((record["requestPayload"] as? [String: Any])?["a"] as? Int == 1)
        let response = try #require(record["responseContext"] as? [String: Any])
        #expect(response["statusCode"] as? Int == 200 && response["functionError"] as? String == "Unhandled")
        #expect((record["responsePayload"] as? [String: Any])?["errorMessage"] as? String == "boom")
    }

    @Test func anEventTooOldBeforeAnyAttemptHasNoResponse() throws {
        let f = LambdaFunction(account: "000000000000", region: "us-east-1", name: "f", latest: Self.config(), created: 0)
        let text = LambdaService.invocationRecord(Self.invocation(attempts: 0, payload: "\"just a string\""), f, Self.config(),
                                                  condition: "EventAgeExceeded", response: nil, functionError: nil, timestamp: 0)
        let record = try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(record["requestPayload"] as? String == "just a string")
        #expect(record["responseContext"] == nil && record["responsePayload"] == nil)
    }

    @Test func destinationsMustBeARNsOrKafkaOrEmpty() {
        #expect(LambdaService.matchesDestinationPattern("arn:aws:sqs:us-east-1:000000000000:q"))
        #expect(LambdaService.matchesDestinationPattern("arn:aws:lambda:us-east-1:000000000000:function:f:1"))
        #expect(LambdaService.matchesDestinationPattern("kafka://broker:9092"))
        #expect(LambdaService.matchesDestinationPattern(""))
        #expect(!LambdaService.matchesDestinationPattern("arn:aws:_-/!lambda:us-east-1:000000000000:function:f"))
        #expect(!LambdaService.matchesDestinationPattern("arn:aws:sqs:us-east-1:12:q"))
        #expect(!LambdaService.matchesDestinationPattern("queue-name"))
    }

    @Test func aWakeBeforeTheWaitIsNotLost() async {
        let d = AsyncDispatcher()
        d.wake()
        let started = ContinuousClock.now
        await d.wait(seconds: 30)
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(d.claim(7) && !d.claim(7))
        d.finish(7)
        #expect(d.claim(7))
    }
}
