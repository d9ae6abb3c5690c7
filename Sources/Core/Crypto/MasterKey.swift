import Foundation

/// The key that wraps every data key Cloudless encrypts with (Secrets Manager values). It comes from
/// `CLOUDLESS_MASTER_KEY` (64 hex characters) or from `master.key` in the data folder, created on first start with
/// mode 0600. A check value (an HMAC of a fixed text, which reveals nothing about the key) is kept next to it, so a
/// data folder opened with a different key refuses to start instead of serving undecryptable data.
public struct MasterKey: Sendable {
    public let bytes: [UInt8]

    public enum Failure: Error, CustomStringConvertible {
        case malformedEnvironment
        case malformedFile(String)
        case mismatch(String)

        public var description: String {
            switch self {
            case .malformedEnvironment:
                return "CLOUDLESS_MASTER_KEY must be 64 hexadecimal characters (32 bytes)."
            case .malformedFile(let path):
                return "The master key file \(path) is not 64 hexadecimal characters (32 bytes)."
            case .mismatch(let folder):
                return "The master key does not match the one the data folder \(folder) was created with "
                    + "(CLOUDLESS_MASTER_KEY or master.key): refusing to start, as its secrets could not be decrypted."
            }
        }
    }

    public init(bytes: [UInt8]) {
        precondition(bytes.count == AESGCM.keyByteCount)
        self.bytes = bytes
    }

    static let checkText = "cloudless master key check v1"

    /// The hex check value stored beside the data.
    var check: String { Hex.encode(HMAC.sha256(key: bytes, data: Self.checkText)) }

    /// Load (or on first start create) the master key for `folder`, and verify it against the folder's check value.
    public static func load(folder: String, environment: String?) throws -> MasterKey {
        let fm = FileManager.default
        let keyPath = folder + "/master.key"
        let checkPath = folder + "/master.key.check"
        let key: MasterKey
        if let text = environment {
            guard let bytes = Hex.decode(text.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count == 32 else {
                throw Failure.malformedEnvironment
            }
            key = MasterKey(bytes: bytes)
        } else if let data = fm.contents(atPath: keyPath) {
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard let bytes = Hex.decode(text), bytes.count == 32 else { throw Failure.malformedFile(keyPath) }
            key = MasterKey(bytes: bytes)
        } else {
            key = MasterKey(bytes: randomBytes(count: 32))
            try writeAtomically(Hex.encode(key.bytes) + "\n", to: keyPath, mode: 0o600)
        }
        if let data = fm.contents(atPath: checkPath) {
            let stored = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard stored == key.check else { throw Failure.mismatch(folder) }
        } else {
            try writeAtomically(key.check + "\n", to: checkPath, mode: 0o600)
        }
        return key
    }

    /// Write through a temporary file and rename, so a crash never leaves half a key. One fsync: FileManager's
    /// createFile would add a temporary file and an fsync of its own.
    static func writeAtomically(_ text: String, to path: String, mode: Int) throws {
        let tmp = path + ".tmp"
        let bytes = Array(text.utf8)
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode_t(mode))
        guard fd >= 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == bytes.count, synced, rename(tmp, path) == 0 else {
            unlink(tmp)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
    }

    /// A fresh data key sealed under this master key: (the key, the wrapped key to store).
    public func newDataKey(context: String) -> (key: [UInt8], wrapped: [UInt8]) {
        let key = randomBytes(count: 32)
        return (key, AESGCM.seal(key, key: bytes, aad: Array(("datakey|" + context).utf8)))
    }

    public func unwrap(_ wrapped: [UInt8], context: String) throws -> [UInt8] {
        try AESGCM.open(wrapped, key: bytes, aad: Array(("datakey|" + context).utf8))
    }
}
