import Core
import Foundation
import Testing

@testable import Lambda

/// Inline (`ZipFile`) code gets Cloudless's cfn-response module beside its handler, as CloudFormation places AWS's.
@Suite struct CFNResponseModuleTests {
    /// The files of the package CloudFormation's inline code becomes, unpacked as Lambda unpacks a package.
    func entries(runtime: String) throws -> [String: String] {
        let directory = NSTemporaryDirectory() + "cfn-response-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files = [(path: runtime.hasPrefix("nodejs") ? "index.js" : "index.py", source: "handler")] + CFNResponseModule.files(runtime: runtime)
        try FileManager.default.createDirectory(atPath: directory + "/code", withIntermediateDirectories: true)
        let code = FunctionCode(directory: directory)
        let folder = try code.unpacked(try code.store(Array(try LambdaResources.zip(files))).sha256Hex)
        var out: [String: String] = [:]
        let walker = FileManager.default.enumerator(atPath: folder)
        while let path = walker?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: folder + "/" + path, isDirectory: &isDirectory), !isDirectory.boolValue {
                out[path] = String(decoding: FileManager.default.contents(atPath: folder + "/" + path) ?? Data(), as: UTF8.self)
            }
        }
        return out
    }

    @Test func pythonGetsCfnresponseBesideIndex() throws {
        let files = try entries(runtime: "python3.12")
        #expect(Set(files.keys) == ["index.py", "cfnresponse.py"])
        let module = try #require(files["cfnresponse.py"])
        #expect(module.contains("def send(event, context, responseStatus, responseData, physicalResourceId=None, noEcho=False, reason=None):"))
        #expect(module.contains(#"SUCCESS = "SUCCESS""#) && module.contains(#"FAILED = "FAILED""#))
        #expect(module.contains(#"method="PUT""#))
    }

    @Test func nodeGetsCfnResponseAsAModule() throws {
        let files = try entries(runtime: "nodejs20.x")
        #expect(Set(files.keys) == ["index.js", "node_modules/cfn-response/index.js"])
        #expect(files["node_modules/cfn-response/index.js"]?.contains("exports.send = function (event, context, responseStatus, responseData, physicalResourceId, noEcho)") == true)
    }

    @Test func otherRuntimesGetNothing() {
        #expect(CFNResponseModule.files(runtime: "provided.al2023").isEmpty)
    }
}
