import Core
import Foundation

/// The configuration blocks Lambda stores and returns as given (tracing, image, logging, SnapStart, VPC, KMS key,
/// file systems): Cloudless does not act on most of them, but every tool reading them back sees what it set.
/// All optional so documents written before they existed still decode.
struct FunctionSettings: Codable, Sendable, Equatable {
    var TracingMode: String?
    var ImageEntryPoint: [String]?
    var ImageCommand: [String]?
    var ImageWorkingDirectory: String?
    var LogFormat: String?
    var ApplicationLogLevel: String?
    var SystemLogLevel: String?
    var LogGroup: String?
    var SnapStartApplyOn: String?
    var SubnetIds: [String]?
    var SecurityGroupIds: [String]?
    var Ipv6AllowedForDualStack: Bool?
    var KMSKeyArn: String?
    var FileSystemConfigs: [[String: String]]?

    static let applicationLogLevels = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"]
    static let systemLogLevels = ["DEBUG", "INFO", "WARN"]

    /// Apply the blocks a CreateFunction / UpdateFunctionConfiguration input names; a block given replaces the stored one
    /// (LoggingConfig: member by member, as Lambda merges it).
    mutating func apply(_ input: [String: Any]) throws {
        if let t = input["TracingConfig"] as? [String: Any], let mode = t["Mode"] as? String {
            try Self.oneOf(mode, ["Active", "PassThrough"], "tracingConfig.mode")
            TracingMode = mode
        }
        if let i = input["ImageConfig"] as? [String: Any] {
            ImageEntryPoint = i["EntryPoint"] as? [String]
            ImageCommand = i["Command"] as? [String]
            ImageWorkingDirectory = i["WorkingDirectory"] as? String
        }
        if let l = input["LoggingConfig"] as? [String: Any] {
            if let f = l["LogFormat"] as? String {
                try Self.oneOf(f, ["JSON", "Text"], "loggingConfig.logFormat")
                LogFormat = f
            }
            if let a = l["ApplicationLogLevel"] as? String {
                try Self.oneOf(a, Self.applicationLogLevels, "loggingConfig.applicationLogLevel")
                ApplicationLogLevel = a
            }
            if let s = l["SystemLogLevel"] as? String {
                try Self.oneOf(s, Self.systemLogLevels, "loggingConfig.systemLogLevel")
                SystemLogLevel = s
            }
            if let g = l["LogGroup"] as? String { LogGroup = g.isEmpty ? nil : g }
            if isJSONLogs {
                // JSON logs have levels: INFO unless given.
                ApplicationLogLevel = ApplicationLogLevel ?? "INFO"
                SystemLogLevel = SystemLogLevel ?? "INFO"
            } else {
                (ApplicationLogLevel, SystemLogLevel) = (nil, nil)
            }
        }
        if let s = input["SnapStart"] as? [String: Any], let applyOn = s["ApplyOn"] as? String {
            try Self.oneOf(applyOn, ["PublishedVersions", "None"], "snapStart.applyOn")
            SnapStartApplyOn = applyOn
        }
        if let v = input["VpcConfig"] as? [String: Any] {
            SubnetIds = v["SubnetIds"] as? [String] ?? []
            SecurityGroupIds = v["SecurityGroupIds"] as? [String] ?? []
            Ipv6AllowedForDualStack = v["Ipv6AllowedForDualStack"] as? Bool ?? false
        }
        if let k = input["KMSKeyArn"] as? String { KMSKeyArn = k.isEmpty ? nil : k }
        if let fs = input["FileSystemConfigs"] as? [[String: Any]] {
            FileSystemConfigs = try fs.map { c in
                guard let arn = c["Arn"] as? String, let path = c["LocalMountPath"] as? String else {
                    throw LambdaError.invalid("FileSystemConfigs require an Arn and a LocalMountPath.")
                }
                guard path.hasPrefix("/mnt/") else {
                    throw LambdaError.validation(path, "fileSystemConfigs.1.member.localMountPath", "Member must satisfy regular expression pattern: /mnt/[a-zA-Z0-9-_.]+")
                }
                return ["Arn": arn, "LocalMountPath": path]
            }
        }
    }

    var isJSONLogs: Bool { LogFormat == "JSON" }

    static func oneOf(_ value: String, _ allowed: [String], _ field: String) throws {
        guard allowed.contains(value) else {
            throw LambdaError.validation(value, field, "Member must satisfy enum value set: [\(allowed.joined(separator: ", "))]")
        }
    }

    /// The blocks in the API shape of a configuration (`published`: a version, where SnapStart has been applied).
    func write(into out: inout [String: Any], functionName: String, packageType: String, published: Bool) {
        out["TracingConfig"] = ["Mode": TracingMode ?? "PassThrough"]
        var logging: [String: Any] = ["LogFormat": LogFormat ?? "Text", "LogGroup": LogGroup ?? "/aws/lambda/\(functionName)"]
        if isJSONLogs {
            logging["ApplicationLogLevel"] = ApplicationLogLevel ?? "INFO"
            logging["SystemLogLevel"] = SystemLogLevel ?? "INFO"
        }
        out["LoggingConfig"] = logging
        let applyOn = SnapStartApplyOn ?? "None"
        out["SnapStart"] = ["ApplyOn": applyOn, "OptimizationStatus": published && applyOn == "PublishedVersions" ? "On" : "Off"]
        if packageType == "Image", ImageEntryPoint != nil || ImageCommand != nil || ImageWorkingDirectory != nil {
            var image: [String: Any] = [:]
            if let e = ImageEntryPoint { image["EntryPoint"] = e }
            if let c = ImageCommand { image["Command"] = c }
            if let w = ImageWorkingDirectory { image["WorkingDirectory"] = w }
            out["ImageConfigResponse"] = ["ImageConfig": image]
        }
        if let subnets = SubnetIds {
            // No EC2 here to find the subnets' VPC: VpcId stays empty, as Lambda shows it for a function without subnets.
            out["VpcConfig"] = ["SubnetIds": subnets, "SecurityGroupIds": SecurityGroupIds ?? [],
                                "Ipv6AllowedForDualStack": Ipv6AllowedForDualStack ?? false, "VpcId": ""]
        }
        if let k = KMSKeyArn { out["KMSKeyArn"] = k }
        if let fs = FileSystemConfigs, !fs.isEmpty { out["FileSystemConfigs"] = fs }
    }

    /// The runtime's version ARN (`arn:aws:lambda:<region>::runtime:<digest>`): one per runtime name, stable across calls.
    static func runtimeVersionArn(runtime: String, region: String) -> String {
        "arn:aws:lambda:\(region)::runtime:" + Hex.encode(SHA256.hash(Array(runtime.utf8)))
    }
}

extension FunctionConfig {
    /// Where the function's logs go: LoggingConfig.LogGroup, else `/aws/lambda/<name>`.
    var logGroup: String { Settings?.LogGroup ?? "/aws/lambda/\(FunctionName)" }

    /// Whether Lambda's own (system) events at `level` are written: SystemLogLevel filters them with JSON logs.
    func writesSystemEvent(level: String) -> Bool {
        guard let s = Settings, s.isJSONLogs else { return true }
        let order = FunctionSettings.systemLogLevels
        return (order.firstIndex(of: level) ?? 0) >= (order.firstIndex(of: s.SystemLogLevel ?? "INFO") ?? 1)
    }
}
