import Core
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// What one invocation hands to a runtime.
struct Invocation: Sendable {
    var requestID: String
    var payload: [UInt8]
    var deadline: Double
    /// The function's timeout: the deadline is set when the runtime takes the invocation (init has its own limit).
    var timeout: Double
    var functionARN: String
    var clientContext: String?
    var traceID: String
}

/// How an invocation ended.
enum InvocationOutcome: Sendable {
    case response([UInt8])
    case functionError(type: String, document: [UInt8])
    case initError(type: String, document: [UInt8])
    case exited(Int32)
    case timedOut
}

/// Lines an instance printed, waiting to go to CloudWatch Logs (written by the process's reader thread).
final class OutputLines: Sendable {
    private let lines = Mutex<[LogEvent]>([])

    func append(_ message: String) {
        let event = LogEvent(timestamp: Int64(Date().timeIntervalSince1970 * 1000), message: message)
        lines.withLock { $0.append(event) }
    }

    func take() -> [LogEvent] { lines.withLock { l in defer { l.removeAll() }; return l } }
}

/// One running copy of a function: a process and the Runtime API endpoint it polls. It serves one invocation at a
/// time; the runtime's `GET /invocation/next` waits here until the pool hands it one.
actor FunctionInstance {
    let id: String
    let logStream: String
    let output = OutputLines()
    let spawned = ContinuousClock.now
    private(set) var initDuration: Duration?
    private(set) var isDead = false
    private var process: SupervisedProcess?
    private var server: RuntimeAPIServer?
    private var nextWaiter: CheckedContinuation<Invocation?, Never>?
    private var queued: Invocation?
    private var current: (id: String, continuation: CheckedContinuation<InvocationOutcome, Never>)?
    /// When the runtime took the current invocation (its timeout runs from there).
    private var delivered: (id: String, at: ContinuousClock.Instant)?

    func deliveredAt(_ requestID: String) -> ContinuousClock.Instant? {
        delivered?.id == requestID ? delivered?.at : nil
    }
    var lastUsed = ContinuousClock.now
    /// The runtime's exit status once it has exited.
    var exitCode: Int32?

    init(id: String, logStream: String) {
        self.id = id
        self.logStream = logStream
    }

    /// Let the output the runtime wrote before answering reach the log.
    func settleOutput() async { await process?.settleOutput() }

    func attach(process: SupervisedProcess, server: RuntimeAPIServer) {
        self.process = process
        self.server = server
        if isDead { process.kill(); server.close() }
    }

    /// Run one invocation; returns when the runtime answers, fails, exits or the pool times it out.
    func invoke(_ invocation: Invocation) async -> InvocationOutcome {
        if let (type, document) = queuedInitError { return .initError(type: type, document: document) }
        // A runtime that exited before this invocation reached it answers with its own exit status.
        if isDead { return .exited(exitCode ?? -1) }
        return await withCheckedContinuation { c in
            current = (invocation.requestID, c)
            if let waiter = nextWaiter {
                nextWaiter = nil
                waiter.resume(returning: invocation)
            } else {
                queued = invocation
            }
        }
    }

    /// The deadline passed: the instance is killed, as Lambda does.
    func timeOut(_ requestID: String) {
        guard current?.id == requestID else { return }
        finish(.timedOut)
        stop()
    }

    func processExited(_ code: Int32) {
        isDead = true
        exitCode = code
        finish(.exited(code))
        nextWaiter?.resume(returning: nil)
        nextWaiter = nil
        server?.close()
    }

    func stop() {
        isDead = true
        process?.kill()
        server?.close()
        nextWaiter?.resume(returning: nil)
        nextWaiter = nil
        finish(.exited(-1))
    }

    private func finish(_ outcome: InvocationOutcome) {
        guard let c = current else { return }
        current = nil
        queued = nil
        c.continuation.resume(returning: outcome)
    }

    // MARK: Runtime API

    func handle(_ request: RuntimeRequest) async -> RuntimeReply {
        let path = request.path.split(separator: "?").first.map(String.init) ?? request.path
        let parts = path.split(separator: "/").map(String.init)
        guard parts.count >= 3, parts[0] == "2018-06-01", parts[1] == "runtime" else {
            return RuntimeReply(status: .notFound, body: ByteBuffer(string: #"{"errorMessage":"Not found","errorType":"InvalidRequest"}"#))
        }
        let accepted = RuntimeReply(status: .accepted, body: ByteBuffer(string: #"{"status":"OK"}"#))
        let body = Array(request.body.readableBytesView)
        let rest = Array(parts.dropFirst(2))
        if request.method == .GET && rest == ["invocation", "next"] {
            if initDuration == nil { initDuration = ContinuousClock.now - spawned }
            guard var inv = await nextInvocation() else {
                return RuntimeReply(status: .gone, body: ByteBuffer(string: #"{"errorMessage":"The instance is shutting down"}"#))
            }
            delivered = (inv.requestID, .now)
            inv.deadline = Date().timeIntervalSince1970 + inv.timeout
            var headers = [
                ("Lambda-Runtime-Aws-Request-Id", inv.requestID),
                ("Lambda-Runtime-Deadline-Ms", String(Int64(inv.deadline * 1000))),
                ("Lambda-Runtime-Invoked-Function-Arn", inv.functionARN),
                ("Lambda-Runtime-Trace-Id", inv.traceID),
            ]
            if let cc = inv.clientContext { headers.append(("Lambda-Runtime-Client-Context", cc)) }
            return RuntimeReply(status: .ok, headers: headers, body: ByteBuffer(bytes: inv.payload))
        }
        if request.method == .POST && rest.count == 3 && rest[0] == "invocation" && (rest[2] == "response" || rest[2] == "error") {
            guard current?.id == rest[1] else { return RuntimeReply(status: .badRequest) }
            if rest[2] == "response" {
                finish(.response(body))
            } else {
                finish(.functionError(type: request.headers.first(name: "Lambda-Runtime-Function-Error-Type") ?? "Unhandled", document: body))
            }
            lastUsed = .now
            return accepted
        }
        if request.method == .POST && rest == ["init", "error"] {
            isDead = true
            let type = request.headers.first(name: "Lambda-Runtime-Function-Error-Type") ?? "Runtime.Unknown"
            if current != nil {
                finish(.initError(type: type, document: body))
            } else {
                queuedInitError = (type, body)
            }
            return accepted
        }
        return RuntimeReply(status: .notFound)
    }

    /// An init error reported before any invocation arrived: the first invocation gets it.
    private var queuedInitError: (String, [UInt8])?

    private func nextInvocation() async -> Invocation? {
        if isDead { return nil }
        if let q = queued {
            queued = nil
            return q
        }
        return await withCheckedContinuation { nextWaiter = $0 }
    }
}
