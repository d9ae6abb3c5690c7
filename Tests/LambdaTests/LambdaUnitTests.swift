import Core
import Foundation
import Testing

@testable import Lambda

@Suite struct RoutingTests {
    @Test func pathTemplatesGiveOperationsAndLabels() throws {
        let r = LambdaService.router
        let invoke = try #require(r.match(method: .post, rawPath: "/2015-03-31/functions/my-fn/invocations"))
        #expect(invoke.operation == "Invoke" && invoke.labels == ["FunctionName": "my-fn"])
        let arn = try #require(r.match(method: .get, rawPath: "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af"))
        #expect(arn.operation == "GetFunction" && arn.labels["FunctionName"] == "arn:aws:lambda:us-east-1:000000000000:function:f")
        let tags = try #require(r.match(method: .get, rawPath: "/2017-03-31/tags/arn:aws:lambda:us-east-1:000000000000:function:f"))
        #expect(tags.operation == "ListTags" && tags.labels["Resource"] == "arn:aws:lambda:us-east-1:000000000000:function:f")
        #expect(r.match(method: .get, rawPath: "/2015-03-31/functions/")?.operation == "ListFunctions")
        #expect(r.match(method: .patch, rawPath: "/2015-03-31/functions/f") == nil)
        #expect(r.match(method: .get, rawPath: "/2015-03-31/functions/f/unknown") == nil)
    }
}

@Suite struct FunctionCodeTests {
    @Test func aZipIsStoredOnceAndUnpackedWithAnExecutableBootstrap() throws {
        let dir = NSTemporaryDirectory() + "cloudless-lambda-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir + "/code", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/unpacked", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A zip made by Python's zipfile (no Unix mode bits): a bootstrap script and a handler.
        let src = dir + "/src"
        try FileManager.default.createDirectory(atPath: src, withIntermediateDirectories: true)
        try "#!/bin/sh\necho hi\n".write(toFile: src + "/bootstrap", atomically: true, encoding: .utf8)
        try "def h(e, c): return 1\n".write(toFile: src + "/app.py", atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import zipfile,sys; z=zipfile.ZipFile(sys.argv[1],'w'); z.writestr('bootstrap', open(sys.argv[2]).read()); z.writestr('app.py', open(sys.argv[3]).read()); z.close()",
                       dir + "/f.zip", src + "/bootstrap", src + "/app.py"]
        try p.run()
        p.waitUntilExit()
        let zip = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/f.zip")))
        let code = FunctionCode(directory: dir)
        let stored = try code.store(zip)
        #expect(stored.size == zip.count)
        #expect(stored.sha256Base64 == Data(SHA256.hash(zip)).base64EncodedString())
        let folder = try code.unpacked(stored.sha256Hex)
        #expect(FileManager.default.isExecutableFile(atPath: folder + "/bootstrap"))
        #expect(FileManager.default.contents(atPath: folder + "/app.py") == Data("def h(e, c): return 1\n".utf8))
        #expect(throws: AWSError.self) { try code.store(Array("not a zip".utf8)) }
    }
}

@Suite struct DatesTests {
    @Test func lastModifiedLooksLikeLambdas() {
        #expect(LambdaService.lastModified(0) == "1970-01-01T00:00:00.000+0000")
        #expect(LambdaService.lastModified(1_795_640_400.25) == "2026-11-25T21:00:00.250+0000")
    }
}
