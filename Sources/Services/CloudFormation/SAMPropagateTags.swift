import Core

/// `PropagateTags: true` of an `AWS::Serverless::Function`, as SAM's translator does it: every generated resource
/// whose type takes a `Tags` list (the function, its role, generated queues and topics) and the bucket an S3 event
/// configures get the function's `Tags`, in place of the tags they had (so `lambda:createdBy` is dropped there too,
/// as the translator drops it).
extension SAMTransform {
    static let taggedTypes: Set<String> = ["AWS::Lambda::Function", "AWS::IAM::Role", "AWS::SQS::Queue", "AWS::SNS::Topic", "AWS::S3::Bucket"]

    static func propagateTags(_ g: inout Generated, _ id: String, _ props: [String: JSON]) throws {
        guard let flag = props["PropagateTags"] else { return }
        guard let on = flag.bool ?? flag.string.flatMap({ ["true": true, "false": false][$0.lowercased()] }) else {
            throw fail("Resource with id [\(id)] is invalid. Type of property 'PropagateTags' is invalid.")
        }
        guard on, let tags = props["Tags"]?.object, !tags.isEmpty else { return }
        let list: [JSON] = tags.keys.sorted().map { .object(["Key": .string($0), "Value": tags[$0]!]) }
        for (k, r) in g.resources {
            guard var o = r.object, let type = o["Type"]?.string, taggedTypes.contains(type) else { continue }
            var p = o["Properties"]?.object ?? [:]
            p["Tags"] = .array(list)
            o["Properties"] = .object(p)
            g.resources[k] = .object(o)
        }
        for i in g.bucketNotifications.indices { g.bucketNotifications[i].tags = list }
    }
}
