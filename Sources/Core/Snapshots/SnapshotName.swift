/// A snapshot's name: it becomes a folder name under `<data>/snapshots/`, so it is checked before any file is touched.
public enum SnapshotName {
    public static let maxLength = 128

    /// nil when valid, else why not (the 400 answer's message).
    public static func problem(_ name: String) -> String? {
        if name.isEmpty { return "A snapshot name must not be empty." }
        if name.count > maxLength { return "A snapshot name is at most \(maxLength) characters." }
        if name.contains("/") || name.contains("\\") { return "A snapshot name must not contain '/' or '\\'." }
        if name == "." || name.contains("..") { return "A snapshot name must not contain '..'." }
        if name.hasPrefix(".") { return "A snapshot name must not start with '.'." }
        let allowed = name.unicodeScalars.allSatisfy { c in
            (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "-" || c == "_" || c == "."
        }
        if !allowed { return "A snapshot name may contain letters, digits, '-', '_' and '.' only." }
        return nil
    }
}
