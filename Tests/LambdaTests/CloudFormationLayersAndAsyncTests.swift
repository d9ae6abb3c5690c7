import Core
import Foundation
import Logging
import Testing

@testable import Lambda

/// Objects of one bucket, held in memory (what S3 gives Lambda through ObjectSource).
private struct CFNLayerObjects: ObjectSource {
    let objects: [String: [UInt8]]
    func objectBytes(bucket: String, key: String, limit: Int) async throws -> [UInt8] {
        guard let bytes = objects["\(bucket)/\(key)"] else { throw AWSError("NoSuchKey", "The specified key does not exist.", status: .notFound) }
        return bytes
    }
}

/// AWS::Lambda::LayerVersion, LayerVersionPermission and EventInvokeConfig through LambdaResources, and the drift
/// reading of functions; read back through the service's own operations.
@Suite struct LambdaCloudFormationLayerTests {
    let directory: String
    let service: LambdaService
    let provider: LambdaResources
    static let role = "arn:aws:iam::000000000000:role/fn"

    init() throws {
        directory = NSTemporaryDirectory() + "lambda-cfn-layers-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let zip = try LambdaResources.zip(file: "helper.py", "VALUE = 1\n")
        service = try LambdaService(directory: directory, clock: EmulatorClock(), endpoint: ServerEndpoint(), logs: DiscardingLogSink(),
                                    supervisor: ProcessSupervisor(), objects: CFNLayerObjects(objects: ["art/layer.zip": [UInt8](zip)]),
                                    logger: Logger(label: "lambda-cfn-layers-test"))
        provider = service.resourceProvider
    }

    func request(_ type: String, _ logicalId: String, _ properties: [String: JSON]) -> ResourceRequest {
        ResourceRequest(account: "000000000000", region: "us-east-1", stackName: "stack", stackId: "arn:stack", logicalId: logicalId,
                        type: type, properties: properties, tags: ["aws:cloudformation:stack-name": "stack", "env": "dev"])
    }

    func get(_ path: String, query: [(String, String)] = []) async throws -> [String: JSON] {
        try await provider.call(request("x", "x", [:]), .get, path, nil, query: query)
    }

    func function(_ name: String) async throws -> ResourceState {
        try await provider.create(request("AWS::Lambda::Function", "Fn", [
            "FunctionName": .string(name), "Runtime": .string("python3.11"), "Handler": .string("index.handler"), "Role": .string(Self.role),
            "Code": .object(["ZipFile": .string("def handler(event, context):\n    return event\n")]),
        ]))
    }

    @Test func layerVersionPublishesAndDeletes() async throws {
        #expect(provider.createOnlyProperties(of: "AWS::Lambda::LayerVersion")
                == ["CompatibleArchitectures", "CompatibleRuntimes", "Content", "Description", "LayerName", "LicenseInfo"])
        let props: [String: JSON] = [
            "LayerName": .string("helpers"), "Description": .string("shared"), "LicenseInfo": .string("MIT"),
            "CompatibleRuntimes": .array([.string("python3.11")]),
            "Content": .object(["S3Bucket": .string("art"), "S3Key": .string("layer.zip")]),
        ]
        let req = request("AWS::Lambda::LayerVersion", "Layer", props)
        let v1 = try await provider.create(req)
        #expect(v1.ref == "arn:aws:lambda:us-east-1:000000000000:layer:helpers:1")
        #expect(v1.attributes["LayerVersionArn"] == .string(v1.ref))
        let got = try await get("/2018-10-31/layers/helpers/versions/1")
        #expect(got["Description"] == .string("shared") && got["LicenseInfo"] == .string("MIT"))
        // Each create (a replacement) publishes the next version.
        let v2 = try await provider.create(req)
        #expect(v2.ref.hasSuffix(":layer:helpers:2"))
        // A function can use it.
        let fn = try await provider.create(request("AWS::Lambda::Function", "Fn", [
            "Runtime": .string("python3.11"), "Handler": .string("index.handler"), "Role": .string(Self.role), "Layers": .array([.string(v2.ref)]),
            "Code": .object(["ZipFile": .string("def handler(event, context):\n    return 1\n")]),
        ]))
        let config = try await get("/2015-03-31/functions/\(fn.physicalId)/configuration")
        #expect(config["Layers"]?.array?.first?["Arn"] == .string(v2.ref))

        try await provider.delete(req, state: v1)
        try await provider.delete(req, state: v1)
        let listed = try await get("/2018-10-31/layers/helpers/versions")
        #expect(listed["LayerVersions"]?.array?.compactMap { $0["Version"] } == [.number(2)])
        // Bad input: no content, inline ZipFile, a missing object.
        await #expect { try await provider.create(request("AWS::Lambda::LayerVersion", "L", ["LayerName": .string("x")])) }
            throws: { ($0 as? AWSError)?.code == "InvalidParameterValueException" }
        await #expect { try await provider.create(request("AWS::Lambda::LayerVersion", "L", ["Content": .object(["ZipFile": .string("x")])])) }
            throws: { ($0 as? AWSError)?.message.contains("ZipFile") == true }
        await #expect { try await provider.create(request("AWS::Lambda::LayerVersion", "L", ["Content": .object(["S3Bucket": .string("art"), "S3Key": .string("none")])])) }
            throws: { $0 is AWSError }
    }

    @Test func unnamedLayerKeepsItsNameAcrossReplacements() async throws {
        let req = request("AWS::Lambda::LayerVersion", "Shared", ["Content": .object(["S3Bucket": .string("art"), "S3Key": .string("layer.zip")])])
        let first = try await provider.create(req)
        let second = try await provider.create(req)
        #expect(first.ref == "arn:aws:lambda:us-east-1:000000000000:layer:stack-Shared:1")
        #expect(second.ref == "arn:aws:lambda:us-east-1:000000000000:layer:stack-Shared:2")
    }

    @Test func layerVersionPermission() async throws {
        let layer = try await provider.create(request("AWS::Lambda::LayerVersion", "Layer", [
            "LayerName": .string("shared"), "Content": .object(["S3Bucket": .string("art"), "S3Key": .string("layer.zip")]),
        ]))
        let req = request("AWS::Lambda::LayerVersionPermission", "Perm", [
            "LayerVersionArn": .string(layer.ref), "Action": .string("lambda:GetLayerVersion"), "Principal": .string("111122223333"),
        ])
        let perm = try await provider.create(req)
        #expect(perm.ref.hasPrefix(layer.ref + "#stack-Perm-"))
        let policy = try await get("/2018-10-31/layers/shared/versions/1/policy")
        #expect(policy["Policy"]?.string?.contains("111122223333") == true)
        try await provider.delete(req, state: perm)
        try await provider.delete(req, state: perm)
        await #expect { try await get("/2018-10-31/layers/shared/versions/1/policy") } throws: { ($0 as? AWSError)?.code == "ResourceNotFoundException" }
        await #expect { try await provider.create(request("AWS::Lambda::LayerVersionPermission", "P", [
            "LayerVersionArn": .string(layer.ref), "Action": .string("lambda:InvokeFunction"), "Principal": .string("*"),
        ])) } throws: { ($0 as? AWSError)?.code == "ValidationException" }
    }

    @Test func eventInvokeConfigPutUpdateReadDelete() async throws {
        _ = try await function("asyncfn")
        #expect(provider.createOnlyProperties(of: "AWS::Lambda::EventInvokeConfig") == ["FunctionName", "Qualifier"])
        var props: [String: JSON] = [
            "FunctionName": .string("asyncfn"), "Qualifier": .string("$LATEST"), "MaximumRetryAttempts": .number(1),
            "MaximumEventAgeInSeconds": .string("300"),
            "DestinationConfig": .object(["OnFailure": .object(["Destination": .string("arn:aws:sqs:us-east-1:000000000000:dlq")])]),
        ]
        let req = request("AWS::Lambda::EventInvokeConfig", "Cfg", props)
        let state = try await provider.create(req)
        #expect(state.ref == "asyncfn|$LATEST")
        var got = try await get("/2019-09-25/functions/asyncfn/event-invoke-config", query: [("Qualifier", "$LATEST")])
        #expect(got["MaximumRetryAttempts"] == .number(1) && got["MaximumEventAgeInSeconds"] == .number(300))
        #expect(got["DestinationConfig"]?["OnFailure"]?["Destination"] == .string("arn:aws:sqs:us-east-1:000000000000:dlq"))
        guard case .properties(let read) = try await provider.currentProperties(req, state: state) else { Issue.record("no reading"); return }
        #expect(read["MaximumRetryAttempts"] == .number(1) && read["DestinationConfig"] == props["DestinationConfig"])

        props["MaximumRetryAttempts"] = .number(0)
        props["DestinationConfig"] = nil
        let updated = try await provider.update(request("AWS::Lambda::EventInvokeConfig", "Cfg", props), previous: state)
        #expect(updated == state)
        got = try await get("/2019-09-25/functions/asyncfn/event-invoke-config", query: [("Qualifier", "$LATEST")])
        #expect(got["MaximumRetryAttempts"] == .number(0))
        #expect(got["DestinationConfig"]?["OnFailure"]?["Destination"] == nil)

        props["MaximumRetryAttempts"] = .number(5)
        await #expect { try await provider.update(request("AWS::Lambda::EventInvokeConfig", "Cfg", props), previous: state) }
            throws: { ($0 as? AWSError)?.code == "ValidationException" }

        try await provider.delete(req, state: state)
        try await provider.delete(req, state: state)
        await #expect { try await get("/2019-09-25/functions/asyncfn/event-invoke-config", query: [("Qualifier", "$LATEST")]) }
            throws: { ($0 as? AWSError)?.code == "ResourceNotFoundException" }
        #expect(try await provider.currentProperties(req, state: state) == .deleted)
    }

    @Test func functionDriftReading() async throws {
        let props: [String: JSON] = [
            "FunctionName": .string("drifter"), "Runtime": .string("python3.11"), "Handler": .string("index.handler"), "Role": .string(Self.role),
            "Code": .object(["ZipFile": .string("def handler(event, context):\n    return event\n")]),
            "Description": .string("d"), "Timeout": .number(10), "MemorySize": .number(256),
            "Environment": .object(["Variables": .object(["A": .string("1")])]), "ReservedConcurrentExecutions": .number(2),
            "Tags": .array([.object(["Key": .string("team"), "Value": .string("a")])]),
        ]
        let req = request("AWS::Lambda::Function", "Fn", props)
        let state = try await provider.create(req)
        guard case .properties(let read) = try await provider.currentProperties(req, state: state) else { Issue.record("no reading"); return }
        for (key, value) in props { #expect(read[key] == value, "\(key)") }
        _ = try await provider.call(req, .put, "/2015-03-31/functions/drifter/configuration", .object(["Timeout": .number(20)]))
        guard case .properties(let after) = try await provider.currentProperties(req, state: state) else { Issue.record("no reading"); return }
        #expect(after["Timeout"] == .number(20))
        try await provider.delete(req, state: state)
        #expect(try await provider.currentProperties(req, state: state) == .deleted)
    }
}
