import Foundation
import Testing

@testable import CodeDeploy

/// Install: files copied under the instance root, the previous install's files cleaned up, fileExistsBehavior.
@Suite struct AgentInstallTests {
    static func appSpec(_ extra: String = "") -> String {
        """
        version: 0.0
        os: linux
        files:
          - source: web
            destination: /var/www/app
          - source: conf/app.conf
            destination: /etc/app
        \(extra)
        """
    }

    /// DownloadBundle then Install of a revision built from `files`.
    func install(_ lab: AgentLab, _ id: String, _ files: [String: String], last: String? = nil,
                 behavior: String = "DISALLOW") async throws -> LifecycleEventOutcome {
        let context = lab.context(id, bundle: try lab.bundle(try lab.folder(files), type: "zip"), last: last, behavior: behavior)
        let downloaded = await lab.agent.run(event: "DownloadBundle", context: context)
        #expect(downloaded.status == "Succeeded", "\(downloaded)")
        return await lab.agent.run(event: "Install", context: context)
    }

    @Test func copiesFoldersRecursivelyAndFilesUnderTheRoot() async throws {
        let lab = try AgentLab()
        let outcome = try await install(lab, "d-I1", ["appspec.yml": Self.appSpec(), "web/index.html": "v1",
                                                      "web/static/app.js": "js", "conf/app.conf": "port=1"])
        #expect(outcome.status == "Succeeded", "\(outcome)")
        #expect(lab.read("/var/www/app/index.html") == "v1")
        #expect(lab.read("/var/www/app/static/app.js") == "js")
        #expect(lab.read("/etc/app/app.conf") == "port=1")
        let cleanup = try String(contentsOfFile: lab.layout.cleanupFile(groupID: AgentLab.groupID), encoding: .utf8)
        #expect(cleanup.contains(lab.root + "/var/www/app/static/app.js\n"))
        let last = try String(contentsOfFile: lab.layout.lastSuccessfulInstall(groupID: AgentLab.groupID), encoding: .utf8)
        #expect(last.hasSuffix("/d-I1"))
    }

    @Test func nextInstallRemovesThePreviousFiles() async throws {
        let lab = try AgentLab()
        _ = try await install(lab, "d-I2", ["appspec.yml": Self.appSpec(), "web/index.html": "v1", "web/old.html": "old",
                                            "web/gone/x.txt": "x", "conf/app.conf": "1"])
        // Same names again under DISALLOW: they are the previous install's, so no conflict.
        let outcome = try await install(lab, "d-I3", ["appspec.yml": Self.appSpec(), "web/index.html": "v2", "conf/app.conf": "2"],
                                        last: "d-I2")
        #expect(outcome.status == "Succeeded", "\(outcome)")
        #expect(lab.read("/var/www/app/index.html") == "v2")
        #expect(lab.read("/var/www/app/old.html") == nil)
        #expect(!FileManager.default.fileExists(atPath: lab.root + "/var/www/app/gone"))
        #expect(lab.read("/etc/app/app.conf") == "2")
    }

    @Test func disallowFailsNamingTheFileAndChangesNothing() async throws {
        let lab = try AgentLab()
        try FileManager.default.createDirectory(atPath: lab.root + "/var/www/app", withIntermediateDirectories: true)
        try "mine".write(toFile: lab.root + "/var/www/app/index.html", atomically: true, encoding: .utf8)
        let outcome = try await install(lab, "d-I4", ["appspec.yml": Self.appSpec(), "web/index.html": "v1", "web/new.html": "n",
                                                      "conf/app.conf": "1"])
        #expect(outcome.status == "Failed")
        #expect(outcome.errorCode == "UnknownError")
        #expect(outcome.message == "The deployment failed because a specified file already exists at this location: /var/www/app/index.html")
        #expect(lab.read("/var/www/app/index.html") == "mine")
        #expect(lab.read("/var/www/app/new.html") == nil)
        #expect(lab.read("/etc/app/app.conf") == nil)
    }

    @Test func overwriteReplacesAndRetainKeeps() async throws {
        let lab = try AgentLab()
        try FileManager.default.createDirectory(atPath: lab.root + "/var/www/app", withIntermediateDirectories: true)
        try "mine".write(toFile: lab.root + "/var/www/app/index.html", atomically: true, encoding: .utf8)
        let files = ["appspec.yml": Self.appSpec(), "web/index.html": "v1", "conf/app.conf": "1"]
        let retained = try await install(lab, "d-I5", files, behavior: "RETAIN")
        #expect(retained.status == "Succeeded", "\(retained)")
        #expect(lab.read("/var/www/app/index.html") == "mine")
        #expect(lab.read("/etc/app/app.conf") == "1")

        let lab2 = try AgentLab()
        try FileManager.default.createDirectory(atPath: lab2.root + "/var/www/app", withIntermediateDirectories: true)
        try "mine".write(toFile: lab2.root + "/var/www/app/index.html", atomically: true, encoding: .utf8)
        let overwritten = try await install(lab2, "d-I6", files, behavior: "OVERWRITE")
        #expect(overwritten.status == "Succeeded", "\(overwritten)")
        #expect(lab2.read("/var/www/app/index.html") == "v1")
    }

    @Test func appSpecBehaviorWinsOverTheDeployments() async throws {
        let lab = try AgentLab()
        try FileManager.default.createDirectory(atPath: lab.root + "/etc/app", withIntermediateDirectories: true)
        try "mine".write(toFile: lab.root + "/etc/app/app.conf", atomically: true, encoding: .utf8)
        let outcome = try await install(lab, "d-I7", ["appspec.yml": Self.appSpec("file_exists_behavior: OVERWRITE"),
                                                      "web/index.html": "v1", "conf/app.conf": "1"], behavior: "DISALLOW")
        #expect(outcome.status == "Succeeded", "\(outcome)")
        #expect(lab.read("/etc/app/app.conf") == "1")
    }

    @Test func aRetryAfterAnInterruptedInstallSucceeds() async throws {
        let lab = try AgentLab()
        let files = ["appspec.yml": Self.appSpec(), "web/a.html": "a", "web/b.html": "b", "web/c/d.html": "d", "conf/app.conf": "1"]
        let context = lab.context("d-I10", bundle: try lab.bundle(try lab.folder(files), type: "zip"))
        #expect(await lab.agent.run(event: "DownloadBundle", context: context).status == "Succeeded")
        let archive = lab.layout.archive(groupID: AgentLab.groupID, deploymentID: "d-I10")
        var interrupted = FileInstaller(layout: lab.layout)
        interrupted.interruptAfterCopies = 2
        #expect(throws: AppSpecError.self) {
            try interrupted.install(appSpec: try LocalServerAgent.appSpec(in: archive), archive: archive,
                                    groupID: AgentLab.groupID, behavior: "DISALLOW")
        }
        #expect(lab.read("/var/www/app/a.html") == "a" && lab.read("/etc/app/app.conf") == nil)
        // The engine runs Install again (after a restart): the half-copied files are this install's, not conflicts.
        let retried = await lab.agent.run(event: "Install", context: context)
        #expect(retried.status == "Succeeded", "\(retried)")
        #expect(lab.read("/var/www/app/c/d.html") == "d" && lab.read("/etc/app/app.conf") == "1")
        // And the next revision still removes all of them.
        let next = try await install(lab, "d-I11", ["appspec.yml": "version: 0.0\nos: linux\n"], last: "d-I10")
        #expect(next.status == "Succeeded", "\(next)")
        #expect(!FileManager.default.fileExists(atPath: lab.root + "/var/www/app"))
        #expect(!FileManager.default.fileExists(atPath: lab.root + "/etc/app"))
    }

    @Test func refusesDestinationsEscapingTheRoot() async throws {
        let lab = try AgentLab()
        let spec = "version: 0.0\nos: linux\nfiles:\n  - source: web\n    destination: /var/../../escaped\n"
        let outcome = try await install(lab, "d-I8", ["appspec.yml": spec, "web/index.html": "v1"])
        #expect(outcome.status == "Failed")
        #expect(outcome.message?.contains("leads out of the instance's root folder") == true)
        let parent = (lab.root as NSString).deletingLastPathComponent
        #expect(!FileManager.default.fileExists(atPath: parent + "/escaped"))
    }

    @Test func appliesPermissionModes() async throws {
        let lab = try AgentLab()
        let spec = Self.appSpec("""
        permissions:
          - object: /var/www/app
            pattern: "*.sh"
            except: [keep.sh]
            mode: 750
            type: [file]
        """)
        let outcome = try await install(lab, "d-I9", ["appspec.yml": spec, "web/run.sh": "x", "web/keep.sh": "y",
                                                      "web/index.html": "z", "conf/app.conf": "1"])
        #expect(outcome.status == "Succeeded", "\(outcome)")
        func mode(_ path: String) throws -> Int {
            ((try FileManager.default.attributesOfItem(atPath: lab.root + path))[.posixPermissions] as? Int) ?? -1
        }
        #expect(try mode("/var/www/app/run.sh") == 0o750)
        #expect(try mode("/var/www/app/keep.sh") == 0o644)
        #expect(try mode("/var/www/app/index.html") == 0o644)
    }
}
