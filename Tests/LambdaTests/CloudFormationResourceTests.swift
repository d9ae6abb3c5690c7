import Core
import Foundation
import Logging
import Testing

@testable import Lambda

/// AWS::Lambda::* resources through LambdaResources, read back through the service's own operations.
@Suite struct LambdaCloudFormationTests {
    let directory: String
    let service: LambdaService
    let provider: LambdaResources
    static let role = "arn:aws:iam::000000000000:role/fn"

    init() throws {
        directory = NSTemporaryDirectory() + "lambda-cfn-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        service = try LambdaService(directory: directory, clock: EmulatorClock(), endpoint: ServerEndpoint(), logs: DiscardingLogSink(),
                                    supervisor: ProcessSupervisor(), logger: Logger(label: "lambda-cfn-test"))
        provider = service.resourceProvider
    }

    func request(_ type: String, _ logicalId: String, _ properties: [String: JSON]) -> ResourceRequest {
        ResourceRequest(account: "000000000000", region: "us-east-1", stackName: "stack", stackId: "arn:stack", logicalId: logicalId,
                        type: type, properties: properties, tags: ["aws:cloudformation:stack-name": "stack"])
    }

    func function(_ extra: [String: JSON] = [:]) -> [String: JSON] {
        var p: [String: JSON] = [
            "Runtime": .string("python3.11"), "Handler": .string("index.handler"), "Role": .string(Self.role),
            "Code": .object(["ZipFile": .string("def handler(event, context):\n    return event\n")]),
        ]
        p.merge(extra) { $1 }
        return p
    }

    func configuration(_ name: String) async throws -> [String: JSON] {
        try await provider.call(request("x", "x", [:]), .get, "/2015-03-31/functions/\(name)/configuration")
    }

    @Test func functionCreateUpdateDelete() async throws {
        let req = request("AWS::Lambda::Function", "Fn", function([
            "Environment": .object(["Variables": .object(["A": .string("1"), "N": .number(2)])]),
            "MemorySize": .number(256), "Timeout": .string("10"), "Description": .string("first"),
            "Tags": .array([.object(["Key": .string("team"), "Value": .string("core")])]),
            "ReservedConcurrentExecutions": .number(3),
        ]))
        let state = try await provider.create(req)
        #expect(state.physicalId.hasPrefix("stack-Fn-") && state.physicalId.count <= 64)
        #expect(state.ref == state.physicalId)
        #expect(state.attributes["Arn"] == .string("arn:aws:lambda:us-east-1:000000000000:function:\(state.physicalId)"))
        var config = try await configuration(state.physicalId)
        #expect(config["MemorySize"] == .number(256) && config["Timeout"] == .number(10))
        #expect(config["Environment"]?["Variables"] == .object(["A": .string("1"), "N": .string("2")]))
        let f = try #require(try service.store.function(account: "000000000000", region: "us-east-1", name: state.physicalId))
        #expect(f.reservedConcurrency == 3)
        #expect(f.tags["team"] == "core" && f.tags["aws:cloudformation:stack-name"] == "stack")
        // The inline code is index.py in the package.
        let folder = try service.code.unpacked(f.codeHex)
        #expect(FileManager.default.fileExists(atPath: folder + "/index.py"))

        let changed = request("AWS::Lambda::Function", "Fn", function([
            "Code": .object(["ZipFile": .string("def handler(event, context):\n    return 2\n")]), "Description": .string("second"),
        ]))
        let updated = try await provider.update(changed, previous: state)
        #expect(updated.physicalId == state.physicalId)
        config = try await configuration(state.physicalId)
        #expect(config["Description"] == .string("second") && config["MemorySize"] == .number(128) && config["Timeout"] == .number(3))
        let g = try #require(try service.store.function(account: "000000000000", region: "us-east-1", name: state.physicalId))
        #expect(g.codeHex != f.codeHex && g.reservedConcurrency == nil && g.tags["team"] == nil)

        try await provider.delete(changed, state: updated)
        #expect(try service.store.function(account: "000000000000", region: "us-east-1", name: state.physicalId) == nil)
        try await provider.delete(changed, state: updated)  // already gone: not an error
    }

    @Test func versionAliasPermissionAndURL() async throws {
        let fn = try await provider.create(request("AWS::Lambda::Function", "Fn", function(["FunctionName": .string("cfn-fn")])))
        let version = try await provider.create(request("AWS::Lambda::Version", "V", ["FunctionName": .string(fn.ref)]))
        #expect(version.ref == "arn:aws:lambda:us-east-1:000000000000:function:cfn-fn:1")
        #expect(version.attributes["Version"] == .string("1"))
        let aliasReq = request("AWS::Lambda::Alias", "A", ["FunctionName": .string("cfn-fn"), "Name": .string("live"),
                                                            "FunctionVersion": .string("1")])
        let alias = try await provider.create(aliasReq)
        #expect(alias.ref == "arn:aws:lambda:us-east-1:000000000000:function:cfn-fn:live")
        var aliasReq2 = aliasReq
        aliasReq2.properties["FunctionVersion"] = .string("$LATEST")
        _ = try await provider.update(aliasReq2, previous: alias)
        var f = try #require(try service.store.function(account: "000000000000", region: "us-east-1", name: "cfn-fn"))
        #expect(f.aliases.first?.FunctionVersion == "$LATEST")

        let permReq = request("AWS::Lambda::Permission", "P", ["FunctionName": .string("cfn-fn"), "Action": .string("lambda:InvokeFunction"),
                                                                "Principal": .string("s3.amazonaws.com"),
                                                                "SourceArn": .string("arn:aws:s3:::bucket")])
        let perm = try await provider.create(permReq)
        var policy = try await provider.call(permReq, .get, "/2015-03-31/functions/cfn-fn/policy")
        #expect(policy["Policy"]?.string?.contains(perm.physicalId) == true)

        let urlReq = request("AWS::Lambda::Url", "U", ["TargetFunctionArn": .string(fn.attributes["Arn"]!.string!), "AuthType": .string("NONE")])
        let url = try await provider.create(urlReq)
        #expect(url.attributes["FunctionUrl"]?.string?.isEmpty == false)
        #expect(url.attributes["FunctionArn"] == fn.attributes["Arn"])
        var urlReq2 = urlReq
        urlReq2.properties["AuthType"] = .string("AWS_IAM")
        _ = try await provider.update(urlReq2, previous: url)
        let config = try await provider.call(urlReq, .get, "/2021-10-31/functions/cfn-fn/url")
        #expect(config["AuthType"] == .string("AWS_IAM"))

        try await provider.delete(urlReq, state: url)
        try await provider.delete(permReq, state: perm)
        policy = (try? await provider.call(permReq, .get, "/2015-03-31/functions/cfn-fn/policy")) ?? [:]
        #expect(policy["Policy"]?.string?.contains(perm.physicalId) != true)
        try await provider.delete(aliasReq, state: alias)
        try await provider.delete(request("AWS::Lambda::Version", "V", [:]), state: version)
        f = try #require(try service.store.function(account: "000000000000", region: "us-east-1", name: "cfn-fn"))
        #expect(f.aliases.isEmpty && f.versions.isEmpty)
        await #expect(throws: AWSError.self) { try await provider.call(urlReq, .get, "/2021-10-31/functions/cfn-fn/url") }
    }

    @Test func nodeCodeIsIndexJS() async throws {
        let state = try await provider.create(request("AWS::Lambda::Function", "Node", function(["Runtime": .string("nodejs20.x"),
                                                                                                   "Handler": .string("index.handler")])))
        let f = try #require(try service.store.function(account: "000000000000", region: "us-east-1", name: state.physicalId))
        let folder = try service.code.unpacked(f.codeHex)
        // Beside it, the cfn-response module CloudFormation places next to inline code (CFNResponseModule.swift).
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == ["index.js", "node_modules"])
    }
}
