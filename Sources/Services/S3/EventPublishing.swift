import Core
import Foundation

extension S3Service {
    /// Publish an object event (`ObjectCreated:Put`, `ObjectRemoved:Delete`...) to every queue and function of the
    /// bucket's configuration whose event types and key filters select it. Called after the change committed, before
    /// the answer: when a client sees its write acknowledged, the event is already in the queue (or queued for the
    /// function as an asynchronous invocation).
    /// Delivery is best effort, as in AWS: a queue deleted (or a message refused) since the configuration was set
    /// loses the event, and the write still succeeds.
    func publish(_ eventName: String, bucket: Bucket, key: String, size: Int? = nil, etag: String? = nil,
                 versionID: String? = nil, request r: AWSRequest) {
        publish(eventName, bucket: bucket, key: key, size: size, etag: etag, versionID: versionID,
                origin: EventOrigin(principalID: S3EventMessage.principalID(r.caller), sourceIP: Self.sourceIP(r),
                                    requestID: r.requestID, trace: r.header("x-amzn-trace-id")))
    }

    /// Who caused an event: a request's caller, or S3 itself (lifecycle).
    struct EventOrigin {
        var principalID: String
        var sourceIP: String
        var requestID: String
        var trace: String?

        /// Lifecycle actions: AWS names S3 itself as the principal and the source.
        static func lifecycle() -> EventOrigin {
            EventOrigin(principalID: "s3.amazonaws.com", sourceIP: "s3.amazonaws.com", requestID: RequestID.next(), trace: nil)
        }
    }

    func publish(_ eventName: String, bucket: Bucket, key: String, size: Int? = nil, etag: String? = nil,
                 versionID: String? = nil, origin: EventOrigin) {
        guard let config = bucket.notification else { return }
        let encodedKey = S3EventMessage.encodeKey(key)
        let destinations = config.destinations.filter { $0.type != .topic && $0.matches(event: "s3:" + eventName, encodedKey: encodedKey) }
        if destinations.isEmpty { return }
        let now = clock.now()
        let record = S3EventMessage.Record(
            eventName: eventName, region: bucket.region, time: now, principalID: origin.principalID,
            sourceIP: origin.sourceIP, requestID: origin.requestID, hostID: RequestID.hostID(for: origin.requestID), bucket: bucket.name,
            bucketOwnerID: S3EventMessage.customerID(bucket.account), key: key, size: size,
            eTag: etag.map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) },
            versionID: bucket.versioning != nil ? versionID : nil, sequencer: Sequencer.next(now: now))
        let trace = origin.trace
        for d in destinations {
            let message = S3EventMessage.json(record, configurationID: d.id)
            do {
                switch d.type {
                case .queue: try queueEvents?.deliver(message, toQueueARN: d.arn, from: .s3, traceHeader: trace)
                case .cloudFunction: try functionEvents?.invokeAsync(functionARN: d.arn, payload: Array(message.utf8), from: .s3)
                case .topic: break
                }
            } catch {
                logger.debug("S3 event not delivered", metadata: ["destination": "\(d.arn)", "event": "\(eventName)", "error": "\(error)"])
            }
        }
    }

    /// The event of a new object version.
    func publishCreated(_ eventName: String, _ o: ObjectVersion, bucket: Bucket, request r: AWSRequest) {
        publish(eventName, bucket: bucket, key: o.key, size: o.size, etag: o.etag, versionID: o.versionID, request: r)
    }

    /// The event of a delete: a delete marker made by a versioned delete, else a removal (of a version, or of
    /// the object; S3 sends it whether or not the key existed).
    func publishRemoved(_ outcome: DeleteOutcome, key: String, requestedVersion: String?, bucket: Bucket, request r: AWSRequest) {
        let markerCreated = requestedVersion == nil && outcome.deleteMarker
        publish(markerCreated ? "ObjectRemoved:DeleteMarkerCreated" : "ObjectRemoved:Delete", bucket: bucket, key: key,
                versionID: outcome.versionID, request: r)
    }

    /// The client address as far as the request shows it: a proxy's X-Forwarded-For, else loopback (where the
    /// emulator listens by default).
    static func sourceIP(_ r: AWSRequest) -> String {
        if let forwarded = r.header("x-forwarded-for")?.split(separator: ",").first {
            let ip = forwarded.trimmingCharacters(in: .whitespaces)
            if !ip.isEmpty { return ip }
        }
        return "127.0.0.1"
    }
}
