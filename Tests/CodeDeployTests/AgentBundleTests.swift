import Foundation
import Testing

@testable import CodeDeploy

/// DownloadBundle: zip, tar and tgz bundles (and AppSpec-only revisions) unpacked into the deployment archive.
@Suite struct AgentBundleTests {
    static let appSpec = "version: 0.0\nos: linux\n"

    @Test(arguments: ["zip", "tar", "tgz"])
    func unpacksIntoTheDeploymentArchive(type: String) async throws {
        let lab = try AgentLab()
        let source = try lab.folder(["appspec.yml": Self.appSpec, "web/index.html": "hello", "scripts/start.sh": "echo hi"],
                                    executable: ["scripts/start.sh"])
        let outcome = await lab.agent.run(event: "DownloadBundle", context: lab.context("d-A1", bundle: try lab.bundle(source, type: type), type: type))
        #expect(outcome.status == "Succeeded", "\(outcome)")
        let archive = lab.layout.archive(groupID: AgentLab.groupID, deploymentID: "d-A1")
        #expect(try String(contentsOfFile: archive + "/web/index.html", encoding: .utf8) == "hello")
        #expect(FileManager.default.isExecutableFile(atPath: archive + "/scripts/start.sh"))
        let recent = try String(contentsOfFile: lab.layout.mostRecentInstall(groupID: AgentLab.groupID), encoding: .utf8)
        #expect(recent == lab.layout.deploymentFolder(groupID: AgentLab.groupID, deploymentID: "d-A1"))
    }

    @Test func stripsASingleTopFolderHoldingTheAppSpec() async throws {
        let lab = try AgentLab()
        let source = try lab.folder(["release/appspec.yml": Self.appSpec, "release/web/a.txt": "a"])
        let outcome = await lab.agent.run(event: "DownloadBundle", context: lab.context("d-A2", bundle: try lab.bundle(source, type: "tgz"), type: "tgz"))
        #expect(outcome.status == "Succeeded", "\(outcome)")
        let archive = lab.layout.archive(groupID: AgentLab.groupID, deploymentID: "d-A2")
        #expect(FileManager.default.fileExists(atPath: archive + "/appspec.yml"))
        #expect(FileManager.default.fileExists(atPath: archive + "/web/a.txt"))
    }

    @Test func acceptsAppSpecYaml() async throws {
        let lab = try AgentLab()
        let source = try lab.folder(["appspec.yaml": Self.appSpec])
        let outcome = await lab.agent.run(event: "DownloadBundle", context: lab.context("d-A3", bundle: try lab.bundle(source, type: "zip")))
        #expect(outcome.status == "Succeeded", "\(outcome)")
    }

    @Test func appSpecOnlyRevision() async throws {
        let lab = try AgentLab()
        let path = lab.work + "/appspec.json"
        try #"{"version": 0.0, "os": "linux"}"#.write(toFile: path, atomically: true, encoding: .utf8)
        let outcome = await lab.agent.run(event: "DownloadBundle", context: lab.context("d-A4", bundle: path, type: "JSON"))
        #expect(outcome.status == "Succeeded", "\(outcome)")
        #expect(FileManager.default.fileExists(atPath: lab.layout.archive(groupID: AgentLab.groupID, deploymentID: "d-A4") + "/appspec.yml"))
    }

    @Test func missingAppSpecFailsWithTheAgentsMessage() async throws {
        let lab = try AgentLab()
        let source = try lab.folder(["web/index.html": "hello", "README": "no appspec here"])
        let outcome = await lab.agent.run(event: "DownloadBundle", context: lab.context("d-A5", bundle: try lab.bundle(source, type: "zip")))
        #expect(outcome.status == "Failed")
        #expect(outcome.errorCode == "UnknownError")
        let archive = lab.layout.archive(groupID: AgentLab.groupID, deploymentID: "d-A5")
        #expect(outcome.message?.hasPrefix("The CodeDeploy agent did not find an AppSpec file within the unpacked revision directory at revision-relative path \"appspec.yml\". The revision was unpacked to directory \"\(archive)\"") == true)
        #expect(outcome.endTime >= outcome.startTime)
    }

    @Test func invalidAppSpecFailsDownloadBundle() async throws {
        let lab = try AgentLab()
        let source = try lab.folder(["appspec.yml": "version: 2\nos: linux\n"])
        let outcome = await lab.agent.run(event: "DownloadBundle", context: lab.context("d-A6", bundle: try lab.bundle(source, type: "tar"), type: "tar"))
        #expect(outcome.status == "Failed")
        #expect(outcome.message?.contains("invalid version value (2)") == true)
    }

    /// A bundle whose entry climbs out with `..` is refused, and nothing lands outside the archive.
    @Test(arguments: ["zip", "tar"])
    func refusesEntriesEscapingTheArchive(type: String) async throws {
        let lab = try AgentLab()
        let path = lab.work + "/evil." + type
        let script = type == "zip"
            ? "import zipfile,sys\nwith zipfile.ZipFile(sys.argv[1],'w') as z:\n  z.writestr('appspec.yml','version: 0.0\\nos: linux\\n')\n  z.writestr('../../../escaped.txt','x')\n"
            : "import tarfile,sys,io\nwith tarfile.open(sys.argv[1],'w') as t:\n  for n,d in [('appspec.yml',b'version: 0.0\\nos: linux\\n'),('../../../escaped.txt',b'x')]:\n    i=tarfile.TarInfo(n); i.size=len(d); t.addfile(i,io.BytesIO(d))\n"
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        python.arguments = ["-c", script, path]
        try python.run()
        python.waitUntilExit()
        #expect(python.terminationStatus == 0)
        let outcome = await lab.agent.run(event: "DownloadBundle", context: lab.context("d-A8", bundle: path, type: type))
        #expect(outcome.status == "Failed")
        #expect(outcome.message?.contains("could not be unpacked") == true)
        let deploymentRoot = lab.layout.deploymentRoot + "/" + AgentLab.groupID
        for folder in [deploymentRoot, deploymentRoot + "/d-A8", lab.root, (lab.root as NSString).deletingLastPathComponent] {
            #expect(!FileManager.default.fileExists(atPath: folder + "/escaped.txt"))
        }
    }

    @Test func corruptBundleFails() async throws {
        let lab = try AgentLab()
        let path = lab.work + "/broken.tgz"
        try "not a tarball".write(toFile: path, atomically: true, encoding: .utf8)
        let outcome = await lab.agent.run(event: "DownloadBundle", context: lab.context("d-A7", bundle: path, type: "tgz"))
        #expect(outcome.status == "Failed")
        #expect(outcome.message?.contains("could not be unpacked") == true)
    }
}
