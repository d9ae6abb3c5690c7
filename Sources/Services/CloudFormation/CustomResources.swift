import Core
import Foundation

/// `Custom::<Name>` and `AWS::CloudFormation::CustomResource` backed by a Lambda `ServiceToken`: each Create, Update
/// and Delete is an asynchronous invocation of the function with AWS's request document; the function PUTs its answer
/// (`Status`, `Reason`, `PhysicalResourceId`, `Data`, `NoEcho`) to the request's presigned-style `ResponseURL`, and
/// the operation waits for it at most `ServiceTimeout` seconds (3600 by default) on the emulator's clock.
struct CustomResourceProvider: ResourceProvider {
    static let type = "AWS::CloudFormation::CustomResource"
    static let defaultTimeout = 3600.0

    let links: EngineLinks
    let clock: EmulatorClock

    var resourceTypes: [String] { [Self.type] }
    func createOnlyProperties(of type: String) -> Set<String> { [] }

    func create(_ request: ResourceRequest) async throws -> ResourceState {
        let answer = try await send("Create", request, physicalId: nil)
        if let failure = answer.failure {
            // The stack keeps the physical id the function gave: its rollback (or delete) sends it a Delete.
            guard let id = answer.physicalId else { throw CFNError.validation(failure) }
            throw FailedCreation(message: failure, state: ResourceState(physicalId: id))
        }
        guard let id = answer.physicalId else {
            throw CFNError.validation("Invalid PhysicalResourceId")
        }
        return ResourceState(physicalId: id, attributes: answer.attributes)
    }

    func update(_ request: ResourceRequest, previous: ResourceState) async throws -> ResourceState {
        if let old = request.previousProperties?["ServiceToken"], old != request.properties["ServiceToken"] {
            throw RefusedUnchanged(message: "Modifying service token is not allowed.")
        }
        let answer = try await send("Update", request, physicalId: previous.physicalId)
        if let failure = answer.failure { throw CFNError.validation(failure) }
        // A different physical id is a replacement: the old one gets a Delete in the cleanup phase.
        return ResourceState(physicalId: answer.physicalId ?? previous.physicalId, attributes: answer.attributes)
    }

    func delete(_ request: ResourceRequest, state: ResourceState) async throws {
        let answer = try await send("Delete", request, physicalId: state.physicalId)
        if let failure = answer.failure { throw CFNError.validation(failure) }
    }

    struct Answer {
        var physicalId: String?
        var data: [String: JSON]
        /// The status reason of a FAILED answer.
        var failure: String?
        var noEcho = false

        /// What Fn::GetAtt reads: Data, and the NoEcho mark.
        var attributes: [String: JSON] {
            var a = data
            if noEcho { a[CustomResourceProvider.noEchoMark] = .bool(true) }
            return a
        }
    }

    /// Kept among the attributes of a resource whose function answered `NoEcho: true`.
    static let noEchoMark = "Cloudless::NoEcho"

    /// The outputs DescribeStacks shows as `****`: those reading (Fn::GetAtt, or `${Res.Attr}` in Fn::Sub) a custom
    /// resource whose function answered NoEcho.
    static func maskedOutputs(_ s: Stack, _ t: Template?) -> Set<String> {
        let hidden = Set(s.resources.values.filter { $0.state?.attributes[noEchoMark] == .bool(true) }.map(\.logicalId))
        guard !hidden.isEmpty, let t else { return [] }
        func reads(_ v: JSON) -> Bool {
            switch v {
            case .object(let o):
                if let a = o["Fn::GetAtt"], o.count == 1 {
                    let name = a.array?.first?.string ?? a.string.map { String($0.prefix { $0 != "." }) }
                    return name.map(hidden.contains) ?? false
                }
                if let sub = o["Fn::Sub"], o.count == 1, let text = sub.string ?? sub.array?.first?.string,
                   Template.subVariables(text).contains(where: { v in hidden.contains { v.hasPrefix($0 + ".") } }) {
                    return true
                }
                return o.values.contains(where: reads)
            case .array(let a): return a.contains(where: reads)
            default: return false
            }
        }
        return Set(t.outputs.values.filter { reads($0.value) }.map(\.name))
    }

    /// AWS passes every scalar of ResourceProperties as a string (`5` arrives as `"5"`, `true` as `"true"`).
    static func stringified(_ v: JSON) -> JSON {
        switch v {
        case .object(let o): return .object(o.mapValues(stringified))
        case .array(let a): return .array(a.map(stringified))
        case .null: return .null
        default: return Template.text(v).map(JSON.string) ?? v
        }
    }

    /// The request document AWS sends a custom resource's function.
    static func document(_ requestType: String, _ request: ResourceRequest, requestId: String, responseURL: String,
                         physicalId: String?) -> JSON {
        var doc: [String: JSON] = [
            "RequestType": .string(requestType),
            "ServiceToken": request.properties["ServiceToken"] ?? .null,
            "ResponseURL": .string(responseURL),
            "StackId": .string(request.stackId),
            "RequestId": .string(requestId),
            "LogicalResourceId": .string(request.logicalId),
            "ResourceType": .string(request.type),
            "ResourceProperties": stringified(.object(request.properties)),
        ]
        if let physicalId { doc["PhysicalResourceId"] = .string(physicalId) }
        if requestType == "Update", let old = request.previousProperties {
            doc["OldResourceProperties"] = stringified(.object(old))
        }
        return .object(doc)
    }

    static func timeout(_ properties: [String: JSON]) throws -> Double {
        guard let v = properties["ServiceTimeout"] else { return defaultTimeout }
        guard let text = Template.text(v), let seconds = Int(text), (1...3600).contains(seconds) else {
            throw CFNError.validation("ServiceTimeout must be an integer between 1 and 3600")
        }
        return Double(seconds)
    }

    func send(_ requestType: String, _ request: ResourceRequest, physicalId: String?) async throws -> Answer {
        guard let token = request.properties["ServiceToken"].flatMap(Template.text), !token.isEmpty else {
            throw CFNError.validation("Property ServiceToken cannot be empty")
        }
        let timeout = try Self.timeout(request.properties)
        guard token.hasPrefix("arn:"), token.split(separator: ":")[safe: 2] == "lambda" else {
            throw CFNError.validation("Invalid service token \(token): Cloudless serves Lambda function ARNs as service tokens")
        }
        guard let functions = links.functions, functions.acceptsEvents(functionARN: token) else {
            throw CFNError.validation("Function not found: \(token)")
        }
        let requestId = UUID().uuidString.lowercased()
        let key = "\(request.stackId)|\(request.logicalId)|\(requestId)"
        let url = links.callbacks.url(key: key, region: request.region, now: clock.now())
        let doc = Self.document(requestType, request, requestId: requestId, responseURL: url, physicalId: physicalId)
        try functions.invokeAsync(functionARN: token, payload: Array(try JSONEncoder().encode(doc)), from: .cloudFormation)
        defer { links.callbacks.forget(key) }
        let deadline = clock.now() + timeout
        while clock.now() < deadline {
            if let body = links.callbacks.take(key) {
                return try Self.answer(body, requestId: requestId, physicalId: physicalId)
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw CFNError.validation("CloudFormation did not receive a response from your Custom Resource. Please check your logs for requestId [\(requestId)]. If you are using the Python cfn-response module, you may need to update your Lambda function code so that CloudFormation can attach the updated version.")
    }

    /// The function's answer read as AWS reads it: FAILED (or anything but SUCCESS) fails the operation with its Reason.
    static func answer(_ body: [UInt8], requestId: String, physicalId: String?) throws -> Answer {
        // AWS's limit on the whole response object.
        guard body.count <= 4096 else { throw CFNError.validation("Response object is too long.") }
        guard let doc = try? JSONDecoder().decode(JSON.self, from: Data(body)), let o = doc.object else {
            throw CFNError.validation("Invalid response object: the response is not valid JSON (RequestId: \(requestId))")
        }
        let status = o["Status"].flatMap(Template.text) ?? ""
        let reason = o["Reason"].flatMap(Template.text)
        guard status == "SUCCESS" || status == "FAILED" else {
            throw CFNError.validation("Invalid response object: Status must be SUCCESS or FAILED (RequestId: \(requestId))")
        }
        let id = o["PhysicalResourceId"].flatMap(Template.text).flatMap { $0.isEmpty ? nil : $0 } ?? physicalId
        let failure = status == "FAILED"
            ? "Received response status [FAILED] from custom resource. Message returned: \(reason ?? "") (RequestId: \(requestId))" : nil
        let noEcho = o["NoEcho"].flatMap(Template.text)?.lowercased() == "true"
        return Answer(physicalId: id, data: o["Data"]?.object ?? [:], failure: failure, noEcho: noEcho)
    }
}

/// A Create the function answered FAILED, with the physical id it gave (StackEngine keeps it on the resource).
/// An update refused before anything was sent or changed: the rollback has nothing to undo for it.
struct RefusedUnchanged: Error {
    var message: String
}

struct FailedCreation: Error {
    var message: String
    var state: ResourceState
}

extension Array {
    subscript(safe i: Int) -> Element? { indices.contains(i) ? self[i] : nil }
}
