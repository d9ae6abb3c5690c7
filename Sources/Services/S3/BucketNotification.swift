import Core
import Foundation
import HTTPTypes

extension S3Service {
    /// PUT /bucket?notification: replace the configuration (an empty document removes it). The document is
    /// checked first; then, unless `x-amz-skip-destination-validation: true`, every destination must exist,
    /// and each queue gets an `s3:TestEvent` once the configuration is stored.
    func putBucketNotificationConfiguration(_ ctx: BucketContext) async throws -> AWSResponse {
        let r = ctx.request
        let bucket = try await ownedBucket(ctx.bucket, r)
        let body = try await r.collectBody(limit: 1 << 20)
        var config = try NotificationConfiguration.parse(Array(body.readableBytesView))
        try config.validate(bucketRegion: bucket.region)
        let validate = r.header("x-amz-skip-destination-validation")?.lowercased() != "true"
        if validate { try checkDestinations(config) }
        try store.setNotification(bucket: bucket.name, config.isEmpty ? nil : config)
        if validate { sendTestEvents(config, bucket: bucket.name, request: r) }
        return AWSResponse()
    }

    /// GET /bucket?notification: the stored configuration, or an empty one.
    func getBucketNotificationConfiguration(_ ctx: BucketContext) async throws -> AWSResponse {
        let b = try await ownedBucket(ctx.bucket, ctx.request)
        var xml = XMLWriter()
        (b.notification ?? NotificationConfiguration()).write(&xml)
        return AWSResponse(xml: xml)
    }

    /// S3 reports every destination it could not reach in one error, numbered ArgumentName1/ArgumentValue1...
    /// SNS is not served, so its destinations cannot be validated.
    func checkDestinations(_ config: NotificationConfiguration) throws {
        var failures: [(arn: String, reason: String)] = []
        for d in config.destinations where !failures.contains(where: { $0.arn == d.arn }) {
            switch d.type {
            case .queue:
                if queueEvents?.acceptsEvents(queueARN: d.arn) != true { failures.append((d.arn, "The destination queue does not exist")) }
            case .topic:
                failures.append((d.arn, "The destination topic does not exist"))
            case .cloudFunction:
                if functionEvents?.acceptsEvents(functionARN: d.arn) != true { failures.append((d.arn, "The destination Lambda does not exist")) }
            }
        }
        guard !failures.isEmpty else { return }
        var e = S3Error.invalidArgument("Unable to validate the following destination configurations")
        for (i, f) in failures.enumerated() {
            e = e.with("ArgumentName\(i + 1)", f.arn).with("ArgumentValue\(i + 1)", f.reason)
        }
        throw e
    }

    /// One `s3:TestEvent` per queue, carrying the request id of the PutBucketNotificationConfiguration.
    func sendTestEvents(_ config: NotificationConfiguration, bucket: String, request r: AWSRequest) {
        guard let sink = queueEvents else { return }
        var sent = Set<String>()
        for d in config.queues where sent.insert(d.arn).inserted {
            let body = S3EventMessage.testEvent(bucket: bucket, time: clock.now(), requestID: r.requestID,
                                                hostID: RequestID.hostID(for: r.requestID))
            do {
                try sink.deliver(body, toQueueARN: d.arn, from: .s3, traceHeader: r.header("x-amzn-trace-id"))
            } catch {
                logger.debug("s3:TestEvent not delivered", metadata: ["queue": "\(d.arn)", "error": "\(error)"])
            }
        }
    }
}
