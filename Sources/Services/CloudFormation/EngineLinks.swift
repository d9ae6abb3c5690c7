import Core
import Foundation

/// What the engine reaches beyond its own store, wired by the Emulator through Core's protocols: Lambda (custom
/// resources), Secrets Manager (dynamic references), S3 (nested stacks' TemplateURL) and the callback mailbox.
struct EngineLinks: Sendable {
    var functions: (any FunctionEventSink)?
    var secrets: (any SecretResolver)?
    var objects: (any ObjectSource)?
    var callbacks = Callbacks(endpoint: nil)
    /// CodeDeploy, for aliases whose UpdatePolicy is CodeDeployLambdaAliasUpdate (AliasDeploymentUpdate.swift).
    var aliasDeployments: (any AliasDeployments)?
}

extension StackEngine {
    /// The types the engine serves itself with access to other stacks or services: custom resources, nested stacks,
    /// wait conditions. Nil for every other type.
    func engineProvider(for type: String) -> (any ResourceProvider)? {
        if type.hasPrefix("Custom::") || type == CustomResourceProvider.type {
            return CustomResourceProvider(links: links, clock: clock)
        }
        switch type {
        case NestedStackProvider.type: return NestedStackProvider(engine: self)
        case WaitConditionHandleProvider.type, WaitConditionProvider.type:
            return type == WaitConditionProvider.type ? WaitConditionProvider(callbacks: links.callbacks, clock: clock)
                : WaitConditionHandleProvider(callbacks: links.callbacks, clock: clock)
        default: return nil
        }
    }
}
