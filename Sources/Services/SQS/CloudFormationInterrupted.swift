import Core

extension SQSResources {
    /// After a crash between the queue's creation and the stack's record of it: find the queue by the name the
    /// create used (given, or generated from the request).
    public func interruptedCreate(_ request: ResourceRequest) async throws -> ResourceState? {
        guard request.type == "AWS::SQS::Queue" else { return nil }
        let p = request.properties
        let fifo = p["FifoQueue"]?.bool ?? (p["FifoQueue"]?.string == "true")
        let name = p["QueueName"]?.string ?? (fifo ? request.generatedName(limit: 75) + ".fifo" : request.generatedName(limit: 80))
        let r = internalRequest(request)
        guard let url = (try? service.getQueueUrl(r, ["QueueName": name]))?["QueueUrl"] as? String else { return nil }
        return try state(r, url)
    }
}
