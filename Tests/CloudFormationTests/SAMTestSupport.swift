import Core

@testable import CloudFormation

/// The resources a template expands into (the SAM transform runs when the template names it).
func expand(_ yaml: String) throws -> [String: JSON] {
    try Template(body: yaml).body["Resources"]?.object ?? [:]
}

/// The message a refusal carries, or nil when `body` succeeds.
func message(_ body: () throws -> Void) -> String? {
    do { try body(); return nil } catch let e as AWSError { return e.message } catch { return "\(error)" }
}
