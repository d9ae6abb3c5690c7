import Foundation

/// `--ecs-images FILE`: what an image would run, for containers that run as local processes without Docker.
/// `{"<image pattern>": {"entryPoint": [...], "command": [...], "workingDirectory": "...", "environment": {...}}}`.
/// A pattern matches the whole image reference or the reference without its registry and tag, with `*` as a
/// wildcard (`booking-service` matches `123456789012.dkr.ecr.us-east-1.amazonaws.com/booking-service:latest`).
/// A relative workingDirectory is relative to the file's folder.
struct ImageMap: Sendable {
    struct Entry: Decodable, Sendable {
        var entryPoint: [String]?
        var command: [String]?
        var workingDirectory: String?
        var environment: [String: String]?
    }

    var entries: [(pattern: String, entry: Entry)] = []

    init() {}

    init(file: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: file))
        let map = try JSONDecoder().decode([String: Entry].self, from: data)
        let folder = URL(fileURLWithPath: file).deletingLastPathComponent().path
        entries = map.sorted { $0.key.count > $1.key.count }.map { pattern, entry in
            var e = entry
            if let wd = e.workingDirectory, !wd.hasPrefix("/") {
                e.workingDirectory = URL(fileURLWithPath: folder + "/" + wd).standardizedFileURL.path
            }
            return (pattern, e)
        }
    }

    func entry(for image: String) -> Entry? {
        let bare = Self.repository(image)
        return entries.first { Self.matches($0.pattern, image) || Self.matches($0.pattern, bare) }?.entry
    }

    /// `registry/path/name:tag@digest` → `name` (the last path component, without tag or digest).
    static func repository(_ image: String) -> String {
        var s = Substring(image)
        if let at = s.firstIndex(of: "@") { s = s[..<at] }
        if let slash = s.lastIndex(of: "/") { s = s[s.index(after: slash)...] }
        if let colon = s.lastIndex(of: ":") { s = s[..<colon] }
        return String(s)
    }

    /// Glob matching with `*` only.
    static func matches(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern.utf8), t = Array(text.utf8)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count && p[pi] != UInt8(ascii: "*") && p[pi] == t[ti] { pi += 1; ti += 1 }
            else if pi < p.count && p[pi] == UInt8(ascii: "*") { star = pi; mark = ti; pi += 1 }
            else if star >= 0 { pi = star + 1; mark += 1; ti = mark }
            else { return false }
        }
        while pi < p.count && p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }
}
