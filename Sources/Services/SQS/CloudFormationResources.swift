import Core
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `AWS::SQS::Queue` and `AWS::SQS::QueuePolicy` for CloudFormation, over the same operations the API serves
/// (CreateQueue, SetQueueAttributes, TagQueue...), called in-process with an internal request.
public struct SQSResources: ResourceProvider {
    let service: SQSService
    /// The host queue URLs name (the emulator's own address once it is bound).
    let host: @Sendable () -> String

    public var resourceTypes: [String] { ["AWS::SQS::Queue", "AWS::SQS::QueuePolicy", "AWS::SQS::QueueInlinePolicy"] }

    public func createOnlyProperties(of type: String) -> Set<String> {
        switch type {
        case "AWS::SQS::Queue": return ["QueueName", "FifoQueue"]
        case "AWS::SQS::QueueInlinePolicy": return ["Queue"]
        default: return []
        }
    }

    /// Queue properties that are queue attributes, under the same name.
    static let attributeProperties = [
        "ContentBasedDeduplication", "DeduplicationScope", "DelaySeconds", "FifoThroughputLimit", "KmsDataKeyReusePeriodSeconds",
        "KmsMasterKeyId", "MaximumMessageSize", "MessageRetentionPeriod", "ReceiveMessageWaitTimeSeconds", "RedriveAllowPolicy",
        "RedrivePolicy", "SqsManagedSseEnabled", "VisibilityTimeout",
    ]
    /// Attributes cleared with an empty value when a template stops giving them.
    static let clearable: Set<String> = ["KmsMasterKeyId", "RedriveAllowPolicy", "RedrivePolicy"]

    public func create(_ request: ResourceRequest) async throws -> ResourceState {
        switch request.type {
        case "AWS::SQS::Queue": return try createQueue(request)
        case "AWS::SQS::QueuePolicy": return try putPolicy(request, previousQueues: [])
        case "AWS::SQS::QueueInlinePolicy": return try putInlinePolicy(request)
        default: throw Self.unsupported(request.type)
        }
    }

    public func update(_ request: ResourceRequest, previous: ResourceState) async throws -> ResourceState {
        switch request.type {
        case "AWS::SQS::Queue": return try updateQueue(request, previous: previous)
        case "AWS::SQS::QueuePolicy":
            let before = previous.attributes["Queues"]?.array?.compactMap(\.string) ?? []
            var state = try putPolicy(request, previousQueues: before)
            state.physicalId = previous.physicalId
            state.ref = previous.ref
            state.attributes["Id"] = .string(previous.physicalId)
            return state
        case "AWS::SQS::QueueInlinePolicy": return try putInlinePolicy(request)
        default: throw Self.unsupported(request.type)
        }
    }

    public func delete(_ request: ResourceRequest, state: ResourceState) async throws {
        switch request.type {
        case "AWS::SQS::Queue":
            do { _ = try service.deleteQueue(internalRequest(request), ["QueueUrl": state.physicalId]) } catch let e as AWSError
                where e.code == "QueueDoesNotExist" {}
        case "AWS::SQS::QueuePolicy":
            let queues = state.attributes["Queues"]?.array?.compactMap(\.string)
                ?? request.properties["Queues"]?.array?.compactMap(\.string) ?? []
            for url in queues { try clearPolicy(request, url) }
        case "AWS::SQS::QueueInlinePolicy": try clearPolicy(request, state.physicalId)
        default: throw Self.unsupported(request.type)
        }
    }

    public func currentProperties(_ request: ResourceRequest, state: ResourceState) async throws -> ResourceReading {
        if request.type == "AWS::SQS::QueueInlinePolicy" { return try currentInlinePolicy(request, state: state) }
        guard request.type == "AWS::SQS::Queue" else { return .notChecked }
        let r = internalRequest(request)
        let current: [String: String]
        do {
            current = service.sqsAttributes(try service.getQueueAttributes(r, ["QueueUrl": state.physicalId, "AttributeNames": ["All"]]))
        } catch let e as AWSError where e.code == "QueueDoesNotExist" { return .deleted }
        var out: [String: JSON] = ["QueueName": .string(state.attributes["QueueName"]?.string ?? "")]
        for name in Self.attributeProperties {
            guard let v = current[name], !v.isEmpty else { continue }
            if name.hasSuffix("Policy"), let data = v.data(using: .utf8), let doc = try? JSONDecoder().decode(JSON.self, from: data) {
                out[name] = doc
            } else {
                out[name] = .string(v)
            }
        }
        if current["FifoQueue"] == "true" { out["FifoQueue"] = .string("true") }
        let tags = (try service.listQueueTags(r, ["QueueUrl": state.physicalId])["Tags"] as? [String: String]) ?? [:]
        let own = tags.filter { !$0.key.hasPrefix("aws:") }.sorted { $0.key < $1.key }
        if !own.isEmpty { out["Tags"] = .array(own.map { .object(["Key": .string($0.key), "Value": .string($0.value)]) }) }
        return .properties(out)
    }

    // MARK: Queue

    func createQueue(_ request: ResourceRequest) throws -> ResourceState {
        let p = request.properties
        let fifo = try Self.bool(p["FifoQueue"], "FifoQueue") ?? false
        let name = try p["QueueName"].map { try Self.string($0, "QueueName") }
            ?? (fifo ? request.generatedName(limit: 75) + ".fifo" : request.generatedName(limit: 80))
        let r = internalRequest(request)
        if (try? service.getQueueUrl(r, ["QueueName": name])) != nil {
            throw AWSError("AlreadyExists", "Resource of type 'AWS::SQS::Queue' with identifier '\(name)' already exists.")
        }
        var attributes = try Self.attributes(p)
        if fifo { attributes["FifoQueue"] = "true" }
        let out = try service.createQueue(r, ["QueueName": name, "Attributes": attributes, "tags": try Self.tags(request)])
        guard let url = out["QueueUrl"] as? String else { throw AWSError.internalError() }
        return try state(r, url)
    }

    func updateQueue(_ request: ResourceRequest, previous: ResourceState) throws -> ResourceState {
        let r = internalRequest(request)
        let url = previous.physicalId
        var wanted = try Self.attributes(request.properties)
        let current = service.sqsAttributes(try service.getQueueAttributes(r, ["QueueUrl": url, "AttributeNames": ["All"]]))
        let fifo = current["FifoQueue"] == "true"
        // Properties the template no longer gives go back to their defaults.
        for name in Self.attributeProperties where wanted[name] == nil {
            if Self.clearable.contains(name) {
                if let v = current[name], !v.isEmpty { wanted[name] = "" }
            } else if let d = QueueAttributes.defaults[name] ?? (fifo ? QueueAttributes.fifoDefaults[name] : nil) {
                if name == "SqsManagedSseEnabled", wanted["KmsMasterKeyId"].map({ !$0.isEmpty }) == true { continue }
                if current[name] != d { wanted[name] = d }
            }
        }
        let changed = wanted.filter { current[$0.key] != $0.value }
        if !changed.isEmpty { _ = try service.setQueueAttributes(r, ["QueueUrl": url, "Attributes": changed]) }
        let tags = try Self.tags(request)
        let existing = (try service.listQueueTags(r, ["QueueUrl": url])["Tags"] as? [String: String]) ?? [:]
        let removed = existing.keys.filter { tags[$0] == nil }
        if !removed.isEmpty { _ = try service.untagQueue(r, ["QueueUrl": url, "TagKeys": Array(removed)]) }
        if !tags.isEmpty, tags != existing { _ = try service.tagQueue(r, ["QueueUrl": url, "Tags": tags]) }
        return try state(r, url)
    }

    func state(_ r: AWSRequest, _ url: String) throws -> ResourceState {
        let (_, name) = try QueueAddress.parse(url)
        let attrs = service.sqsAttributes(try service.getQueueAttributes(r, ["QueueUrl": url, "AttributeNames": ["QueueArn"]]))
        return ResourceState(physicalId: url, ref: url, attributes: [
            "Arn": .string(attrs["QueueArn"] ?? ""), "QueueName": .string(name), "QueueUrl": .string(url),
        ])
    }

    /// The attributes the properties give, as SetQueueAttributes takes them (policies as JSON text).
    static func attributes(_ p: [String: JSON]) throws -> [String: String] {
        var out: [String: String] = [:]
        for name in attributeProperties {
            guard let v = p[name], !v.isNull else { continue }
            out[name] = try attributeText(v, name)
        }
        return QueueAttributes.normalized(out)
    }

    static func attributeText(_ v: JSON, _ name: String) throws -> String {
        switch v {
        case .string(let s): return s
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return n == n.rounded() && abs(n) < 9e15 ? String(Int64(n)) : String(n)
        case .object(let o):
            return SQSService.json(o.mapValues(\.any))
        default: throw SQSError.invalidAttributeValue(name)
        }
    }

    static func string(_ v: JSON, _ name: String) throws -> String {
        guard let s = v.string else { throw SQSError.invalidParameterValue("Value for parameter \(name) is invalid.") }
        return s
    }

    static func bool(_ v: JSON?, _ name: String) throws -> Bool? {
        guard let v, !v.isNull else { return nil }
        if let b = v.bool { return b }
        if let s = v.string?.lowercased(), s == "true" || s == "false" { return s == "true" }
        throw SQSError.invalidAttributeValue(name)
    }

    /// The stack's tags and the resource's own `Tags` ([{Key, Value}]), the resource's winning.
    static func tags(_ request: ResourceRequest) throws -> [String: String] {
        var out = request.tags
        for tag in request.properties["Tags"]?.array ?? [] {
            guard let key = tag["Key"]?.string, let value = tag["Value"].map({ try? attributeText($0, "Tags") }) ?? nil else {
                throw SQSError.invalidParameterValue("Value for parameter Tags is invalid.")
            }
            out[key] = value
        }
        return out
    }

    // MARK: QueuePolicy

    func putPolicy(_ request: ResourceRequest, previousQueues: [String]) throws -> ResourceState {
        guard let queues = request.properties["Queues"]?.array, !queues.isEmpty else { throw SQSError.missingParameter("Queues") }
        let urls = try queues.map { try Self.string($0, "Queues") }
        guard let doc = request.properties["PolicyDocument"], !doc.isNull else { throw SQSError.missingParameter("PolicyDocument") }
        let policy = try Self.attributeText(doc, "Policy")
        let r = internalRequest(request)
        for url in urls { _ = try service.setQueueAttributes(r, ["QueueUrl": url, "Attributes": ["Policy": policy]]) }
        for url in previousQueues where !urls.contains(url) { try clearPolicy(request, url) }
        let id = request.generatedName()
        return ResourceState(physicalId: id, ref: id, attributes: ["Id": .string(id), "Queues": .array(urls.map { .string($0) })])
    }

    func clearPolicy(_ request: ResourceRequest, _ url: String) throws {
        do {
            _ = try service.setQueueAttributes(internalRequest(request), ["QueueUrl": url, "Attributes": ["Policy": ""]])
        } catch let e as AWSError where e.code == "QueueDoesNotExist" {}
    }

    // MARK: Support

    /// A request as the stack's account and region would send it; its host is the one queue URLs name.
    func internalRequest(_ request: ResourceRequest) -> AWSRequest {
        AWSRequest(method: .post, rawPath: "/", rawQuery: "", query: [], headers: HTTPFields(), host: host(),
                   body: RequestBody(buffer: ByteBuffer()),
                   caller: CallerIdentity(accountID: request.account, region: request.region, accessKeyID: nil),
                   requestID: UUID().uuidString)
    }

    static func unsupported(_ type: String) -> AWSError {
        AWSError("InvalidRequest", "Resource type \(type) is not served by SQS.")
    }
}

extension SQSService {
    /// The CloudFormation provider, naming queue URLs by `localhost:4566`.
    public var resourceProvider: SQSResources { SQSResources(service: self, host: { "localhost:4566" }) }

    /// The CloudFormation provider, naming queue URLs by the emulator's bound address.
    public func resourceProvider(endpoint: ServerEndpoint) -> SQSResources {
        SQSResources(service: self, host: {
            let url = endpoint.url
            return url.hasPrefix("http://") ? String(url.dropFirst(7)) : url
        })
    }

    func sqsAttributes(_ output: [String: Any]) -> [String: String] {
        output["Attributes"] as? [String: String] ?? [:]
    }
}
