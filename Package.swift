// swift-tools-version:6.2
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "cloudless",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "cloudless", targets: ["Emulator"]),
    ],
    dependencies: [
        // traits: [] leaves out swift-configuration and full Foundation support we do not use.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation.git", from: "0.9.20"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "5.0.1"),
    ],
    targets: [
        // The commit the binary is built from (`cloudless --version`), written at build time by the plugin.
        .plugin(name: "BuildInfoPlugin", capability: .buildTool(), exclude: ["write-commit.sh"]),
        .target(name: "BuildInfo", path: "Sources/BuildInfo", swiftSettings: strict, plugins: ["BuildInfoPlugin"]),
        // The console's pages (Sources/Console/assets), embedded into the binary by the plugin.
        .plugin(name: "ConsoleAssetsPlugin", capability: .buildTool(), exclude: ["embed-assets.sh"]),
        .target(name: "Console", dependencies: ["Core", .product(name: "Hummingbird", package: "hummingbird"),
                                                .product(name: "HTTPTypes", package: "swift-http-types"),
                                                .product(name: "NIOCore", package: "swift-nio")],
                path: "Sources/Console", exclude: ["assets"], swiftSettings: strict, plugins: ["ConsoleAssetsPlugin"]),
        // libcrypto (MD5/SHA/HMAC) and zlib (CRC32) from the system: seconds to build, unlike swift-crypto.
        .systemLibrary(
            name: "CCloudless",
            path: "Sources/CCloudless",
            providers: [.apt(["libssl-dev", "zlib1g-dev"])]
        ),
        // CRC-32 by carry-less multiplication (PCLMULQDQ intrinsics; Swift has no access to them), zlib's as fallback.
        .target(name: "CCRC32", path: "Sources/CCRC32"),
        .target(
            name: "Core",
            dependencies: [
                "CCloudless",
                "CCRC32",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
                // The request log's event stream ends on graceful shutdown (RequestLog.swift).
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/Core",
            swiftSettings: strict
        ),
        .target(
            name: "S3",
            dependencies: [
                "Core",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            path: "Sources/Services/S3",
            swiftSettings: strict
        ),
        .target(
            name: "SQS",
            dependencies: ["Core", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Logging", package: "swift-log")],
            path: "Sources/Services/SQS",
            swiftSettings: strict
        ),
        .target(
            name: "SecretsManager",
            dependencies: ["Core", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Logging", package: "swift-log")],
            path: "Sources/Services/SecretsManager",
            swiftSettings: strict
        ),
        .target(
            name: "IAM",
            dependencies: ["Core", .product(name: "GRDB", package: "GRDB.swift")],
            path: "Sources/Services/IAM",
            swiftSettings: strict
        ),
        .target(
            name: "Logs",
            dependencies: ["Core", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Logging", package: "swift-log")],
            path: "Sources/Services/Logs",
            swiftSettings: strict
        ),
        .target(
            name: "Lambda",
            dependencies: [
                "Core",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            path: "Sources/Services/Lambda",
            swiftSettings: strict
        ),
        .target(
            name: "ECS",
            dependencies: [
                "Core",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            path: "Sources/Services/ECS",
            swiftSettings: strict
        ),
        .target(
            name: "ApplicationAutoScaling",
            dependencies: ["Core", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Logging", package: "swift-log")],
            path: "Sources/Services/ApplicationAutoScaling",
            swiftSettings: strict
        ),
        .target(
            name: "CloudFormation",
            dependencies: [
                "Core",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            path: "Sources/Services/CloudFormation",
            swiftSettings: strict
        ),
        .target(
            name: "ELBv2",
            dependencies: [
                "Core",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
            ],
            path: "Sources/Services/ELBv2",
            swiftSettings: strict
        ),
        .target(
            name: "CodeDeploy",
            dependencies: [
                "Core",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            path: "Sources/Services/CodeDeploy",
            swiftSettings: strict
        ),
        .target(
            name: "DynamoDB",
            dependencies: [
                "Core",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Services/DynamoDB",
            swiftSettings: strict
        ),
        .target(
            name: "APIGateway",
            dependencies: [
                "Core",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
            ],
            path: "Sources/Services/APIGateway",
            swiftSettings: strict
        ),
        .target(
            name: "STS",
            dependencies: ["Core"],
            path: "Sources/Services/STS",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "Emulator",
            dependencies: [
                "APIGateway", "ApplicationAutoScaling", "BuildInfo", "CloudFormation", "CodeDeploy", "Console", "Core", "DynamoDB", "ECS", "ELBv2", "IAM", "Lambda", "Logs", "S3", "SQS", "SecretsManager", "STS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Emulator",
            swiftSettings: strict
        ),
        .testTarget(name: "CoreTests", dependencies: ["Core"], path: "Tests/CoreTests", swiftSettings: strict),
        .testTarget(name: "ConsoleTests", dependencies: ["Console", "Core"], path: "Tests/ConsoleTests", swiftSettings: strict),
        .testTarget(name: "SQSTests", dependencies: ["SQS", "Core"], path: "Tests/SQSTests", swiftSettings: strict),
        .testTarget(name: "SecretsManagerTests", dependencies: ["SecretsManager", "Core"], path: "Tests/SecretsManagerTests", swiftSettings: strict),
        .testTarget(name: "IAMTests", dependencies: ["IAM", "Core"], path: "Tests/IAMTests", swiftSettings: strict),
        .testTarget(name: "LambdaTests", dependencies: ["Lambda", "Core"], path: "Tests/LambdaTests", swiftSettings: strict),
        .testTarget(name: "LogsTests", dependencies: ["Logs", "Core"], path: "Tests/LogsTests", swiftSettings: strict),
        .testTarget(name: "ECSTests", dependencies: ["ECS", "Core"], path: "Tests/ECSTests", swiftSettings: strict),
        .testTarget(name: "ApplicationAutoScalingTests", dependencies: ["ApplicationAutoScaling", "Core"],
                    path: "Tests/ApplicationAutoScalingTests", swiftSettings: strict),
        .testTarget(name: "CloudFormationTests", dependencies: ["CloudFormation", "Core"],
                    path: "Tests/CloudFormationTests", swiftSettings: strict),
        .testTarget(name: "ELBv2Tests", dependencies: ["ELBv2", "Core"], path: "Tests/ELBv2Tests", swiftSettings: strict),
        .testTarget(name: "CodeDeployTests", dependencies: ["CodeDeploy", "Core"], path: "Tests/CodeDeployTests", swiftSettings: strict),
        .testTarget(name: "DynamoDBTests", dependencies: ["DynamoDB", "Core"], path: "Tests/DynamoDBTests", swiftSettings: strict),
        .testTarget(name: "APIGatewayTests", dependencies: ["APIGateway", "Core"], path: "Tests/APIGatewayTests", swiftSettings: strict),
        .testTarget(name: "S3Tests", dependencies: ["S3", "Core"], path: "Tests/S3Tests", swiftSettings: strict),
    ]
)
