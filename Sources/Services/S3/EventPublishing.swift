import Core
import Foundation
import GRDB

extension S3Service {
    /// Publish an object event (`ObjectCreated:Put`, `ObjectRemoved:Delete`...) to every queue and function of the
    /// bucket's configuration whose event types and key filters select it. Called after the change committed, before
    /// the answer: when a client sees its write acknowledged, the event is already in the queue (or queued for the
    /// function as an asynchronous invocation).
    /// Delivery is best effort, as in AWS: a queue deleted (or a message refused) since the configuration was set
    /// loses the event, and the write still succeeds.
    /// Stage an object event (`ObjectCreated:Put`, `ObjectRemoved:Delete`...) for every queue and function of the
    /// bucket's configuration whose event types and key filters select it, inside the transaction that makes the
    /// change: the messages are rows of the notification outbox, committed with the object (or lost with it).
    /// The caller hands the result to `outbox.deliver` after the commit, before the answer: when a client sees its
    /// write acknowledged, the event is already in the queue (or queued for the function as an asynchronous
    /// invocation); after a crash in between, the outbox delivers it once the emulator is back.
    /// Delivery is best effort otherwise, as in AWS: a queue deleted (or a message refused) since the configuration
    /// was set loses the event, and the write still succeeds.
    func stageEvent(_ eventName: String, bucket: Bucket, key: String, size: Int? = nil, etag: String? = nil,
                    versionID: String? = nil, request r: AWSRequest, _ db: Database) throws -> EventOutbox.Staged {
        try stageEvent(eventName, bucket: bucket, key: key, size: size, etag: etag, versionID: versionID, origin: EventOrigin(r), db)
    }

    /// Who caused an event: a request's caller, or S3 itself (lifecycle).
    struct EventOrigin {
        var principalID: String
        var sourceIP: String
        var requestID: String
        var trace: String?

        init(principalID: String, sourceIP: String, requestID: String, trace: String?) {
            self.principalID = principalID
            self.sourceIP = sourceIP
            self.requestID = requestID
            self.trace = trace
        }

        init(_ r: AWSRequest) {
            self.init(principalID: S3EventMessage.principalID(r.caller), sourceIP: S3Service.sourceIP(r), requestID: r.requestID,
                      trace: r.header("x-amzn-trace-id"))
        }

        /// Lifecycle actions: AWS names S3 itself as the principal and the source.
        static func lifecycle() -> EventOrigin {
            EventOrigin(principalID: "s3.amazonaws.com", sourceIP: "s3.amazonaws.com", requestID: RequestID.next(), trace: nil)
        }
    }

    func stageEvent(_ eventName: String, bucket: Bucket, key: String, size: Int? = nil, etag: String? = nil,
                    versionID: String? = nil, origin: EventOrigin, _ db: Database) throws -> EventOutbox.Staged {
        // Time and sequencer are taken inside the transaction: of two writes to a key, the later commit has the
        // greater sequencer.
        let messages = Self.eventMessages(eventName, bucket: bucket, key: key, size: size, etag: etag, versionID: versionID,
                                          origin: origin, now: clock.now())
        return try outbox.stage(messages, db)
    }

    /// The message for each selected destination, built once (a re-delivery sends the same bytes).
    static func eventMessages(_ eventName: String, bucket: Bucket, key: String, size: Int?, etag: String?, versionID: String?,
                              origin: EventOrigin, now: Double) -> [OutboxMessage] {
        guard let config = bucket.notification else { return [] }
        let encodedKey = S3EventMessage.encodeKey(key)
        let destinations = config.destinations.filter { $0.type != .topic && $0.matches(event: "s3:" + eventName, encodedKey: encodedKey) }
        if destinations.isEmpty { return [] }
        let record = S3EventMessage.Record(
            eventName: eventName, region: bucket.region, time: now, principalID: origin.principalID,
            sourceIP: origin.sourceIP, requestID: origin.requestID, hostID: RequestID.hostID(for: origin.requestID), bucket: bucket.name,
            bucketOwnerID: S3EventMessage.customerID(bucket.account), key: key, size: size,
            eTag: etag.map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) },
            versionID: bucket.versioning != nil ? versionID : nil, sequencer: Sequencer.next(now: now))
        return destinations.compactMap { d in
            let message = S3EventMessage.json(record, configurationID: d.id)
            switch d.type {
            case .queue: return OutboxMessage(.queue, target: d.arn, body: message, principal: .s3, traceHeader: origin.trace)
            case .cloudFunction: return OutboxMessage(.function, target: d.arn, body: message, principal: .s3)
            case .topic: return nil
            }
        }
    }

    /// The event of a new object version.
    func stageCreated(_ eventName: String, _ o: ObjectVersion, bucket: Bucket, request r: AWSRequest, _ db: Database) throws -> EventOutbox.Staged {
        try stageEvent(eventName, bucket: bucket, key: o.key, size: o.size, etag: o.etag, versionID: o.versionID, request: r, db)
    }

    /// The event of a delete: a delete marker made by a versioned delete, else a removal (of a version, or of
    /// the object; S3 sends it whether or not the key existed).
    func stageRemoved(_ outcome: DeleteOutcome, key: String, requestedVersion: String?, bucket: Bucket, request r: AWSRequest,
                      _ db: Database) throws -> EventOutbox.Staged {
        let markerCreated = requestedVersion == nil && outcome.deleteMarker
        return try stageEvent(markerCreated ? "ObjectRemoved:DeleteMarkerCreated" : "ObjectRemoved:Delete", bucket: bucket, key: key,
                              versionID: outcome.versionID, request: r, db)
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
