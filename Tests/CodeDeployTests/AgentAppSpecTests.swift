import Foundation
import Testing

@testable import CodeDeploy

@Suite struct AgentAppSpecTests {
    @Test func parsesFilesPermissionsAndHooks() throws {
        let spec = try AppSpec.parse("""
        version: 0.0
        os: linux
        files:
          - source: web
            destination: /var/www/app
          - source: config/app.conf
            destination: /etc/app
        file_exists_behavior: overwrite
        permissions:
          - object: /var/www/app
            pattern: "*.sh"
            except: [skip.sh]
            owner: www-data
            mode: 750
            type: [file]
        hooks:
          ApplicationStop:
            - location: scripts/stop.sh
              timeout: 30
          ApplicationStart:
            - location: scripts/start.sh
              runas: www-data
            - location: scripts/warm.sh
        """)
        #expect(spec.os == "linux")
        #expect(spec.files == [.init(source: "web", destination: "/var/www/app"),
                               .init(source: "config/app.conf", destination: "/etc/app")])
        #expect(spec.fileExistsBehavior == "OVERWRITE")
        #expect(spec.permissions == [.init(object: "/var/www/app", pattern: "*.sh", except: ["skip.sh"], owner: "www-data",
                                           group: nil, mode: 0o750, types: ["file"])])
        #expect(spec.hooks["ApplicationStop"] == [.init(location: "scripts/stop.sh", timeout: 30, runas: nil)])
        #expect(spec.hooks["ApplicationStart"] == [.init(location: "scripts/start.sh", timeout: 3600, runas: "www-data"),
                                                   .init(location: "scripts/warm.sh", timeout: 3600, runas: nil)])
    }

    @Test func parsesJSON() throws {
        let spec = try AppSpec.parse(#"{"version": 0.0, "os": "linux", "hooks": {"ValidateService": [{"location": "v.sh", "timeout": 5}]}}"#)
        #expect(spec.hooks["ValidateService"]?.first?.timeout == 5)
        #expect(spec.files.isEmpty)
    }

    @Test(arguments: [
        ("version: 1.0\nos: linux\n", "invalid version value (1.0)"),
        ("version: 0.0\nos: solaris\n", "invalid operating system (solaris)"),
        ("version: 0.0\n", "invalid operating system ()"),
        ("version: 0.0\nos: windows\n", "windows"),
        ("version: 0.0\nos: linux\nfiles:\n  - source: a\n    destination: relative/path\n", "fully qualified path"),
        ("version: 0.0\nos: linux\nfiles:\n  - source: a\n", "needs a source and a destination"),
        ("version: 0.0\nos: linux\nhooks:\n  BeforeInstall:\n    - location: a.sh\n      timeout: 3601\n", "exceeds the maximum of 3600"),
        ("version: 0.0\nos: linux\nhooks:\n  BeforeInstall:\n    - location: a.sh\n      timeout: soon\n", "positive number"),
        ("version: 0.0\nos: linux\nhooks:\n  BeforeInstall:\n    - timeout: 5\n", "needs a location"),
        ("version: 0.0\nos: linux\nhooks:\n  BeforeInstall: a.sh\n", "must be a list"),
        ("version: 0.0\nos: linux\nfile_exists_behavior: MERGE\n", "invalid file_exists_behavior"),
        ("version: 0.0\nos: linux\npermissions:\n  - object: /a\n    mode: 999\n", "not a valid octal mode"),
        ("version: [0.0\n", "not valid YAML"),
    ])
    func refuses(yaml: String, message: String) {
        #expect {
            _ = try AppSpec.parse(yaml)
        } throws: { error in
            (error as? AppSpecError)?.message.contains(message) == true
        }
    }

    @Test func reRootsServerPathsAndRefusesEscapes() {
        let layout = AgentLayout(instanceRoot: "/tmp/server-1/")
        #expect(layout.reRoot("/var/www/app") == "/tmp/server-1/var/www/app")
        #expect(layout.reRoot("/var/./www/../www/app/") == "/tmp/server-1/var/www/app")
        #expect(layout.reRoot("/") == "/tmp/server-1")
        #expect(layout.reRoot("/../etc/passwd") == nil)
        #expect(layout.reRoot("/var/../../etc") == nil)
        #expect(AgentLayout.resolve("scripts/../../x.sh", inside: "/a/archive") == nil)
        #expect(AgentLayout.resolve("scripts/start.sh", inside: "/a/archive") == "/a/archive/scripts/start.sh")
        #expect(layout.archive(groupID: "g", deploymentID: "d-1")
                == "/tmp/server-1/opt/codedeploy-agent/deployment-root/g/d-1/deployment-archive")
        #expect(layout.lastSuccessfulInstall(groupID: "g")
                == "/tmp/server-1/opt/codedeploy-agent/deployment-root/deployment-instructions/g_last_successful_install")
        #expect(layout.cleanupFile(groupID: "g")
                == "/tmp/server-1/opt/codedeploy-agent/deployment-root/deployment-instructions/g-cleanup")
    }
}
