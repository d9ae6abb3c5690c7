import Core

/// What `AWS::Serverless::Api` and `AWS::Serverless::HttpApi` expand alike.
extension SAMTransform {
    /// The resources one SAM API expands into; each carries the API's `Condition` and `DependsOn`, as SAM copies them.
    struct APIResources {
        private let shared: [String: JSON]
        private(set) var resources: [String: JSON] = [:]

        init(from source: JSON) {
            var shared: [String: JSON] = [:]
            for key in ["Condition", "DependsOn"] { if let v = source[key] { shared[key] = v } }
            self.shared = shared
        }

        mutating func add(_ logicalId: String, _ type: String, _ properties: [String: JSON]) {
            var r = shared
            r["Type"] = .string(type)
            r["Properties"] = .object(properties)
            resources[logicalId] = .object(r)
        }
    }

    /// The API's `Auth`: its authorizers and the default one, which must be one of them (or `AWS_IAM`).
    static func apiAuth(_ props: [String: JSON], invalid: (String) -> AWSError)
        throws -> (auth: [String: JSON], authorizers: [String: JSON], defaultAuthorizer: String?)
    {
        let auth = props["Auth"]?.object ?? [:]
        let authorizers = auth["Authorizers"]?.object ?? [:]
        let defaultAuthorizer = auth["DefaultAuthorizer"]?.string
        if let d = defaultAuthorizer, d != "AWS_IAM", authorizers[d] == nil {
            throw invalid("Unable to set DefaultAuthorizer because '\(d)' was not defined in 'Authorizers'.")
        }
        return (auth, authorizers, defaultAuthorizer)
    }
}
