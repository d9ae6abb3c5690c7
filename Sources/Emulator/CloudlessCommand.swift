import ArgumentParser
import Core
import Foundation


struct CloudlessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cloudless",
        abstract: "The AWS cloud in one small binary, for offline work.",
        discussion: """
            Cloudless serves S3 and STS (more services to come) on one port, wire-compatible with AWS. \
            Point boto3, the aws CLI, s3cmd, rclone or restic at http://127.0.0.1:4566 with any credentials. \
            State lives in the data folder and survives restarts.

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
            """,
        version: InternalEndpoints.version,
        subcommands: [Serve.self],
        defaultSubcommand: Serve.self)
}
