import Synchronization

/// How far the init hooks (`--init-dir`) are: the state of each script, in the order they run, and whether all have
/// run. `/_cloudless/health` reports it as `init`, `/_localstack/init` in LocalStack's shape (its READY stage).
public final class InitProgress: Sendable {
    /// LocalStack's script states.
    public enum ScriptState: String, Sendable {
        case unknown = "UNKNOWN", running = "RUNNING", successful = "SUCCESSFUL", error = "ERROR"
    }

    private struct State {
        var scripts: [(name: String, state: ScriptState)]
        var finished: Bool
    }
    private let state: Mutex<State>

    /// Without scripts (no --init-dir, or an empty one) init is done from the start.
    public init(scripts: [String] = []) {
        state = Mutex(State(scripts: scripts.map { ($0, .unknown) }, finished: scripts.isEmpty))
    }

    public func set(_ index: Int, _ newState: ScriptState) {
        state.withLock { if $0.scripts.indices.contains(index) { $0.scripts[index].state = newState } }
    }

    public func finish() { state.withLock { $0.finished = true } }

    /// `running` until every script has run, then `failed` if one failed, else `done`.
    public var summary: String {
        state.withLock { s in
            guard s.finished else { return "running" }
            return s.scripts.contains { $0.state == .error } ? "failed" : "done"
        }
    }

    public var isFinished: Bool { state.withLock { $0.finished } }

    /// The scripts as `/_localstack/init` lists them.
    var scriptsJSON: String {
        let list = state.withLock { $0.scripts }
        return "[" + list.map {
            "{\"stage\":\"READY\",\"name\":\(JSONString.quote($0.name)),\"state\":\"\($0.state.rawValue)\"}"
        }.joined(separator: ",") + "]"
    }

    /// `GET /_localstack/init`: every stage; Cloudless runs scripts at READY only, so BOOT and START are complete
    /// from the start and SHUTDOWN never is while it serves.
    var localStackJSON: String {
        "{\"completed\":{\"BOOT\":true,\"START\":true,\"READY\":\(isFinished),\"SHUTDOWN\":false},\"scripts\":\(scriptsJSON)}"
    }

    /// `GET /_localstack/init/<stage>`, or nil for a stage LocalStack does not have.
    func localStackJSON(stage: String) -> String? {
        switch stage.uppercased() {
        case "READY": return "{\"completed\":\(isFinished),\"scripts\":\(scriptsJSON)}"
        case "BOOT", "START": return "{\"completed\":true,\"scripts\":[]}"
        case "SHUTDOWN": return "{\"completed\":false,\"scripts\":[]}"
        default: return nil
        }
    }
}
