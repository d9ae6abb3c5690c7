import Core
import Foundation

/// The `AWS::LanguageExtensions` transform: `Fn::Length` (the number of items of a list, a list parameter
/// included) and `Fn::ToJsonString` (an object or list as compact JSON text), resolved like the other intrinsic
/// functions once the template declares the transform, and `Fn::ForEach` loops expanded when the template is read.
enum LanguageExtensions {
    static let name = "AWS::LanguageExtensions"

    /// `Fn::ForEach::<Loop>: [Identifier, Collection, {Key-with-${Identifier}: Fragment}]`, anywhere in the template
    /// (Resources, Outputs, Conditions, properties): the fragment once per item, `${Identifier}` and `&{Identifier}`
    /// (alphanumerics only) replaced in its keys and strings and `Ref: Identifier` by the item, merged into the
    /// enclosing object. The collection is a list, or a Ref to a list parameter (the stack's value, else its default).
    static func expandForEach(_ json: JSON, parameters: [String: String]?) throws -> JSON {
        let declared = json["Parameters"]?.object ?? [:]
        func collection(_ loop: String, _ v: JSON) throws -> [String] {
            if let a = v.array {
                return try a.map { item in
                    guard let t = Template.text(item) else {
                        throw CFNError.templateFormat("\(loop): the items of a Fn::ForEach collection must be strings")
                    }
                    return t
                }
            }
            if let name = v["Ref"]?.string, v.object?.count == 1, let p = declared[name] {
                let type = p["Type"]?.string ?? "String"
                guard type == "CommaDelimitedList" || type.hasPrefix("List<") else {
                    throw CFNError.templateFormat("\(loop): Fn::ForEach collection parameter \(name) must be a list type")
                }
                guard let value = parameters?[name] ?? p["Default"].flatMap(Template.text) else { return [] }
                return value.split(separator: ",", omittingEmptySubsequences: false)
                    .map { $0.trimmingCharacters(in: .whitespaces) }
            }
            throw CFNError.templateFormat("\(loop): Cloudless takes a Fn::ForEach collection as a list or a Ref to a list parameter")
        }
        func expand(_ v: JSON) throws -> JSON {
            switch v {
            case .array(let a): return .array(try a.map(expand))
            case .object(let o):
                var out: [String: JSON] = [:]
                func put(_ k: String, _ v: JSON, _ loop: String?) throws {
                    guard out[k] == nil else {
                        throw CFNError.templateFormat("\(loop ?? k): duplicate key \(k) after Fn::ForEach expansion")
                    }
                    out[k] = v
                }
                for key in o.keys.sorted() where !key.hasPrefix("Fn::ForEach::") { try put(key, try expand(o[key]!), nil) }
                for key in o.keys.sorted() where key.hasPrefix("Fn::ForEach::") {
                    guard let args = o[key]?.array, args.count == 3, let id = args[0].string, !id.isEmpty,
                          let fragment = args[2].object else {
                        throw CFNError.templateFormat("\(key): Fn::ForEach takes [identifier, collection, {key: fragment}]")
                    }
                    for item in try collection(key, args[1]) {
                        for (k, produced) in (try expand(substitute(.object(fragment), id, item))).object ?? [:] {
                            try put(k, produced, key)
                        }
                    }
                }
                return .object(out)
            default:
                return v
            }
        }
        return try expand(json)
    }

    /// The fragment with the loop's identifier replaced by `item`.
    static func substitute(_ v: JSON, _ id: String, _ item: String) -> JSON {
        let compact = String(item.unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) && $0.isASCII })
        func text(_ s: String) -> String {
            s.replacingOccurrences(of: "${\(id)}", with: item).replacingOccurrences(of: "&{\(id)}", with: compact)
        }
        switch v {
        case .string(let s): return .string(text(s))
        case .array(let a): return .array(a.map { substitute($0, id, item) })
        case .object(let o):
            if o.count == 1, o["Ref"]?.string == id { return .string(item) }
            var out: [String: JSON] = [:]
            for (k, x) in o { out[text(k)] = substitute(x, id, item) }
            return .object(out)
        default: return v
        }
    }
}

extension Evaluator {
    /// A language extension function's value, or nil when `key` is none of them.
    func languageFunction(_ key: String, _ arg: JSON, conditionLookup: ((String) throws -> Bool)?) throws -> JSON? {
        switch key {
        case "Fn::Length":
            guard let items = try resolve(arg, conditionLookup: conditionLookup)?.array else {
                throw CFNError.validation("Template error: Fn::Length requires a list or a function that returns a list")
            }
            return .number(Double(items.count))
        case "Fn::ToJsonString":
            guard let value = try resolve(arg, conditionLookup: conditionLookup), value.object != nil || value.array != nil else {
                throw CFNError.validation("Template error: Fn::ToJsonString requires an object or a list")
            }
            return .string(String(decoding: try JSONEncoder.sorted.encode(value), as: UTF8.self))
        default:
            return nil
        }
    }
}
