import Core
import Foundation

/// RegisterTaskDefinition's validation and the defaults AWS adds to what it stores.
enum TaskDefinitionRules {
    /// The request's document checked, with cpu/memory converted ("1 vCPU" → "1024", "2GB" → "2048"), the
    /// containers' defaults filled in, and `compatibilities` / `requiresAttributes` computed.
    static func normalize(_ request: [String: JSON]) throws -> [String: JSON] {
        var doc = request
        guard let containers = doc["containerDefinitions"]?.array, !containers.isEmpty else {
            throw ECSError.client("Container list cannot be empty.")
        }
        let requires = doc["requiresCompatibilities"]?.array?.compactMap(\.string) ?? []
        for c in requires where !["EC2", "FARGATE", "EXTERNAL", "MANAGED_INSTANCES"].contains(c) {
            throw ECSError.validation(c, at: "requiresCompatibilities", "Member must satisfy enum value set: [EC2, FARGATE, EXTERNAL, MANAGED_INSTANCES]")
        }
        let networkMode = doc["networkMode"]?.string
        if let networkMode, !["bridge", "host", "awsvpc", "none"].contains(networkMode) {
            throw ECSError.validation(networkMode, at: "networkMode", "Member must satisfy enum value set: [bridge, host, awsvpc, none]")
        }
        if let cpu = doc["cpu"]?.string {
            guard let units = cpuUnits(cpu) else { throw ECSError.client("Invalid 'cpu' setting for task.") }
            doc["cpu"] = .string(String(units))
        }
        if let memory = doc["memory"]?.string {
            guard let mib = memoryMiB(memory) else { throw ECSError.client("Invalid 'memory' setting for task.") }
            doc["memory"] = .string(String(mib))
        }
        let fargate = requires.contains("FARGATE")
        if fargate {
            guard networkMode == "awsvpc" else { throw ECSError.client("Fargate only supports network mode ‘awsvpc’.") }
            guard let cpu = doc["cpu"]?.string.flatMap(Int.init) else {
                throw ECSError.client("Fargate requires that 'cpu' be defined at the task level.")
            }
            guard let memory = doc["memory"]?.string.flatMap(Int.init) else {
                throw ECSError.client("Fargate requires that 'memory' be defined at the task level.")
            }
            guard fargateSizeIsValid(cpu: cpu, memory: memory) else {
                throw ECSError.client("No Fargate configuration exists for given values: \(cpu) CPU, \(memory) memory. See the Amazon ECS documentation for the valid values.")
            }
        }
        var names = Set<String>()
        var normalized: [JSON] = []
        var attributes: [String] = []
        for c in containers {
            guard var object = c.object else { throw Input.wrongType("containerDefinitions") }
            guard let name = object["name"]?.string, !name.isEmpty else {
                throw ECSError.client("Container.name should not be null or empty.")
            }
            guard name.count <= 255, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
                throw ECSError.client("Container name must contain only letters, numbers, hyphens, and underscores, and be at most 255 characters.")
            }
            guard names.insert(name).inserted else {
                throw ECSError.client("Container names must be unique within a task definition.")
            }
            guard object["image"]?.string?.isEmpty == false else {
                throw ECSError.client("Container.image should not be null or empty.")
            }
            if doc["memory"] == nil && object["memory"] == nil && object["memoryReservation"] == nil {
                throw ECSError.client("Invalid setting for container '\(name)'. At least one of 'memory' or 'memoryReservation' must be specified.")
            }
            if let hard = object["memory"]?.int, let soft = object["memoryReservation"]?.int, soft > hard {
                throw ECSError.client("Invalid setting for container '\(name)'. The 'memoryReservation' value must be less than the 'memory' value.")
            }
            if object["cpu"] == nil { object["cpu"] = .number(0) }
            if object["essential"] == nil { object["essential"] = .bool(true) }
            for key in ["environment", "mountPoints", "volumesFrom", "systemControls"] where object[key] == nil {
                object[key] = .array([])
            }
            var mappings: [JSON] = []
            for m in object["portMappings"]?.array ?? [] {
                guard var mapping = m.object else { throw Input.wrongType("portMappings") }
                guard let port = mapping["containerPort"]?.int else {
                    throw ECSError.client("Invalid setting for container '\(name)'. containerPort must be specified.")
                }
                if networkMode == "awsvpc" || networkMode == "host" {
                    if let host = mapping["hostPort"]?.int, host != port {
                        throw ECSError.client("When networkMode=\(networkMode!), the host ports must either be undefined or equal to the container port values.")
                    }
                    mapping["hostPort"] = .number(Double(port))
                }
                if mapping["protocol"] == nil { mapping["protocol"] = .string("tcp") }
                mappings.append(.object(mapping))
            }
            object["portMappings"] = .array(mappings)
            if let log = object["logConfiguration"]?.object {
                guard let driver = log["logDriver"]?.string else {
                    throw ECSError.client("Invalid setting for container '\(name)'. logDriver must be specified.")
                }
                if driver == "awslogs" {
                    attributes.append("com.amazonaws.ecs.capability.logging-driver.awslogs")
                    attributes.append("ecs.capability.execution-role-awslogs")
                    if fargate && doc["executionRoleArn"] == nil {
                        throw ECSError.client("Fargate requires task definition to have execution role ARN to support log driver awslogs.")
                    }
                }
            }
            if let secrets = object["secrets"]?.array, !secrets.isEmpty {
                attributes.append("ecs.capability.secrets.asm.environment-variables")
                if doc["executionRoleArn"] == nil {
                    throw ECSError.client("When you are specifying container secrets, you must also specify a value for 'executionRoleArn'.")
                }
            }
            if object["healthCheck"] != nil {
                guard object["healthCheck"]?["command"]?.array?.isEmpty == false else {
                    throw ECSError.client("Invalid setting for container '\(name)'. healthCheck command must be specified.")
                }
                attributes.append("ecs.capability.container-health-check")
            }
            if object["dependsOn"] != nil { attributes.append("ecs.capability.container-ordering") }
            normalized.append(.object(object))
        }
        // Every dependency names a container of this task definition.
        for c in normalized {
            for d in c["dependsOn"]?.array ?? [] {
                guard let target = d["containerName"]?.string, names.contains(target) else {
                    throw ECSError.client("Container \(c["name"]?.string ?? "") depends on a container that is not in the task definition.")
                }
                guard let condition = d["condition"]?.string, ["START", "COMPLETE", "SUCCESS", "HEALTHY"].contains(condition) else {
                    throw ECSError.client("Invalid condition in dependsOn of container \(c["name"]?.string ?? "").")
                }
            }
        }
        doc["containerDefinitions"] = .array(normalized)
        if doc["volumes"] == nil { doc["volumes"] = .array([]) }
        if doc["placementConstraints"] == nil { doc["placementConstraints"] = .array([]) }
        if doc["networkMode"] == nil { doc["networkMode"] = .string("bridge") }
        if doc["executionRoleArn"] != nil { attributes.append("ecs.capability.execution-role-ecr-pull") }
        if networkMode == "awsvpc" { attributes.append("ecs.capability.task-eni") }
        attributes.append("com.amazonaws.ecs.capability.docker-remote-api.1.18")
        var seen = Set<String>()
        doc["requiresAttributes"] = .array(attributes.filter { seen.insert($0).inserted }.map { .object(["name": .string($0)]) })
        var compatibilities: [JSON] = [.string("EC2")]
        if networkMode == "awsvpc", let cpu = doc["cpu"]?.string.flatMap(Int.init), let mem = doc["memory"]?.string.flatMap(Int.init),
           fargateSizeIsValid(cpu: cpu, memory: mem) {
            compatibilities.append(.string("FARGATE"))
        }
        doc["compatibilities"] = .array(compatibilities)
        return doc
    }

    /// "256", "1 vCPU", "0.5 vcpu" → CPU units.
    static func cpuUnits(_ s: String) -> Int? {
        let t = s.trimmingCharacters(in: .whitespaces).lowercased()
        if let n = Int(t), n > 0 { return n }
        for suffix in ["vcpu", "cpu"] where t.hasSuffix(suffix) {
            guard let v = Double(t.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), v > 0 else { return nil }
            return Int((v * 1024).rounded())
        }
        return nil
    }

    /// "512", "2GB", "0.5 GB", "1024 MiB" → MiB.
    static func memoryMiB(_ s: String) -> Int? {
        let t = s.trimmingCharacters(in: .whitespaces).lowercased()
        if let n = Int(t), n > 0 { return n }
        for (suffix, factor) in [("gib", 1024.0), ("gb", 1024.0), ("mib", 1.0), ("mb", 1.0)] where t.hasSuffix(suffix) {
            guard let v = Double(t.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), v > 0 else { return nil }
            return Int((v * factor).rounded())
        }
        return nil
    }

    /// AWS's Fargate task sizes: each CPU value allows a range of memory in fixed steps.
    static func fargateSizeIsValid(cpu: Int, memory: Int) -> Bool {
        switch cpu {
        case 256: return [512, 1024, 2048].contains(memory)
        case 512: return (1024...4096).contains(memory) && memory % 1024 == 0
        case 1024: return (2048...8192).contains(memory) && memory % 1024 == 0
        case 2048: return (4096...16384).contains(memory) && memory % 1024 == 0
        case 4096: return (8192...30720).contains(memory) && memory % 1024 == 0
        case 8192: return (16384...61440).contains(memory) && memory % 4096 == 0
        case 16384: return (32768...122880).contains(memory) && memory % 8192 == 0
        default: return false
        }
    }
}

/// What the scheduler reads of a container definition to run it.
struct ContainerSpec: Decodable, Sendable {
    struct PortMapping: Decodable, Sendable {
        var containerPort: Int?
        var hostPort: Int?
        var `protocol`: String?
    }
    struct Secret: Decodable, Sendable {
        var name: String
        var valueFrom: String
    }
    struct EnvironmentFile: Decodable, Sendable {
        var value: String
        var type: String
    }
    struct HealthCheck: Decodable, Sendable {
        var command: [String]
        var interval: Int?
        var timeout: Int?
        var retries: Int?
        var startPeriod: Int?
    }
    struct Dependency: Decodable, Sendable {
        var containerName: String
        var condition: String
    }
    struct Ulimit: Decodable, Sendable {
        var name: String
        var softLimit: Int
        var hardLimit: Int
    }
    struct LogConfiguration: Decodable, Sendable {
        var logDriver: String
        var options: [String: String]?
    }

    var name: String
    var image: String
    var cpu: Int?
    var memory: Int?
    var memoryReservation: Int?
    var essential: Bool?
    var entryPoint: [String]?
    var command: [String]?
    var environment: [KeyValuePair]?
    var environmentFiles: [EnvironmentFile]?
    var secrets: [Secret]?
    var portMappings: [PortMapping]?
    var dependsOn: [Dependency]?
    var startTimeout: Int?
    var stopTimeout: Int?
    var workingDirectory: String?
    var user: String?
    var dockerLabels: [String: String]?
    var logConfiguration: LogConfiguration?
    var healthCheck: HealthCheck?
    var ulimits: [Ulimit]?

    var isEssential: Bool { essential ?? true }
}
