/// Reading a whole S3 object from another service (Lambda deployment packages and layers in a bucket). Core
/// declares it; S3 implements it; the Emulator wires them.
public protocol ObjectSource: Sendable {
    /// The bytes of the latest version of `key`, or AWS's S3 error (NoSuchBucket, NoSuchKey); at most `limit` bytes.
    func objectBytes(bucket: String, key: String, limit: Int) async throws -> [UInt8]
}
