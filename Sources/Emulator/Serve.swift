import APIGateway
import ApplicationAutoScaling
import ArgumentParser
import BuildInfo
import CloudFormation
import CodeDeploy
import Console
import Core
import DynamoDB
import Foundation
import Hummingbird
import ECS
import ELBv2
import IAM
import Lambda
import Logging
import Logs
import S3
import SQS
import SecretsManager
import ServiceLifecycle
import STS

/// `cloudless serve`: every option can also come from a CLOUDLESS_* environment variable.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start the emulator (the default command).",
        discussion: """
            Every option also reads an environment variable: CLOUDLESS_HOST, CLOUDLESS_PORT, CLOUDLESS_DATA_DIR, \
            CLOUDLESS_EPHEMERAL, CLOUDLESS_ACCOUNT_ID, CLOUDLESS_REGION, CLOUDLESS_LOG_LEVEL, CLOUDLESS_STRICT_AUTH, \
            CLOUDLESS_CREDENTIALS, CLOUDLESS_ECS_IMAGES, CLOUDLESS_FAULTS, CLOUDLESS_INIT_DIR, CLOUDLESS_SNAPSHOT, CLOUDLESS_MASTER_KEY (64 hex characters; else master.key in the data folder, created \
            on first start). A command-line option wins over the variable.
            Internal endpoints: GET /_cloudless/health, GET /_localstack/health (for tools written for LocalStack), \
            POST /_cloudless/reset (empty all state), GET/POST/PATCH/DELETE /_cloudless/faults (fault rules), \
            GET /_localstack/init (init hooks), \
            GET /_cloudless/snapshots, POST /_cloudless/snapshots/<name>[/restore], DELETE /_cloudless/snapshots/<name>, POST /_cloudless/clock {"advance": seconds} (the emulator's clock, \
            which expiries, retries, schedules and timeouts follow), POST /_cloudless/s3/lifecycle/run (apply lifecycle \
            rules now), /_cloudless/website/<bucket>/ (a bucket's website), GET /_cloudless/lambda/code/<sha256> \
            (GetFunction's Code.Location), POST /_cloudless/ecs/metrics (set a task's CPU and memory readings), \
            POST /_cloudless/application-autoscaling/evaluate (run scaling policies now), /_cloudless/console/ (the console), \
            GET /_cloudless/requests[/stream] (the last requests, JSON or server-sent events), \
            GET /_cloudless/sqs/peek/<account>/<region>/<queue> (messages, nothing received), \
            GET /_cloudless/elbv2/listeners (where each load balancer listener is bound); and what Cloudless hands \
            out itself: /_cloudless/ecs/metadata/... and /_cloudless/ecs/credentials/... (ECS tasks), \
            /_cloudless/cloudformation/callback/... (custom resources' ResponseURL, wait condition handles) and the \
            Lambda Runtime API (/2018-06-01/runtime/...) for function processes.
            """)

    @Option(help: "Address to listen on (CLOUDLESS_HOST). Default 127.0.0.1; 0.0.0.0 exposes it to the network.")
    var host: String?

    @Option(help: "Port to listen on (CLOUDLESS_PORT). Default 4566; 0 picks a free port.")
    var port: Int?

    @Option(name: .customLong("data-dir"), help: "Folder for all state (CLOUDLESS_DATA_DIR). Default ./.cloudless.")
    var dataDir: String?

    @Flag(help: "Use a temporary data folder, removed at exit (CLOUDLESS_EPHEMERAL=1).")
    var ephemeral = false

    @Option(name: .customLong("account-id"), help: "Account of requests whose access key is not a 12-digit account id (CLOUDLESS_ACCOUNT_ID). Default 000000000000.")
    var accountID: String?

    @Option(help: "Region of requests that name none (CLOUDLESS_REGION). Default us-east-1.")
    var region: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (CLOUDLESS_LOG_LEVEL). Default info.")
    var logLevel: String?

    @Flag(name: .customLong("strict-auth"), help: "Verify every SigV4/SigV2 signature against the configured credentials (CLOUDLESS_STRICT_AUTH=1).")
    var strictAuth = false

    @Option(name: .customLong("credentials"), help: "Credentials for --strict-auth as KEY:SECRET[,KEY:SECRET...] (CLOUDLESS_CREDENTIALS). Default test:test.")
    var credentials: String?

    @Option(name: .customLong("ecs-images"), help: "JSON file saying what a container image runs as a local process (CLOUDLESS_ECS_IMAGES): {\"<image pattern>\": {\"entryPoint\": [...], \"command\": [...], \"workingDirectory\": \"...\"}}.")
    var ecsImages: String?

    @Option(name: .customLong("faults"), help: "JSON file of fault rules installed at start (CLOUDLESS_FAULTS), as POST /_cloudless/faults takes them.")
    var faultsFile: String?

    @Option(name: .customLong("init-dir"), help: "Folder whose *.sh and *.py scripts run, in name order, once the server is ready (CLOUDLESS_INIT_DIR).")
    var initDir: String?

    @Option(help: "Start from the snapshot of this name in the data folder (CLOUDLESS_SNAPSHOT; see `cloudless snapshot`).")
    var snapshot: String?

    func run() async throws {
        try await ServeOptions(host: host, port: port, dataDir: dataDir, ephemeral: ephemeral, accountID: accountID,
                               region: region, logLevel: logLevel, strictAuth: strictAuth, credentials: credentials,
                               ecsImages: ecsImages, faultsFile: faultsFile, initDir: initDir, snapshot: snapshot).run()
    }
}

/// What `serve` runs, from its options: read by ArgumentParser (`Serve`) or, for the usual command line, by
/// `QuickServeArguments` (main.swift).
struct ServeOptions {
    var host: String?
    var port: Int?
    var dataDir: String?
    var ephemeral = false
    var accountID: String?
    var region: String?
    var logLevel: String?
    var strictAuth = false
    var credentials: String?
    var ecsImages: String?
    var faultsFile: String?
    var initDir: String?
    var snapshot: String?

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        func flag(_ name: String) -> Bool { ["1", "true", "yes", "on"].contains((env[name] ?? "").lowercased()) }
        let host = self.host ?? env["CLOUDLESS_HOST"] ?? "127.0.0.1"
        let port = self.port ?? env["CLOUDLESS_PORT"].map({ Int($0) ?? -1 }) ?? 4566
        guard (0...65535).contains(port) else {
            throw ValidationError("port must be a number between 0 and 65535")
        }
        let ephemeral = self.ephemeral || flag("CLOUDLESS_EPHEMERAL")
        let account = accountID ?? env["CLOUDLESS_ACCOUNT_ID"] ?? "000000000000"
        guard AccountID.isValid(account) else { throw ValidationError("account id must be 12 digits") }
        let region = self.region ?? env["CLOUDLESS_REGION"] ?? "us-east-1"
        guard Region.isValid(region) else { throw ValidationError("region '\(region)' is not a region name") }
        let levelName = logLevel ?? env["CLOUDLESS_LOG_LEVEL"] ?? "info"
        guard let level = Logger.Level(rawValue: levelName.lowercased()) else { throw ValidationError("unknown log level '\(levelName)'") }
        let strict = strictAuth || flag("CLOUDLESS_STRICT_AUTH")
        var creds: [String: String] = [:]
        for pair in (credentials ?? env["CLOUDLESS_CREDENTIALS"] ?? "test:test").split(separator: ",") {
            let kv = pair.split(separator: ":", maxSplits: 1)
            guard kv.count == 2 else { throw ValidationError("credentials must be KEY:SECRET pairs") }
            creds[String(kv[0])] = String(kv[1])
        }

        var dataDir = self.dataDir ?? env["CLOUDLESS_DATA_DIR"] ?? "./.cloudless"
        if ephemeral {
            dataDir = NSTemporaryDirectory() + "cloudless-" + UUID().uuidString
        }
        dataDir = URL(fileURLWithPath: dataDir).standardizedFileURL.path
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        defer { if ephemeral { try? FileManager.default.removeItem(atPath: dataDir) } }
        // `--snapshot NAME`: its files replace the state before any service opens it.
        if let name = snapshot ?? env["CLOUDLESS_SNAPSHOT"] { try SnapshotStore.installAtStart(folder: dataDir, name: name) }

        // StreamLogHandler's line, written without its per-line localtime and per-change metadata rendering.
        LoggingSystem.bootstrap { label in LineLogHandler(label: label, level: level) }
        var log = Logger(label: "cloudless")
        log.logLevel = level
        let logger = log

        // No service opens its database here: each opens it on first use (`LazyDatabase`). What a restart must resume
        // without any request starts once the port is bound (below), and opens only the databases that exist.
        let clock = EmulatorClock()
        let startedAt = Date().timeIntervalSince1970
        // Access keys issued through IAM sign requests too (--strict-auth) and act in the account that issued them.
        let iam = try IAMService(directory: dataDir, clock: clock)
        // ECS tasks' roles get temporary keys; they sign requests like IAM's (and are verified under --strict-auth).
        let taskRoleCredentials = TaskRoleCredentials()
        let auth = AuthSettings(strict: strict, credentials: creds, defaultAccount: account, defaultRegion: region,
                                provider: CredentialProviders([iam.credentials, taskRoleCredentials]))
        let postSecrets: (@Sendable (String) -> String?)? = strict ? { @Sendable (key: String) in auth.secret(for: key) } : nil
        let sqs = try SQSService(directory: dataDir, clock: clock, logger: logger)
        // S3 publishes event notifications to SQS and Lambda through Core's QueueEventSink and FunctionEventSink;
        // no service imports another. Lambda reads code from S3, so it is connected to S3 once it exists.
        let functionEvents = FunctionEventRelay()
        let s3 = try S3Service(directory: dataDir, clock: clock, logger: logger, postSecrets: postSecrets, queueEvents: sqs,
                               functionEvents: functionEvents)
        // Refuse to start with a key that cannot open this folder's secrets (the error says why).
        let masterKey = try MasterKey.load(folder: dataDir, environment: env["CLOUDLESS_MASTER_KEY"])
        let logs = try LogsService(directory: dataDir, clock: clock, logger: logger)
        let endpoint = ServerEndpoint()
        let supervisor = ProcessSupervisor()
        // Lambda's event source mappings read DynamoDB's streams through Core's StreamRecordSource.
        let dynamoDB = try DynamoDBService(directory: dataDir, clock: clock, logger: logger)
        let lambda = try LambdaService(directory: dataDir, clock: clock, endpoint: endpoint, logs: logs,
                                       supervisor: supervisor, objects: s3, queues: sqs, queueEvents: sqs, streams: dynamoDB,
                                       logger: logger)
        functionEvents.connect(lambda)
        // Load balancers run their `lambda` targets in Lambda (FunctionInvoker); ECS and CodeDeploy take `elbv2` as
        // their LoadBalancerTargets.
        let elbv2 = try ELBv2Service(directory: dataDir, clock: clock, functions: lambda, logger: logger)
        // Rotation functions run in Lambda.
        let secretsManager = try SecretsManagerService(
            directory: dataDir, clock: clock, masterKey: masterKey, rotator: lambda, logger: logger)
        // ECS tasks run under the same supervisor, read environment files from S3, write awslogs to CloudWatch Logs
        // and resolve their secrets in Secrets Manager.
        let ecs = try ECSService(directory: dataDir, clock: clock, endpoint: endpoint, logs: logs, supervisor: supervisor,
                                 objects: s3, images: ecsImages ?? env["CLOUDLESS_ECS_IMAGES"],
                                 roleCredentials: taskRoleCredentials, logger: logger)
        ecs.connect(secrets: secretsManager)
        // A service's `loadBalancers` register its tasks in ELBv2's target groups (LoadBalancerTargets).
        ecs.connect(loadBalancers: elbv2)
        // CodeDeploy reads revisions from S3, invokes hooks and shifts aliases in Lambda; in-place deployments run on
        // local folders through the local agent, under the same supervisor as Lambda and ECS.
        let codeDeploy = try CodeDeployService(directory: dataDir, clock: clock, objects: s3, functions: lambda, aliases: lambda,
                                               agent: .local(supervisor: supervisor, logger: logger), endpoint: endpoint, logger: logger)
        // ECS blue/green deployments drive the service's task sets in ECS and the listeners' weights in ELBv2.
        codeDeploy.connect(ecs: ecs, loadBalancers: elbv2)
        // Application Auto Scaling scales ECS services' desired counts through Core's ScalableResources.
        let appAutoScaling = try ApplicationAutoScalingService(directory: dataDir, resources: ecs, clock: clock, logger: logger)
        // API Gateway's Lambda integrations and authorizers run in Lambda (FunctionInvoker).
        let apiGateway = try APIGatewayService(directory: dataDir, clock: clock, functions: lambda, endpoint: endpoint, logger: logger)
        // CloudFormation drives each service's resource types through Core's ResourceProvider; no service imports another.
        let resourceProviders = ResourceProviders([
            sqs.resourceProvider(endpoint: endpoint), logs.resourceProvider, secretsManager.resourceProvider,
            iam.resourceProvider, s3.resourceProvider, lambda.resourceProvider, ecs.resourceProvider,
            appAutoScaling.resourceProvider, CodeDeployResources(service: codeDeploy), ELBv2Resources(service: elbv2),
            DynamoDBResources(service: dynamoDB),
            APIGatewayRestResources(service: apiGateway), APIGatewayHTTPResources(service: apiGateway),
        ])
        // TemplateURLs are read from S3 through Core's ObjectSource.
        // Custom resources invoke Lambda (FunctionEventSink), dynamic references read Secrets Manager (SecretResolver).
        let cloudFormation = try CloudFormationService(directory: dataDir, clock: clock, providers: resourceProviders,
                                                       objects: s3, functions: lambda, secrets: secretsManager,
                                                       endpoint: endpoint, aliasDeployments: codeDeploy, logger: logger)
        let services: [any AWSService] = [s3, sqs, secretsManager, lambda, logs, ecs, appAutoScaling, cloudFormation, codeDeploy,
                                          STSService(credentials: CredentialProviders([iam.credentials, taskRoleCredentials])), iam, elbv2,
                                          dynamoDB, apiGateway]
        var identification = ServiceIdentification()
        identification.queryVersions[STSService.apiVersion] = "sts"
        identification.queryVersions["2012-11-05"] = "sqs"
        identification.queryVersions[IAMService.apiVersion] = "iam"
        identification.queryVersions[CloudFormationService.apiVersion] = "cloudformation"
        identification.queryVersions[ELBv2Service.apiVersion] = "elasticloadbalancing"
        identification.pathPrefixes += LambdaService.pathPrefixes.map { ($0, "lambda") }
        identification.pathPrefixes += APIGatewayService.pathPrefixes.map { ($0, "apigateway") }
        let started = ContinuousClock.now
        // Fault rules from --faults, and the init hooks of --init-dir (a bad file or a missing folder stops the start).
        let faults = FaultInjector(services: Set(services.map(\.signingName)))
        if let file = faultsFile ?? env["CLOUDLESS_FAULTS"] {
            do { faults.replace(try FaultRule.parse(Data(contentsOf: URL(fileURLWithPath: file)), services: faults.services)) } catch {
                throw ValidationError("--faults \(file): \((error as? FaultRuleError)?.message ?? error.localizedDescription)")
            }
        }
        let hooks = try (initDir ?? env["CLOUDLESS_INIT_DIR"]).map { try InitHooks(directory: $0) }
        let hookCredentials = creds
        var internalEndpoints = InternalEndpoints(services: services, clock: clock, startedAt: started, commit: BuildInfo.commit,
                                                  faults: faults, initProgress: hooks?.progress ?? InitProgress())
        internalEndpoints.snapshots = SnapshotStore(folder: dataDir, gate: SnapshotGate(), participants: services.compactMap { $0 as? any SnapshotParticipant },
                                                    linkedFolders: [S3Service.snapshotFolder], version: InternalEndpoints.version,
                                                    servesBackgroundWork: true)
        var gateway = Gateway(
            services: services, identification: identification, auth: auth, clock: clock,
            internalEndpoints: internalEndpoints, logger: logger)
        // The console (/_cloudless/console/) and the request log it shows (/_cloudless/requests).
        gateway.requestLog = RequestLog()
        gateway.routes = [gateway.requestLog!, Console(strictAuth: strict, defaultAccount: account, defaultRegion: region),
                          elbv2.routes]
        let folder = dataDir
        let background = BackgroundScheduler(clock: clock, logger: logger)
        let app = HTTPServer.application(gateway: gateway, host: host, port: port, logger: logger, fastPaths: [elbv2.fastPath]) { bound in
            endpoint.set(host: host, port: bound)
            cloudFormation.serverListening()
            logger.notice("Cloudless \(InternalEndpoints.version) ready on http://\(host):\(bound) (data: \(folder)\(strict ? ", strict auth" : ""))")
            // Work an earlier run left resumes now, with no request (each step opens its database only if it exists):
            // ECS's tasks and services (requests to ECS wait for this load), SQS move tasks, Lambda's event source
            // pollers, CloudFormation's stacks in progress. A database that cannot be opened here is logged, and the
            // service answers 500 with the reason until it can be: the other services keep serving.
            ecs.startLeftoverScan()
            // The ECS scheduler starts once the port is known: tasks are given it in AWS_ENDPOINT_URL.
            Task {
                do { try await ecs.load() } catch { logger.error("ECS: cannot load the state an earlier run left: \(error)") }
                await ecs.startScheduler()
            }
            do { try sqs.resumeMoveTasks() } catch { logger.error("SQS: cannot resume message move tasks: \(error)") }
            do { try lambda.resumePollers() } catch { logger.error("Lambda: cannot resume event source mappings: \(error)") }
            cloudFormation.resumeStacks()
            codeDeploy.start()  // deployments a stop or a crash left unfinished resume
            // Event notifications a crash left in S3's outbox are delivered again (NotificationOutbox.swift).
            s3.startNotificationDelivery()
            await elbv2.start()  // listeners bind their ports, health checks begin
            hooks?.start(host: host, port: bound, credentials: hookCredentials, region: region, supervisor: supervisor, logger: logger)
            // Crash leftovers (renamed but never committed) are swept after the port is open: start stays fast.
            background.once(after: 0, "S3 orphaned blob sweep") {
                let removed = try s3.sweepOrphans(startedAt: startedAt)
                if removed > 0 { logger.notice("removed \(removed) orphaned blob files from an earlier crash") }
            }
        }
        // Periodic work, on one loop: on the emulator's clock unless said otherwise (POST /_cloudless/clock runs what
        // falls due at once).
        // Target tracking and scheduled actions. This one and the lifecycle sweep are paced by real time: tests move the
        // clock, then run them on demand, and a run woken by the move would race theirs.
        background.every(5, "Application Auto Scaling evaluation", pace: .wallClock) { _ = await appAutoScaling.evaluate() }
        // Secret deletions whose recovery window ended, due rotations.
        background.every(1, "Secrets Manager sweep") { _ = try await secretsManager.sweep() }
        background.every(60, "S3 lifecycle sweep", pace: .wallClock) { _ = try await s3.sweepLifecycle() }
        // Log events past their group's retention: reads already skip them; this frees their space.
        background.every(10, "CloudWatch Logs retention sweep") { try logs.sweep() }
        background.every(30, "Lambda idle instance reaper") { await lambda.reapIdleInstances() }
        background.every(5, "DynamoDB TTL sweep") { _ = try dynamoDB.sweepExpired() }
        let backgroundLoop = Task { await background.run() }
        defer { backgroundLoop.cancel() }
        // The services stay alive until an ephemeral folder is gone: a database closed (its service released) during
        // the removal deletes its -wal file under it, and the removal stops half way.
        defer { withExtendedLifetime((services, background)) { if ephemeral { try? FileManager.default.removeItem(atPath: folder) } } }
        // SIGTERM/SIGINT: stop accepting, let in-flight requests finish for a few seconds, then cancel them
        // (a client stuck mid-upload must not keep the process alive; its half object is discarded).
        var config = ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        config.maximumGracefulShutdownDuration = .seconds(3)
        config.maximumCancellationDuration = .seconds(2)
        defer { supervisor.killAll() }  // no function instance outlives the emulator
        try await ServiceGroup(configuration: config).run()
        s3.stopNotificationDelivery()  // delivered rows deleted now: a clean stop sends nothing twice
        backgroundLoop.cancel()
        await backgroundLoop.value  // no sweep still runs when the data folder is removed (--ephemeral)
        await elbv2.stop()
        await lambda.shutdown()
        await ecs.shutdown()
        await codeDeploy.shutdown()
    }
}
