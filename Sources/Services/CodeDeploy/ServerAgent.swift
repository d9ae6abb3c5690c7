import Core
import Foundation

/// An in-place deployment's work on one on-premises instance. Cloudless is the instance's CodeDeploy agent: the
/// deployment engine asks it to run each lifecycle event (DownloadBundle, BeforeInstall, Install, AfterInstall,
/// ApplicationStart, ValidateService, ApplicationStop...) and records the outcome as the event's status.
struct ServerDeploymentContext: Sendable {
    var deploymentID: String
    var applicationName: String
    var deploymentGroupName: String
    var deploymentGroupID: String
    var instanceName: String
    /// The instance's root folder: AppSpec `files` destinations and the agent's own folders
    /// (`opt/codedeploy-agent/deployment-root/...`) lie under it.
    var instanceRoot: String
    /// The revision's bundle, already read out of S3 (or written from AppSpecContent) into a local file.
    var bundlePath: String
    /// `zip`, `tar`, `tgz` (or `YAML`/`JSON` for an AppSpec-only revision).
    var bundleType: String
    /// The deployment this instance last finished with success (its archive holds the ApplicationStop scripts
    /// and the files it installed, which Install replaces), or nil on the first deployment.
    var lastSuccessfulDeploymentID: String?
    /// AWS's `fileExistsBehavior`: DISALLOW (default), OVERWRITE, RETAIN.
    var fileExistsBehavior: String
    /// The environment every hook script gets besides the agent's (LIFECYCLE_EVENT, DEPLOYMENT_ID,
    /// APPLICATION_NAME, DEPLOYMENT_GROUP_NAME, DEPLOYMENT_GROUP_ID) : AWS_ENDPOINT_URL, keys, region.
    var extraEnvironment: [String: String]
}

/// A lifecycle event's outcome as BatchGetDeploymentTargets shows it (`lifecycleEvents[]`).
struct LifecycleEventOutcome: Sendable, Equatable {
    /// `Succeeded`, `Failed` or `Skipped`.
    var status: String
    var startTime: Double
    var endTime: Double
    /// On failure: `errorCode` (ScriptFailed, ScriptTimedOut, ScriptMissing, UnknownError...), the script's name,
    /// a message and the tail of its output (at most 4 KiB, as the agent reports).
    var errorCode: String?
    var scriptName: String?
    var message: String?
    var logTail: String?
}

/// What the deployment engine needs of the agent. `LocalServerAgent` runs the real thing (processes under the
/// supervisor); unit tests of the engine use a fake.
protocol ServerAgent: Sendable {
    func run(event: String, context: ServerDeploymentContext) async -> LifecycleEventOutcome
}
