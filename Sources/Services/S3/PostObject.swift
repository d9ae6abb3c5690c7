import Core

extension S3Service {
    /// Browser form upload (presigned POST). Being written; answers NotImplemented until then.
    func postObject(_ ctx: BucketContext) async throws -> AWSResponse {
        throw AWSError.notImplemented("PostObject")
    }
}
