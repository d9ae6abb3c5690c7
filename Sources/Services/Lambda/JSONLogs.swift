import Core
import Foundation

/// LoggingConfig.LogFormat JSON: Lambda writes its own events as JSON objects (`platform.start`, `platform.report`)
/// instead of the START / END / REPORT lines; SystemLogLevel filters them. Application lines pass as the runtime wrote
/// them (the python and node runtimes format `logging` records and `console` lines as JSON themselves).
extension LambdaService {
    static func jsonPlatformEvents(_ config: FunctionConfig, requestID: String, start: Double, output: [LogEvent],
                                   outcome: InvocationOutcome, ms: Double, initMs: Double?) -> [LogEvent] {
        var events: [LogEvent] = []
        let startMs = Int64(start * 1000)
        if config.writesSystemEvent(level: "INFO") {
            events.append(platformEvent("platform.start", at: startMs, record: ["requestId": requestID, "version": config.Version]))
        }
        events += output
        let status: String
        switch outcome {
        case .response: status = "success"
        case .timedOut: status = "timeout"
        default: status = "error"
        }
        var metrics: [String: Any] = [
            "durationMs": (ms * 100).rounded() / 100, "billedDurationMs": Int(ms.rounded(.up)),
            "memorySizeMB": config.MemorySize, "maxMemoryUsedMB": min(config.MemorySize, 40),
        ]
        if let initMs { metrics["initDurationMs"] = (initMs * 100).rounded() / 100 }
        // A failed invocation's report is an error-level event: it passes every SystemLogLevel.
        if config.writesSystemEvent(level: status == "success" ? "INFO" : "WARN") {
            events.append(platformEvent("platform.report", at: Int64(Date().timeIntervalSince1970 * 1000),
                                        record: ["requestId": requestID, "metrics": metrics, "status": status]))
        }
        return events
    }

    static func platformEvent(_ type: String, at ms: Int64, record: [String: Any]) -> LogEvent {
        let doc: [String: Any] = ["time": AWSDate.iso8601(Double(ms) / 1000), "type": type, "record": record]
        let data = (try? JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys])) ?? Data()
        return LogEvent(timestamp: ms, message: String(decoding: data, as: UTF8.self) + "\n")
    }
}
