import Core
import Foundation

/// `AWS::SQS::QueueInlinePolicy`: one queue's `Policy` attribute, set with SetQueueAttributes. Its physical id and
/// `Ref` are the queue's URL, as AWS documents; deleting it clears the attribute.
extension SQSResources {
    func putInlinePolicy(_ request: ResourceRequest) throws -> ResourceState {
        guard let queue = request.properties["Queue"], !queue.isNull else { throw SQSError.missingParameter("Queue") }
        let url = try Self.string(queue, "Queue")
        guard let doc = request.properties["PolicyDocument"], !doc.isNull else { throw SQSError.missingParameter("PolicyDocument") }
        let policy = try Self.attributeText(doc, "Policy")
        _ = try service.setQueueAttributes(internalRequest(request), ["QueueUrl": url, "Attributes": ["Policy": policy]])
        return ResourceState(physicalId: url, ref: url)
    }

    /// The queue's policy now, as the template writes it (`Queue`, `PolicyDocument` as an object).
    func currentInlinePolicy(_ request: ResourceRequest, state: ResourceState) throws -> ResourceReading {
        let current: [String: String]
        do {
            current = service.sqsAttributes(try service.getQueueAttributes(internalRequest(request),
                                                                           ["QueueUrl": state.physicalId, "AttributeNames": ["Policy"]]))
        } catch let e as AWSError where e.code == "QueueDoesNotExist" { return .deleted }
        guard let text = current["Policy"], !text.isEmpty else { return .deleted }
        let doc = (try? JSONDecoder().decode(JSON.self, from: Data(text.utf8))) ?? .string(text)
        return .properties(["Queue": .string(state.physicalId), "PolicyDocument": doc])
    }
}
