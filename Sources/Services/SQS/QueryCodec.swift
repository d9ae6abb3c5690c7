import Core
import Foundation

/// SQS's Query protocol (`Action=SendMessage&Version=2012-11-05&MessageAttribute.1.Name=...`, XML answers) mapped
/// onto the JSON shapes the operations already take and give, so each operation is written once.
///
/// The Query forms come from the 2012-11-05 Query model: lists and maps are flattened under a singular name
/// (`AttributeName.1`, `Attribute.1.Name` / `Attribute.1.Value`, `SendMessageBatchRequestEntry.1.Id`).
enum SQSQuery {
    static let namespace = "http://queue.amazonaws.com/doc/2012-11-05/"

    /// How a flattened Query member travels, and the JSON member it becomes.
    enum Member {
        case list(String)
        case map(String, key: String, value: String)
        case structures(String)
    }

    static func requestMembers(operation: String) -> [String: Member] {
        [
            "AttributeName": .list("AttributeNames"),
            "MessageSystemAttributeName": .list("MessageSystemAttributeNames"),
            "MessageAttributeName": .list("MessageAttributeNames"),
            "TagKey": .list("TagKeys"),
            "AWSAccountId": .list("AWSAccountIds"),
            "ActionName": .list("Actions"),
            "StringListValue": .list("StringListValues"),
            "BinaryListValue": .list("BinaryListValues"),
            "Attribute": .map("Attributes", key: "Name", value: "Value"),
            // CreateQueue's member is lower-case `tags`; TagQueue's is `Tags`.
            "Tag": .map(operation == "CreateQueue" ? "tags" : "Tags", key: "Key", value: "Value"),
            "MessageAttribute": .map("MessageAttributes", key: "Name", value: "Value"),
            "MessageSystemAttribute": .map("MessageSystemAttributes", key: "Name", value: "Value"),
            "SendMessageBatchRequestEntry": .structures("Entries"),
            "DeleteMessageBatchRequestEntry": .structures("Entries"),
            "ChangeMessageVisibilityBatchRequestEntry": .structures("Entries"),
        ]
    }

    /// Operations with no output shape: their Query answer has no `<ActionResult>`.
    static let withoutOutput: Set<String> = [
        "DeleteQueue", "SetQueueAttributes", "TagQueue", "UntagQueue", "DeleteMessage", "ChangeMessageVisibility", "PurgeQueue",
        "AddPermission", "RemovePermission",
    ]

    /// Members that are integers in the model (the JSON protocol sends them as numbers).
    static let integers: Set<String> = [
        "DelaySeconds", "MaxNumberOfMessages", "VisibilityTimeout", "WaitTimeSeconds", "MaxResults", "MaxNumberOfMessagesPerSecond",
    ]

    /// A parameter tree: `A.1.B=x` is node A → child "1" → child "B" with value x.
    final class Node {
        var value: String?
        var children: [String: Node] = [:]

        func child(_ name: Substring) -> Node {
            if let c = children[String(name)] { return c }
            let c = Node()
            children[String(name)] = c
            return c
        }

        /// Children named 1, 2, 3... in index order (other names are ignored, as AWS does).
        var indexed: [Node] {
            children.compactMap { k, v in Int(k).map { ($0, v) } }.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    /// The JSON-shaped input of `operation` from its Query parameters.
    static func input(_ parameters: [String: String], operation: String) -> [String: Any] {
        let root = Node()
        for (name, value) in parameters {
            var node = root
            for part in name.split(separator: ".", omittingEmptySubsequences: false) { node = node.child(part) }
            node.value = value
        }
        return structure(root, members: requestMembers(operation: operation))
    }

    static func structure(_ node: Node, members: [String: Member]) -> [String: Any] {
        var out: [String: Any] = [:]
        for (name, child) in node.children {
            switch members[name] {
            case .list(let json)?:
                out[json] = child.indexed.map { $0.value ?? "" }
            case .map(let json, let keyName, let valueName)?:
                var map: [String: Any] = [:]
                for entry in child.indexed {
                    guard let key = entry.children[keyName]?.value, let value = entry.children[valueName] else { continue }
                    map[key] = value.children.isEmpty ? (value.value ?? "") : structure(value, members: members)
                }
                out[json] = map
            case .structures(let json)?:
                out[json] = child.indexed.map { structure($0, members: members) }
            case nil:
                if child.children.isEmpty {
                    let text = child.value ?? ""
                    out[name] = integers.contains(name) ? (Int(text).map { NSNumber(value: $0) } ?? text) as Any : text
                } else {
                    out[name] = structure(child, members: members)
                }
            }
        }
        return out
    }

    /// Answer members that are flattened lists or maps in XML: the element name of each item.
    static func responseItem(_ member: String, operation: String) -> Member? {
        switch member {
        case "QueueUrls", "queueUrls": return .list("QueueUrl")
        case "Messages": return .list("Message")
        case "Successful": return .list("\(operation)ResultEntry")
        case "Failed": return .list("BatchResultErrorEntry")
        case "Results": return .list("ListMessageMoveTasksResultEntry")
        case "StringListValues": return .list("StringListValue")
        case "BinaryListValues": return .list("BinaryListValue")
        case "Attributes": return .map("Attribute", key: "Name", value: "Value")
        case "Tags": return .map("Tag", key: "Key", value: "Value")
        case "MessageAttributes": return .map("MessageAttribute", key: "Name", value: "Value")
        default: return nil
        }
    }

    /// Write a JSON-shaped answer as the inside of `<ActionResult>`. Keys are written sorted, so answers are stable.
    static func write(_ object: [String: Any], operation: String, into xml: inout XMLWriter) {
        for key in object.keys.sorted() {
            let value = object[key]!
            switch responseItem(key, operation: operation) {
            case .list(let item)?:
                for element in value as? [Any] ?? [] { writeValue(element, named: item, operation: operation, into: &xml) }
            case .map(let item, let keyName, let valueName)?:
                let map = value as? [String: Any] ?? [:]
                for k in map.keys.sorted() {
                    xml.open(item)
                    xml.element(keyName, k)
                    writeValue(map[k]!, named: valueName, operation: operation, into: &xml)
                    xml.close()
                }
            default:
                writeValue(value, named: key, operation: operation, into: &xml)
            }
        }
    }

    static func writeValue(_ value: Any, named name: String, operation: String, into xml: inout XMLWriter) {
        switch value {
        case let s as String: xml.element(name, s)
        case let b as Bool: xml.element(name, b ? "true" : "false")
        case let i as Int: xml.element(name, String(i))
        case let i as Int64: xml.element(name, String(i))
        case let d as Double: xml.element(name, d == d.rounded() ? String(Int64(d)) : String(d))
        case let n as NSNumber: xml.element(name, n.stringValue)
        case let object as [String: Any]:
            xml.open(name)
            write(object, operation: operation, into: &xml)
            xml.close()
        case let list as [Any]:
            for element in list { writeValue(element, named: name, operation: operation, into: &xml) }
        default: xml.element(name, "\(value)")
        }
    }
}
