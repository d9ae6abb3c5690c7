/// The rules of the kept-alive connections to targets, kept apart from sockets so they run on a clock the caller
/// passes (seconds, monotonic). Every target (`key`, "host:port") must stay servable by a single-threaded HTTP/1.1
/// server, which handles one connection at a time and sees a connection we keep as a client still talking:
/// - an idle connection is reused newest first, and closed after `idleTimeout` (well under the smallest health check
///   interval, 5 s) or once it is `maxAge` old (so steady traffic on one connection frees such a server for the
///   health checks' own connections within about a second);
/// - at most `cap` connections per target are pooled (idle or busy); beyond, requests go on one-shot connections;
/// - a target that answered HTTP/1.0 or `Connection: close` gets one-shot connections for `noKeepAliveFor`.
/// A pooled connection is counted from `admit` until it is handed back as expired, swept, drained or `forget`-ten.
struct PoolBook<Connection> {
    struct Idle {
        var connection: Connection
        var since: Double
        var opened: Double
    }

    var idleTimeout = 1.0
    var maxAge = 1.0
    var cap = 8
    var noKeepAliveFor = 30.0
    private(set) var idle: [String: [Idle]] = [:]
    private(set) var open: [String: Int] = [:]
    private(set) var noKeepAliveUntil: [String: Double] = [:]

    struct Taken {
        var idle: Idle?
        var expired: [Connection] = []
    }

    /// The newest idle connection still fresh that `prefer`s (the caller's event loop), else (unless `only`) the newest
    /// fresh one; and the expired ones to close (no longer counted).
    mutating func take(_ key: String, now: Double, only: Bool = false, prefer: (Connection) -> Bool = { _ in true }) -> Taken {
        guard var list = idle[key], !list.isEmpty else { return Taken() }
        var expired: [Connection] = []
        list.removeAll { e in
            if fresh(e, now) { return false }
            expired.append(e.connection)
            return true
        }
        let taken = (list.lastIndex { prefer($0.connection) } ?? (only ? nil : list.indices.last)).map { list.remove(at: $0) }
        idle[key] = list.isEmpty ? nil : list
        uncount(key, expired.count)
        return Taken(idle: taken, expired: expired)
    }

    /// Whether a new connection to `key` joins the pool (counted) rather than being used once.
    mutating func admit(_ key: String, now: Double) -> Bool {
        if let until = noKeepAliveUntil[key] {
            if until > now { return false }
            noKeepAliveUntil[key] = nil
        }
        guard open[key, default: 0] < cap else { return false }
        open[key, default: 0] += 1
        return true
    }

    /// A pooled connection whose exchange ended cleanly: idle again, or returned when too old to keep (uncounted).
    mutating func giveBack(_ key: String, _ connection: Connection, opened: Double, now: Double) -> Connection? {
        let entry = Idle(connection: connection, since: now, opened: opened)
        guard fresh(entry, now) else {
            uncount(key, 1)
            return connection
        }
        idle[key, default: []].append(entry)
        return nil
    }

    /// A pooled connection closed or abandoned: no longer counted.
    mutating func forget(_ key: String) { uncount(key, 1) }

    /// The target answered HTTP/1.0 or `Connection: close`.
    mutating func markNoKeepAlive(_ key: String, now: Double) { noKeepAliveUntil[key] = now + noKeepAliveFor }

    /// Idle connections past their time, to close (uncounted).
    mutating func sweep(now: Double) -> [Connection] {
        var out: [Connection] = []
        for (key, list) in idle {
            let kept = list.filter { fresh($0, now) }
            guard kept.count != list.count else { continue }
            out += list.filter { !fresh($0, now) }.map(\.connection)
            uncount(key, list.count - kept.count)
            idle[key] = kept.isEmpty ? nil : kept
        }
        return out
    }

    /// All idle connections to `key` (a draining target), to close at once (uncounted).
    mutating func drain(_ key: String) -> [Connection] {
        let list = idle.removeValue(forKey: key) ?? []
        uncount(key, list.count)
        return list.map(\.connection)
    }

    var idleCount: Int { idle.values.reduce(0) { $0 + $1.count } }

    private func fresh(_ e: Idle, _ now: Double) -> Bool { now - e.since < idleTimeout && now - e.opened < maxAge }

    private mutating func uncount(_ key: String, _ n: Int) {
        guard n > 0 else { return }
        let left = open[key, default: 0] - n
        open[key] = left > 0 ? left : nil
    }
}
