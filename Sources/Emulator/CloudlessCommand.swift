import ArgumentParser
import Core
import Foundation

@main
struct CloudlessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cloudless",
        abstract: "The AWS cloud in one small binary, for offline work.",
        discussion: """
            Cloudless serves S3 and STS (more services to come) on one port, wire-compatible with AWS. \
            Point boto3, the aws CLI, s3cmd, rclone or restic at http://127.0.0.1:4566 with any credentials. \
            State lives in the data folder and survives restarts.
            """,
        version: InternalEndpoints.version,
        subcommands: [Serve.self],
        defaultSubcommand: Serve.self)
}
