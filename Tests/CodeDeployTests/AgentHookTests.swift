#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

@testable import CodeDeploy

/// Hook scripts run as the agent runs them: environment, failures with their log tails, timeouts, ApplicationStop
/// from the last successful revision, the scripts log, and background processes that outlive their script.
@Suite struct AgentHookTests {
    static func appSpec(_ hooks: String) -> String { "version: 0.0\nos: linux\nhooks:\n" + hooks }

    /// A downloaded revision (no files section) ready for its hooks.
    func revision(_ lab: AgentLab, _ id: String, _ files: [String: String], last: String? = nil) async throws -> ServerDeploymentContext {
        let scripts = Set(files.keys.filter { $0.hasSuffix(".sh") })
        let context = lab.context(id, bundle: try lab.bundle(try lab.folder(files, executable: scripts), type: "tgz"), type: "tgz", last: last)
        let outcome = await lab.agent.run(event: "DownloadBundle", context: context)
        #expect(outcome.status == "Succeeded", "\(outcome)")
        return context
    }

    @Test func scriptsGetTheAgentsEnvironmentInTheArchive() async throws {
        let lab = try AgentLab()
        let context = try await revision(lab, "d-H1", [
            "appspec.yml": Self.appSpec("  AfterInstall:\n    - location: scripts/env.sh\n"),
            "scripts/env.sh": "#!/bin/sh\nenv > \"$CLOUDLESS_INSTANCE_ROOT/env.txt\"\npwd >> \"$CLOUDLESS_INSTANCE_ROOT/env.txt\"\n",
        ])
        let outcome = await lab.agent.run(event: "AfterInstall", context: context)
        #expect(outcome.status == "Succeeded", "\(outcome)")
        let env = lab.read("/env.txt") ?? ""
        for line in ["LIFECYCLE_EVENT=AfterInstall", "DEPLOYMENT_ID=d-H1", "APPLICATION_NAME=WebApp",
                     "DEPLOYMENT_GROUP_NAME=WebServers", "DEPLOYMENT_GROUP_ID=\(AgentLab.groupID)", "AWS_REGION=us-east-1",
                     "CLOUDLESS_INSTANCE_ROOT=\(lab.root)", lab.layout.archive(groupID: AgentLab.groupID, deploymentID: "d-H1")] {
            #expect(env.contains(line + "\n"), "\(line) missing from \(env)")
        }
        #expect(env.contains("\nPATH=") && env.contains("\nHOME="))
    }

    @Test func nonZeroExitIsScriptFailedWithTheLogTail() async throws {
        let lab = try AgentLab()
        let context = try await revision(lab, "d-H2", [
            "appspec.yml": Self.appSpec("  ValidateService:\n    - location: scripts/ok.sh\n    - location: scripts/check.sh\n      timeout: 20\n"),
            "scripts/ok.sh": "echo fine\n",
            "scripts/check.sh": "echo checking\necho 'port closed' >&2\nexit 3\n",
        ])
        let outcome = await lab.agent.run(event: "ValidateService", context: context)
        #expect(outcome.status == "Failed")
        #expect(outcome.errorCode == "ScriptFailed")
        #expect(outcome.scriptName == "scripts/check.sh")
        #expect(outcome.message == "Script at specified location: scripts/check.sh run as user \(NSUserName()) failed with exit code 3")
        // Two pipes, as the agent reads them: the streams' lines keep their own order, not each other's.
        let tail = outcome.logTail ?? ""
        #expect(tail.hasSuffix("\n"))
        #expect(Set(tail.split(separator: "\n")) == ["[stdout]checking", "[stderr]port closed"])
    }

    @Test func logTailIsTheLastFourKiB() async throws {
        let lab = try AgentLab()
        let context = try await revision(lab, "d-H3", [
            "appspec.yml": Self.appSpec("  BeforeInstall:\n    - location: scripts/loud.sh\n"),
            "scripts/loud.sh": "for i in $(seq 1 2000); do echo \"line $i\"; done\nexit 1\n",
        ])
        let outcome = await lab.agent.run(event: "BeforeInstall", context: context)
        #expect(outcome.errorCode == "ScriptFailed")
        let tail = outcome.logTail ?? ""
        #expect(tail.utf8.count <= 4096 && tail.utf8.count > 4000)
        #expect(tail.hasSuffix("[stdout]line 2000\n"))
        #expect(lab.scriptsLog("d-H3").contains("[stdout]line 1\n"))
    }

    @Test func passingItsTimeoutKillsTheScript() async throws {
        let lab = try AgentLab()
        let context = try await revision(lab, "d-H4", [
            "appspec.yml": Self.appSpec("  ApplicationStart:\n    - location: scripts/slow.sh\n      timeout: 1\n"),
            "scripts/slow.sh": "echo starting\necho $$ > \"$CLOUDLESS_INSTANCE_ROOT/slow.pid\"\nsleep 30\n",
        ])
        let started = ContinuousClock.now
        let outcome = await lab.agent.run(event: "ApplicationStart", context: context)
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(outcome.status == "Failed")
        #expect(outcome.errorCode == "ScriptTimedOut")
        #expect(outcome.message == "Script at specified location: scripts/slow.sh failed to complete in 1 seconds")
        #expect(outcome.logTail == "[stdout]starting\n")
        let pid = Int32(lab.read("/slow.pid")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
        try await Task.sleep(for: .milliseconds(200))
        #expect(pid > 0 && !processAlive(pid))
    }

    @Test func shebangScriptsRunAsThemselvesEvenWhenNotExecutable() async throws {
        let lab = try AgentLab()
        let context = try await revision(lab, "d-H11", [
            "appspec.yml": Self.appSpec("  BeforeInstall:\n    - location: hooks/prepare.py\n    - location: hooks/plain\n"),
            "hooks/prepare.py": "#!/usr/bin/env python3\nimport os, sys\nprint('python', sys.version_info[0])\n",
            "hooks/plain": "echo \"bash=${BASH_VERSION:+yes}\"\n",
        ])
        let outcome = await lab.agent.run(event: "BeforeInstall", context: context)
        #expect(outcome.status == "Succeeded", "\(outcome)")
        let log = lab.scriptsLog("d-H11")
        #expect(log.contains("Script at specified location: hooks/prepare.py is not executable. Trying to make it executable.\n"))
        #expect(log.contains("[stdout]python 3\n"))
        #expect(log.contains("[stdout]bash=yes\n"))
    }

    @Test func runasSwitchesUserWhenRunningAsRoot() async throws {
        let lab = try AgentLab()
        let context = try await revision(lab, "d-H12", [
            "appspec.yml": Self.appSpec("  AfterInstall:\n    - location: whoami.sh\n      runas: nobody\n    - location: fail.sh\n      runas: nobody\n"),
            "whoami.sh": "#!/bin/bash\necho \"user=$(id -un)\"\n",
            "fail.sh": "#!/bin/bash\nexit 4\n",
        ])
        let outcome = await lab.agent.run(event: "AfterInstall", context: context)
        // As root the script becomes the user; otherwise it runs as Cloudless's own user.
        let expected = getuid() == 0 ? "nobody" : NSUserName()
        #expect(lab.scriptsLog("d-H12").contains("[stdout]user=\(expected)\n"))
        #expect(outcome.message == "Script at specified location: fail.sh run as user nobody failed with exit code 4")
    }

    @Test func cancellingTheEventKillsItsScript() async throws {
        let lab = try AgentLab()
        let context = try await revision(lab, "d-H13", [
            "appspec.yml": Self.appSpec("  BeforeInstall:\n    - location: slow.sh\n"),
            "slow.sh": "echo $$ > \"$CLOUDLESS_INSTANCE_ROOT/slow.pid\"\nsleep 30\n",
        ])
        let started = ContinuousClock.now
        let event = Task { await lab.agent.run(event: "BeforeInstall", context: context) }
        while lab.read("/slow.pid") == nil && ContinuousClock.now - started < .seconds(5) { try await Task.sleep(for: .milliseconds(20)) }
        event.cancel()
        let outcome = await event.value
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(outcome.status == "Failed")
        #expect(outcome.message == "The deployment was stopped while the script slow.sh ran.")
        let pid = Int32(lab.read("/slow.pid")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
        try await Task.sleep(for: .milliseconds(200))
        #expect(pid > 0 && !processAlive(pid))
    }

    @Test func missingScriptIsScriptMissing() async throws {
        let lab = try AgentLab()
        let context = try await revision(lab, "d-H5", ["appspec.yml": Self.appSpec("  AfterInstall:\n    - location: scripts/nope.sh\n")])
        let outcome = await lab.agent.run(event: "AfterInstall", context: context)
        #expect(outcome.status == "Failed")
        #expect(outcome.errorCode == "ScriptMissing")
        #expect(outcome.scriptName == "scripts/nope.sh")
        let archive = lab.layout.archive(groupID: AgentLab.groupID, deploymentID: "d-H5")
        #expect(outcome.message == "Script does not exist at specified location: \(archive)/scripts/nope.sh")
    }

    @Test func eventsWithoutScriptsSucceedAtOnce() async throws {
        let lab = try AgentLab()
        let context = try await revision(lab, "d-H6", ["appspec.yml": Self.appSpec("  AfterInstall:\n")])
        for event in ["BeforeInstall", "AfterInstall", "ApplicationStart", "ValidateService", "BeforeAllowTraffic", "ApplicationStop"] {
            let outcome = await lab.agent.run(event: event, context: context)
            #expect(outcome.status == "Succeeded", "\(event): \(outcome)")
            #expect(outcome.endTime - outcome.startTime < 1)
        }
    }

    @Test func applicationStopRunsTheLastSuccessfulRevisionsScripts() async throws {
        let lab = try AgentLab()
        let stop = "  ApplicationStop:\n    - location: stop.sh\n"
        let first = try await revision(lab, "d-H7", ["appspec.yml": Self.appSpec(stop),
                                                     "stop.sh": "echo \"stopped by $(cat VERSION) in $DEPLOYMENT_ID\" >> \"$CLOUDLESS_INSTANCE_ROOT/stops\"\n",
                                                     "VERSION": "v1"])
        // First deployment: no previous revision, nothing runs.
        #expect(await lab.agent.run(event: "ApplicationStop", context: first).status == "Succeeded")
        #expect(lab.read("/stops") == nil)
        let second = try await revision(lab, "d-H8", ["appspec.yml": Self.appSpec(stop), "stop.sh": "exit 1\n", "VERSION": "v2"],
                                        last: "d-H7")
        #expect(await lab.agent.run(event: "ApplicationStop", context: second).status == "Succeeded")
        #expect(lab.read("/stops") == "stopped by v1 in d-H8\n")
        #expect(lab.scriptsLog("d-H8").contains("LifecycleEvent - ApplicationStop"))
    }

    @Test func scriptsLogIsTheAgentsFormat() async throws {
        let lab = try AgentLab()
        let context = try await revision(lab, "d-H9", [
            "appspec.yml": Self.appSpec("  AfterInstall:\n    - location: scripts/a.sh\n"),
            "scripts/a.sh": "echo out one\necho err one >&2\n",
        ])
        #expect(await lab.agent.run(event: "AfterInstall", context: context).status == "Succeeded")
        let lines = lab.scriptsLog("d-H9").split(separator: "\n").map(String.init)
        let stamp = #"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} "#
        #expect(lines.count == 4)
        let bodies = lines.map { $0.replacing(try! Regex(stamp), with: "") }
        #expect(lines.allSatisfy { $0.contains(try! Regex(stamp)) })
        #expect(bodies[0] == "LifecycleEvent - AfterInstall")
        #expect(bodies[1] == "Script - scripts/a.sh")
        #expect(Set(bodies[2...]) == ["[stdout]out one", "[stderr]err one"])
        let agentLog = try String(contentsOfFile: lab.layout.agentLog, encoding: .utf8)
        #expect(agentLog.contains(try Regex(#"\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}\] \[d-H9\]\[stdout\]out one"#)))
    }

    @Test func backgroundedServerOutlivesItsScript() async throws {
        let lab = try AgentLab()
        // The background child keeps the script's stdout open: the event must not wait for it.
        let context = try await revision(lab, "d-H10", [
            "appspec.yml": Self.appSpec("  ApplicationStart:\n    - location: start.sh\n      timeout: 20\n"),
            "start.sh": "nohup sleep 60 &\necho $! > \"$CLOUDLESS_INSTANCE_ROOT/server.pid\"\necho started\n",
        ])
        let started = ContinuousClock.now
        let outcome = await lab.agent.run(event: "ApplicationStart", context: context)
        #expect(outcome.status == "Succeeded", "\(outcome)")
        #expect(ContinuousClock.now - started < .seconds(5))
        let pid = Int32(lab.read("/server.pid")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
        try await Task.sleep(for: .seconds(1.5))
        #expect(pid > 0 && processAlive(pid))
        #expect(lab.scriptsLog("d-H10").contains("[stdout]started"))
        // Still supervised: the emulator's shutdown takes it down.
        lab.supervisor.killAll()
        try await Task.sleep(for: .milliseconds(300))
        #expect(!processAlive(pid))
    }
}
