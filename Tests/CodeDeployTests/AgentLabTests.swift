import Foundation
import Testing

@testable import CodeDeploy

/// The lab's web app (fixtures/labs/codedeploy/app) through the agent: deployed, served over HTTP, a failing
/// ValidateService, the rollback to the previous revision, and the app stopped.
@Suite struct AgentLabTests {
    static let app = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fixtures/labs/codedeploy/app").path

    /// The lab's revision, with `edits` (path → content) applied to a copy.
    func revision(_ lab: AgentLab, _ edits: [String: String] = [:]) throws -> String {
        let copy = lab.work + "/app-" + UUID().uuidString
        try FileManager.default.copyItem(atPath: Self.app, toPath: copy)
        for (path, content) in edits { try content.write(toFile: copy + "/" + path, atomically: true, encoding: .utf8) }
        return try lab.bundle(copy, type: "zip")
    }

    func get(_ port: Int, _ path: String = "/") -> String? {
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        curl.arguments = ["-s", "-f", "--max-time", "5", "http://127.0.0.1:\(port)\(path)"]
        let out = Pipe()
        curl.standardOutput = out
        guard (try? curl.run()) != nil else { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        curl.waitUntilExit()
        return curl.terminationStatus == 0 ? String(decoding: data, as: UTF8.self) : nil
    }

    @Test func deploysFailsValidationRollsBackAndStops() async throws {
        let lab = try AgentLab()
        let port = freePort()
        try FileManager.default.createDirectory(atPath: lab.root + "/etc/app", withIntermediateDirectories: true)
        try "\(port)\n".write(toFile: lab.root + "/etc/app/port", atomically: true, encoding: .utf8)

        let first = await lab.deploy(lab.context("d-L1", bundle: try revision(lab)))
        #expect(first.count == AgentLab.inPlaceEvents.count && first.values.allSatisfy { $0.status == "Succeeded" }, "\(first)")
        #expect(get(port)?.hasPrefix("hello from version 1") == true)
        #expect(lab.scriptsLog("d-L1").contains("[stdout]webapp healthy on port \(port)"))

        let broken = await lab.deploy(lab.context("d-L2", bundle: try revision(lab, ["web/VERSION": "2\n", "web/FAIL_VALIDATION": ""]),
                                                  last: "d-L1"))
        let validate = try #require(broken["ValidateService"])
        #expect(validate.status == "Failed")
        #expect(validate.errorCode == "ScriptFailed")
        #expect(validate.scriptName == "scripts/validate.sh")
        #expect(validate.logTail?.contains("[stderr]webapp on port \(port) answered /health with 500") == true)
        #expect(get(port)?.hasPrefix("hello from version 2") == true)

        // The rollback redeploys the last good revision; its ApplicationStop (from d-L1) stops version 2.
        let rollback = await lab.deploy(lab.context("d-L3", bundle: try revision(lab), last: "d-L1"))
        #expect(rollback.values.allSatisfy { $0.status == "Succeeded" }, "\(rollback)")
        #expect(get(port)?.hasPrefix("hello from version 1") == true)
        #expect(lab.scriptsLog("d-L3").contains("[stdout]stopped webapp"))

        let stop = await lab.agent.run(event: "ApplicationStop", context: lab.context("d-L4", bundle: "", last: "d-L3"))
        #expect(stop.status == "Succeeded", "\(stop)")
        #expect(get(port) == nil)
    }
}
