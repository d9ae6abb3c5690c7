import Core
import Foundation
import Logging

/// S3's event notifications go through a transactional outbox (Core's `EventOutbox`) in `s3.sqlite`: each write
/// stages its messages in the transaction that changes the object (`stageEvent` in EventPublishing.swift), delivers
/// them after the commit, and the outbox's loop re-delivers what a crash left undelivered.
enum NotificationOutbox {
    static let table = "notification_outbox"
}

extension S3Service {
    static func notificationOutbox(_ store: S3Store, clock: EmulatorClock, logger: Logger, queueEvents: (any QueueEventSink)?,
                                   functionEvents: (any FunctionEventSink)?) -> EventOutbox {
        EventOutbox(database: store.database, table: NotificationOutbox.table, clock: clock, logger: logger, queues: queueEvents,
                    functions: functionEvents)
    }

    /// Deliver what an earlier run left in the outbox, then retry failed deliveries and delete delivered rows in
    /// batches. Call once the server listens.
    public func startNotificationDelivery() { outbox.start() }

    /// Stop the loop and delete what was delivered (a clean shutdown; without it the next start sends those again).
    public func stopNotificationDelivery() { outbox.stop() }
}
