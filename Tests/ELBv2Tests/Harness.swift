import Core
import Foundation
import Logging
@testable import ELBv2

/// No function runs in these tests.
struct NoFunctions: FunctionInvoker {
    func invoke(functionARN: String, payload: [UInt8], from principal: ServicePrincipal) async throws -> FunctionInvocationResult {
        throw AWSError("ResourceNotFoundException", "Function not found: \(functionARN)", status: .notFound)
    }
}

/// A service in a folder of its own, and Query calls to it.
struct Harness {
    let folder = NSTemporaryDirectory() + "elbv2-tests-" + UUID().uuidString
    let clock = EmulatorClock()
    let service: ELBv2Service
    let caller: ELBv2Service.Caller

    init() throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        service = try ELBv2Service(directory: folder, clock: clock, functions: NoFunctions(), logger: Logger(label: "test"))
        caller = ELBv2Service.Caller(account: "123456789012", region: "us-east-1", now: clock.now())
    }

    @discardableResult
    func call(_ action: String, _ parameters: [String: String]) throws -> String {
        var xml = XMLWriter(declaration: false)
        try service.perform(action, ELBv2Input(parameters), caller)?(&xml)
        return String(buffer: xml.buffer)
    }

    /// The text of the first `<name>` element of `xml`.
    static func value(_ name: String, in xml: String) -> String? {
        guard let start = xml.range(of: "<\(name)>"), let end = xml.range(of: "</\(name)>", range: start.upperBound..<xml.endIndex) else { return nil }
        return String(xml[start.upperBound..<end.lowerBound])
    }

    /// A load balancer, a target group on `port` and an HTTP listener forwarding to it: (listener ARN, target group ARN).
    func forwarding(port: Int, name: String = "web", interval: Int = 10) throws -> (String, String) {
        let lb = Self.value("LoadBalancerArn", in: try call("CreateLoadBalancer", ["Name": name]))!
        let tg = Self.value("TargetGroupArn", in: try call("CreateTargetGroup", [
            "Name": name, "Protocol": "HTTP", "Port": String(port), "TargetType": "ip", "HealthCheckIntervalSeconds": String(interval),
            "HealthCheckTimeoutSeconds": "2", "UnhealthyThresholdCount": "2", "HealthyThresholdCount": "2"]))!
        let listener = Self.value("ListenerArn", in: try call("CreateListener", [
            "LoadBalancerArn": lb, "Protocol": "HTTP", "Port": "8080", "DefaultActions.member.1.Type": "forward",
            "DefaultActions.member.1.TargetGroupArn": tg]))!
        return (listener, tg)
    }
}
