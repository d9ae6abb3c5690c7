import Core
import Foundation

/// `CorsConfiguration` of `AWS::S3::Bucket` (`CorsRules[]` with `AllowedOrigins`, `AllowedMethods`, `ExposedHeaders`,
/// `MaxAge`...) as the document PutBucketCors reads, and back from the stored configuration.
extension S3Resources {
    static func cors(_ p: [String: JSON], _ shape: PropertyShape) throws -> String? {
        let base = "CorsConfiguration"
        guard let config = try shape.object(p[base], base) else { return nil }
        let rules = try shape.objects(try shape.required(config["CorsRules"], base, "CorsRules"), "\(base)/CorsRules")
        var parsed: [CORSConfiguration.Rule] = []
        for (path, r) in rules {
            parsed.append(CORSConfiguration.Rule(
                id: try shape.string(r["Id"], "\(path)/Id"),
                allowedHeaders: try shape.strings(r["AllowedHeaders"], "\(path)/AllowedHeaders") ?? [],
                allowedMethods: try shape.required(try shape.strings(r["AllowedMethods"], "\(path)/AllowedMethods"), path, "AllowedMethods"),
                allowedOrigins: try shape.required(try shape.strings(r["AllowedOrigins"], "\(path)/AllowedOrigins"), path, "AllowedOrigins"),
                exposeHeaders: try shape.strings(r["ExposedHeaders"], "\(path)/ExposedHeaders") ?? [],
                maxAgeSeconds: try shape.int(r["MaxAge"], "\(path)/MaxAge")))
        }
        return CORSConfiguration(rules: parsed).document
    }

    static func readCors(_ stored: String?) -> JSON? {
        guard let stored, let config = CORSConfiguration.decode(stored) else { return nil }
        return .object(["CorsRules": .array(config.rules.map { r in
            var o: [String: JSON] = ["AllowedMethods": strings(r.allowedMethods), "AllowedOrigins": strings(r.allowedOrigins)]
            if let id = r.id { o["Id"] = .string(id) }
            if !r.allowedHeaders.isEmpty { o["AllowedHeaders"] = strings(r.allowedHeaders) }
            if !r.exposeHeaders.isEmpty { o["ExposedHeaders"] = strings(r.exposeHeaders) }
            if let m = r.maxAgeSeconds { o["MaxAge"] = .number(Double(m)) }
            return .object(o)
        })])
    }

    static func strings(_ values: [String]) -> JSON { .array(values.map { .string($0) }) }
}
