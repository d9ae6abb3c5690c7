import Core
import Foundation
import HTTPTypes
import HummingbirdCore
import NIOCore
import Testing

@testable import Lambda

@Suite struct LambdaErrorShapeTests {
    @Test func messageMemberFollowsTheErrorShape() {
        for code in ["InvalidParameterValueException", "ResourceConflictException", "RequestEntityTooLargeException",
                     "PreconditionFailedException", "TooManyRequestsException"] {
            #expect(LambdaError.lowercaseMessage.contains(code) && !LambdaError.capitalMessage.contains(code), "\(code)")
        }
        for code in ["ResourceNotFoundException", "CodeSigningConfigNotFoundException", "ServiceException", "InvalidRuntimeException"] {
            #expect(LambdaError.capitalMessage.contains(code) && !LambdaError.lowercaseMessage.contains(code), "\(code)")
        }
        // The front end's errors are no Lambda shape.
        for code in ["ValidationException", "SignatureDoesNotMatch", "UnrecognizedClientException"] {
            #expect(!LambdaError.capitalMessage.contains(code) && !LambdaError.lowercaseMessage.contains(code), "\(code)")
        }
    }

    @Test func everyModeledErrorGetsAType() {
        let plain = AWSError("RequestEntityTooLargeException", "too big", status: .contentTooLarge)
        #expect(LambdaError.typed(plain).details.filter { $0.0 == "Type" }.map(\.1) == ["User"])
        // A Type already given is kept, not doubled.
        let given = LambdaError.notFound("arn")
        #expect(LambdaError.typed(given).details.filter { $0.0 == "Type" }.count == 1)
        // Lambda's own failures are the Service's.
        #expect(LambdaError.typed(AWSError("ServiceException", "x", status: .internalServerError)).details.first { $0.0 == "Type" }?.1 == "Service")
        // A signature error of the front end: no Type.
        #expect(!LambdaError.typed(AWSError.signatureDoesNotMatch()).details.contains { $0.0 == "Type" })
        // The front end's ValidationException is not a Lambda shape: no Type.
        #expect(LambdaError.typed(LambdaError.validation("x", "f", "c")).details.isEmpty)
    }
}

@Suite struct LambdaErrorBodyTests {
    @Test func lambdaErrorBodiesHaveNoTypeMember() async throws {
        let error = LambdaError.typed(LambdaError.notFound("arn:aws:lambda:us-east-1:000000000000:function:f"))
        let r = ErrorRendering.json(error, requestID: "id", typePrefix: nil, contentType: "application/json", messageKey: "Message",
                                    typeInBody: false)
        let sink = FidelityBodySink()
        try await r.body.write(FidelityBodyWriter(sink: sink))
        #expect(String(decoding: sink.bytes, as: UTF8.self) == #"{"Message":"Function not found: arn:aws:lambda:us-east-1:000000000000:function:f","Type":"User"}"#)
        #expect(r.headers[HTTPField.Name("x-amzn-ErrorType")!] == "ResourceNotFoundException")
    }
}

private final class FidelityBodySink: @unchecked Sendable {
    var bytes: [UInt8] = []
}

private struct FidelityBodyWriter: ResponseBodyWriter {
    let sink: FidelityBodySink
    mutating func write(_ buffer: ByteBuffer) async throws { sink.bytes += Array(buffer.readableBytesView) }
    mutating func write(contentsOf buffers: some Sequence<ByteBuffer>) async throws {
        for b in buffers { sink.bytes += Array(b.readableBytesView) }
    }
    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

@Suite struct FunctionSettingsTests {
    @Test func jsonLogsDefaultTheirLevelsToInfoAndTextDropsThem() throws {
        var s = FunctionSettings()
        try s.apply(["LoggingConfig": ["LogFormat": "JSON"]])
        #expect(s.ApplicationLogLevel == "INFO" && s.SystemLogLevel == "INFO")
        try s.apply(["LoggingConfig": ["SystemLogLevel": "WARN"]])
        #expect(s.ApplicationLogLevel == "INFO" && s.SystemLogLevel == "WARN" && s.isJSONLogs)
        try s.apply(["LoggingConfig": ["LogFormat": "Text"]])
        #expect(s.ApplicationLogLevel == nil && s.SystemLogLevel == nil)
        var out: [String: Any] = [:]
        s.write(into: &out, functionName: "f", packageType: "Zip", published: false)
        #expect(NSDictionary(dictionary: out["LoggingConfig"] as? [String: Any] ?? [:]).isEqual(to: ["LogFormat": "Text", "LogGroup": "/aws/lambda/f"]))
    }

    @Test func badEnumValuesAreRefusedAndChangeNothing() {
        var s = FunctionSettings()
        #expect(throws: AWSError.self) { try s.apply(["TracingConfig": ["Mode": "Sometimes"]]) }
        #expect(throws: AWSError.self) { try s.apply(["LoggingConfig": ["LogFormat": "JSON", "ApplicationLogLevel": "LOUD"]]) }
        #expect(throws: AWSError.self) { try s.apply(["SnapStart": ["ApplyOn": "Always"]]) }
        #expect(throws: AWSError.self) { try s.apply(["FileSystemConfigs": [["Arn": "a", "LocalMountPath": "/tmp/x"]]]) }
        #expect(s.TracingMode == nil && s.SnapStartApplyOn == nil && s.FileSystemConfigs == nil)
    }

    @Test func blocksAreWrittenAsGiven() throws {
        var s = FunctionSettings()
        try s.apply(["TracingConfig": ["Mode": "Active"], "SnapStart": ["ApplyOn": "PublishedVersions"],
                     "ImageConfig": ["Command": ["run"]], "VpcConfig": ["SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"]],
                     "KMSKeyArn": "arn:aws:kms:us-east-1:000000000000:key/k"])
        var latest: [String: Any] = [:]
        s.write(into: &latest, functionName: "f", packageType: "Image", published: false)
        #expect((latest["TracingConfig"] as? [String: String]) == ["Mode": "Active"])
        #expect((latest["SnapStart"] as? [String: String]) == ["ApplyOn": "PublishedVersions", "OptimizationStatus": "Off"])
        #expect(((latest["ImageConfigResponse"] as? [String: Any])?["ImageConfig"] as? [String: [String]]) == ["Command": ["run"]])
        #expect((latest["VpcConfig"] as? [String: Any])?["SubnetIds"] as? [String] == ["subnet-1"])
        #expect(latest["KMSKeyArn"] as? String == "arn:aws:kms:us-east-1:000000000000:key/k")
        var version: [String: Any] = [:]
        s.write(into: &version, functionName: "f", packageType: "Zip", published: true)
        #expect((version["SnapStart"] as? [String: String])?["OptimizationStatus"] == "On")
        #expect(version["ImageConfigResponse"] == nil)
        // An empty KMSKeyArn removes the key.
        try s.apply(["KMSKeyArn": ""])
        #expect(s.KMSKeyArn == nil)
    }

    @Test func runtimeVersionArnIsStablePerRuntime() {
        let a = FunctionSettings.runtimeVersionArn(runtime: "python3.12", region: "us-east-1")
        #expect(a == FunctionSettings.runtimeVersionArn(runtime: "python3.12", region: "us-east-1"))
        #expect(a != FunctionSettings.runtimeVersionArn(runtime: "nodejs20.x", region: "us-east-1"))
        #expect(a.hasPrefix("arn:aws:lambda:us-east-1::runtime:") && a.count == "arn:aws:lambda:us-east-1::runtime:".count + 64)
    }

    @Test func systemEventsAreFilteredBySystemLogLevel() throws {
        var c = FunctionConfig(
            FunctionName: "f", FunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:f", Runtime: "python3.12", Role: "r",
            Handler: "h", CodeSize: 0, Description: "", Timeout: 3, MemorySize: 128, LastModified: "", CodeSha256: "", Version: "$LATEST",
            PackageType: "Zip", Architectures: ["x86_64"], EphemeralStorageSize: 512, Layers: [], State: "Active",
            LastUpdateStatus: "Successful", RevisionId: "r")
        #expect(c.writesSystemEvent(level: "INFO"))  // Text logs: everything
        var s = FunctionSettings()
        try s.apply(["LoggingConfig": ["LogFormat": "JSON", "SystemLogLevel": "WARN", "LogGroup": "/custom/g"]])
        c.Settings = s
        #expect(!c.writesSystemEvent(level: "INFO") && c.writesSystemEvent(level: "WARN"))
        #expect(c.logGroup == "/custom/g")
        let events = LambdaService.jsonPlatformEvents(c, requestID: "id", start: 0, output: [], outcome: .response([]), ms: 1.5, initMs: nil)
        #expect(events.isEmpty)
        let failed = LambdaService.jsonPlatformEvents(c, requestID: "id", start: 0, output: [], outcome: .timedOut, ms: 1.5, initMs: 2)
        let report = try #require(failed.first)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(report.message.utf8)) as? [String: Any])
        #expect(doc["type"] as? String == "platform.report")
        #expect((doc["record"] as? [String: Any])?["status"] as? String == "timeout")
    }

    @Test func listEntriesLeaveOutStateFields() {
        let c = FunctionConfig(
            FunctionName: "f", FunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:f", Runtime: "python3.12", Role: "r",
            Handler: "h", CodeSize: 0, Description: "", Timeout: 3, MemorySize: 128, LastModified: "", CodeSha256: "", Version: "$LATEST",
            PackageType: "Zip", Architectures: ["x86_64"], EphemeralStorageSize: 512, Layers: [], State: "Active",
            LastUpdateStatus: "Successful", RevisionId: "r")
        #expect(c.json["State"] != nil && c.json["RuntimeVersionConfig"] != nil)
        let listed = LambdaService.listed(c)
        #expect(listed["State"] == nil && listed["LastUpdateStatus"] == nil && listed["RevisionId"] as? String == "r")
    }
}

@Suite struct CodeSizeAndTaggingTests {
    @Test func unzippedSizeSumsTheEntries() throws {
        // A zip of one stored 5-byte entry "a.txt" ("hello"), made by Python's zipfile.
        let zip = try #require(Data(base64Encoded: "UEsDBBQAAAAAAAAAIViGphA2BQAAAAUAAAAFAAAAYS50eHRoZWxsb1BLAQIUAxQAAAAAAAAAIViGphA2BQAAAAUAAAAFAAAAAAAAAAAAAACAAQAAAABhLnR4dFBLBQYAAAAAAQABADMAAAAoAAAAAAA="))
        #expect(FunctionCode.unzippedSize([UInt8](zip)) == 5)
        #expect(FunctionCode.unzippedSize(Array("not a zip".utf8)) == 0)
    }

    @Test func directZipsOverFiftyMegabytesAreTooLarge() throws {
        let code = FunctionCode(directory: NSTemporaryDirectory() + "cloudless-unused-" + UUID().uuidString)
        #expect {
            _ = try code.store([UInt8](repeating: 0, count: FunctionCode.maxZipBytes + 1))
        } throws: { error in
            (error as? AWSError)?.code == "RequestEntityTooLargeException" && (error as? AWSError)?.message == "Zipped size must be smaller than 52428800 bytes"
        }
    }

    @Test func taggableResourceARNs() {
        #expect(LambdaService.resourceID("arn:aws:lambda:us-east-1:000000000000:event-source-mapping:abc", kind: "event-source-mapping") == "abc")
        #expect(LambdaService.resourceID("arn:aws:lambda:us-east-1:000000000000:code-signing-config:csc-1", kind: "code-signing-config") == "csc-1")
        #expect(LambdaService.resourceID("arn:aws:lambda:us-east-1:000000000000:function:f", kind: "event-source-mapping") == nil)
        #expect(CodeSigningConfig.newID().count == 21)
    }
}
