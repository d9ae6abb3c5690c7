import Core
import HTTPTypes

extension S3Service {
    func getBucketTagging(_ ctx: BucketContext) async throws -> AWSResponse {
        let b = try await ownedBucket(ctx.bucket, ctx.request)
        guard let stored = store.configuration(b.name, .tagging) else {
            throw AWSError("NoSuchTagSet", "The TagSet does not exist", status: .notFound).with("BucketName", b.name)
        }
        var xml = XMLWriter()
        xml.group("Tagging", xmlns: Self.xmlns) { xml in
            xml.group("TagSet") { xml in
                for (k, v) in TagSet.decode(stored) {
                    xml.group("Tag") { xml in
                        xml.element("Key", k)
                        xml.element("Value", v)
                    }
                }
            }
        }
        return AWSResponse(xml: xml)
    }

    /// Replace the bucket's tags (at most 50, with the rules of object tags); an empty TagSet removes them.
    func putBucketTagging(_ ctx: BucketContext) async throws -> AWSResponse {
        let b = try await ownedBucket(ctx.bucket, ctx.request)
        let body = try await ctx.request.collectBody(limit: 1 << 20)
        guard let doc = XMLElement.parse(Array(body.readableBytesView)), doc.name == "Tagging", let set = doc.child("TagSet") else {
            throw S3Error.malformedXML()
        }
        var tags: [(String, String)] = []
        for tag in set.children("Tag") {
            guard let k = tag.value("Key"), let v = tag.value("Value") else { throw S3Error.malformedXML() }
            tags.append((k, v))
        }
        try ObjectHeaders.validateTags(tags, tooMany: AWSError("BadRequest", "Bucket tag count cannot be greater than 50"), limit: 50)
        try store.setConfiguration(b.name, .tagging, tags.isEmpty ? nil : TagSet.encode(tags))
        return AWSResponse(status: .noContent)
    }
}
