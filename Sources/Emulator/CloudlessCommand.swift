import ArgumentParser
import BuildInfo
import Core
import Foundation


struct CloudlessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cloudless",
        abstract: "The AWS cloud in one small binary, for offline work.",
        discussion: """
            Cloudless serves, wire-compatible with AWS, on one port: S3, SQS, Secrets Manager, Lambda (handlers run \
            as local processes through the Lambda Runtime API), ECS (a real scheduler; tasks as local processes), \
            Application Auto Scaling, CloudFormation (with the SAM transform), IAM, STS and CloudWatch Logs. \
            Point boto3, the aws CLI, sam, s3cmd, rclone or restic at http://127.0.0.1:4566 with any credentials. \
            State lives in the data folder (SQLite and files) and survives restarts and kill -9. No Docker, no account.

            `cloudless` alone runs `cloudless serve`, whose options are (see `cloudless serve --help`):
              --host <host>            address to listen on (CLOUDLESS_HOST, default 127.0.0.1)
              --port <port>            port (CLOUDLESS_PORT, default 4566)
              --data-dir <path>        folder for all state (CLOUDLESS_DATA_DIR, default ./.cloudless)
              --ephemeral              temporary data folder removed at exit (CLOUDLESS_EPHEMERAL=1)
              --account-id <id>        default account (CLOUDLESS_ACCOUNT_ID, default 000000000000)
              --region <region>        default region (CLOUDLESS_REGION, default us-east-1)
              --log-level <level>      log level (CLOUDLESS_LOG_LEVEL, default info)
              --strict-auth            verify request signatures (CLOUDLESS_STRICT_AUTH=1)
              --credentials <k:s,...>  credentials for --strict-auth (CLOUDLESS_CREDENTIALS, default test:test)
              --ecs-images <file>      what ECS container images run as local processes (CLOUDLESS_ECS_IMAGES)
              --faults <file>          fault rules installed at start (CLOUDLESS_FAULTS)
              --init-dir <path>        scripts run once the server is ready (CLOUDLESS_INIT_DIR)
              --snapshot <name>        start from a saved snapshot (CLOUDLESS_SNAPSHOT)

            `cloudless snapshot save|restore|list|delete` talks to a running server (see `cloudless snapshot --help`).
            """,
        version: "cloudless \(InternalEndpoints.version) (commit \(BuildInfo.commit))",
        subcommands: [Serve.self, SnapshotCommand.self],
        defaultSubcommand: Serve.self)
}
