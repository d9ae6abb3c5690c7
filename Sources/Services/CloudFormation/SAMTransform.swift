import Core
import Foundation

/// The `AWS::Serverless-2016-10-31` transform, done by Cloudless: a pure function from a SAM template to the
/// plain CloudFormation template it stands for, in the shapes the SAM developer guide's "generated resources"
/// pages describe. Only what Cloudless serves is expanded; anything else is refused by name.
enum SAMTransform {
    static let name = "AWS::Serverless-2016-10-31"

    static func fail(_ detail: String) -> AWSError {
        CFNError.validation("Transform \(name) failed with: Invalid Serverless Application Specification document. Number of errors found: 1. \(detail)")
    }

    static func unsupported(_ what: String) -> AWSError {
        CFNError.validation("Transform \(name) failed with: \(what) is not supported by Cloudless")
    }

    /// Expand a template whose `Transform` names SAM; the result has no `Transform` and no `Globals`.
    static func expand(_ template: JSON) throws -> JSON {
        guard var top = template.object else { throw CFNError.templateFormat("unsupported structure.") }
        top["Transform"] = nil
        let globals = top.removeValue(forKey: "Globals")?.object ?? [:]
        for key in globals.keys.sorted() where !["Function", "Api", "HttpApi", "SimpleTable"].contains(key) {
            throw unsupported("Globals section \(key)")
        }
        let functionGlobals = globals["Function"]?.object ?? [:]
        let apiGlobals = globals["Api"]?.object ?? [:], httpApiGlobals = globals["HttpApi"]?.object ?? [:]
        var apiRoutes: [ApiRoute] = []
        guard let resources = top["Resources"]?.object else { return .object(top) }
        var out: [String: JSON] = [:]
        // Bucket notification configurations contributed by S3 events, merged after every function is expanded.
        var bucketNotifications: [String: [BucketNotification]] = [:]
        var renamed: [String: String] = [:]  // SAM layers' logical ids, given a hash suffix
        for (id, resource) in resources.sorted(by: { $0.key < $1.key }) {
            guard let type = resource["Type"]?.string, type.hasPrefix("AWS::Serverless::") else {
                out[id] = resource
                continue
            }
            switch type {
            case "AWS::Serverless::Function":
                let generated = try expandFunction(id, resource, globals: functionGlobals, resources: resources, apiGlobals: apiGlobals)
                apiRoutes += generated.apiRoutes
                for (k, v) in generated.resources {
                    // DeploymentPreference's application and role are shared by the functions: the same twice is one.
                    if (out[k] != nil && out[k] != v) || (resources[k] != nil && k != id) {
                        throw fail("Resource with id [\(id)] is invalid. Generated logical id \(k) collides with another resource.")
                    }
                    out[k] = v
                }
                for n in generated.bucketNotifications { bucketNotifications[n.bucket, default: []].append(n) }
            case "AWS::Serverless::LayerVersion":  // SAMLayerVersion.swift
                let layer = try expandLayerVersion(id, resource)
                out[layer.logicalId] = layer.resource
                renamed[id] = layer.logicalId
            case "AWS::Serverless::SimpleTable":  // SAMSimpleTable.swift
                out[id] = try expandSimpleTable(id, resource, globals: globals["SimpleTable"]?.object ?? [:])
            case "AWS::Serverless::Api", "AWS::Serverless::HttpApi":  // after the functions: their events add routes
                continue
            default:
                throw unsupported("Resource type \(type) (resource \(id))")
            }
        }
        // The APIs, with the routes the functions' events gave them (SAMApi.swift, SAMHttpApi.swift).
        let apis = try expandRestApis(resources, routes: apiRoutes.filter { $0.payloadFormatVersion == nil }, globals: apiGlobals)
            .merging(try expandHttpApis(resources, routes: apiRoutes.filter { $0.payloadFormatVersion != nil }, globals: httpApiGlobals)) { $1 }
        for (k, v) in apis {
            if out[k] != nil || (resources[k] != nil && resources[k]?["Type"]?.string?.hasPrefix("AWS::Serverless::") != true) {
                throw fail("Resource with id [\(k)] is invalid. Generated logical id \(k) collides with another resource.")
            }
            out[k] = v
        }
        for (bucket, entries) in bucketNotifications.sorted(by: { $0.key < $1.key }) {
            guard var b = out[bucket]?.object else { continue }
            var props = b["Properties"]?.object ?? [:]
            var notification = props["NotificationConfiguration"]?.object ?? [:]
            notification["LambdaConfigurations"] = .array((notification["LambdaConfigurations"]?.array ?? []) + entries.map(\.config))
            props["NotificationConfiguration"] = .object(notification)
            if let tags = entries.compactMap(\.tags).last { props["Tags"] = .array(tags) }  // PropagateTags
            b["Properties"] = .object(props)
            // The bucket can only notify the function once the permission lets S3 invoke it.
            var deps = b["DependsOn"].map { $0.array ?? [$0] } ?? []
            for e in entries where !deps.contains(.string(e.permission)) { deps.append(.string(e.permission)) }
            b["DependsOn"] = .array(deps)
            out[bucket] = .object(b)
        }
        top["Resources"] = .object(out)
        renameLayerReferences(&top, renamed)
        return .object(top)
    }

    /// Globals merged into a function's properties: maps merge (Environment.Variables, Tags), lists are
    /// concatenated (Layers), anything else the function sets wins.
    static func merge(globals: [String: JSON], into props: [String: JSON]) -> [String: JSON] {
        var result = globals
        for (k, v) in props {
            if let g = globals[k] { result[k] = mergeValue(g, v) } else { result[k] = v }
        }
        return result
    }

    static func mergeValue(_ global: JSON, _ local: JSON) -> JSON {
        if let g = global.object, let l = local.object, !isIntrinsic(global), !isIntrinsic(local) {
            var r = g
            for (k, v) in l { r[k] = g[k].map { mergeValue($0, v) } ?? v }
            return .object(r)
        }
        if let g = global.array, let l = local.array { return .array(g + l) }
        return local
    }

    static func isIntrinsic(_ v: JSON) -> Bool {
        guard let o = v.object, o.count == 1, let k = o.keys.first else { return false }
        return k == "Ref" || k == "Condition" || k.hasPrefix("Fn::")
    }

    /// A short, stable hash of a JSON value (FNV-1a over its canonical text), as AWS names versions by code.
    static func hash(_ value: JSON) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(value)) ?? Data()
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in data { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return String(String(h, radix: 16).suffix(10))
    }
}
