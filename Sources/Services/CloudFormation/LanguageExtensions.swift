import Core
import Foundation

/// The `AWS::LanguageExtensions` transform: `Fn::Length` (the number of items of a list, a list parameter
/// included) and `Fn::ToJsonString` (an object or list as compact JSON text), resolved like the other intrinsic
/// functions once the template declares the transform. `Fn::ForEach` is refused by name.
enum LanguageExtensions {
    static let name = "AWS::LanguageExtensions"

    /// `Fn::ForEach::<Loop>` keys (in Resources, Outputs, Conditions or properties) are refused by name: expanding
    /// them needs the parameters' values before the template is read, which Cloudless does not do yet.
    static func refuseForEach(_ json: JSON) throws {
        switch json {
        case .object(let o):
            if let key = o.keys.first(where: { $0.hasPrefix("Fn::ForEach::") || $0 == "Fn::ForEach" }) {
                throw CFNError.templateFormat("\(key): Fn::ForEach is not supported by Cloudless")
            }
            for v in o.values { try refuseForEach(v) }
        case .array(let a):
            for v in a { try refuseForEach(v) }
        default:
            break
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
