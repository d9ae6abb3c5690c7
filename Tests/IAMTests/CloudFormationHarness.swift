import Core
import Foundation
@testable import IAM

/// What the IAM CloudFormation suites share: a service in a folder of its own, Query calls, provider requests of
/// one stack, and a one-statement policy document.
protocol IAMCloudFormationHarness {
    var folder: String { get }
    var caller: IAMService.Caller { get }
}

extension IAMCloudFormationHarness {
    func service() throws -> IAMService {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return try IAMService(directory: folder, clock: EmulatorClock())
    }

    func call(_ iam: IAMService, _ action: String, _ parameters: [String: String]) throws -> String {
        var xml = XMLWriter(declaration: false)
        try iam.perform(action, IAMInput(parameters), caller, version: "2010-05-08")?(&xml)
        return String(buffer: xml.buffer)
    }

    func request(_ type: String, _ logicalId: String, _ properties: [String: JSON]) -> ResourceRequest {
        ResourceRequest(account: "123456789012", region: "us-east-1", stackName: "app",
                        stackId: "arn:aws:cloudformation:us-east-1:123456789012:stack/app/1", logicalId: logicalId, type: type,
                        properties: properties, tags: ["aws:cloudformation:stack-name": "app", "env": "dev"])
    }

    func allow(_ action: String) -> JSON {
        .object(["Version": .string("2012-10-17"), "Statement": .array([.object([
            "Effect": .string("Allow"), "Action": .string(action), "Resource": .string("*"),
        ])])])
    }
}
