import Foundation

/// A CloudFormation resource type served by one service (`AWS::SQS::Queue` by SQS, `AWS::Logs::LogGroup` by
/// CloudWatch Logs...). Core declares it; each service implements it over its own code (no HTTP round trip to
/// itself); the Emulator registers the providers in `ResourceProviders`; CloudFormation drives them. Services still
/// never import each other.
public protocol ResourceProvider: Sendable {
    /// The resource types it serves.
    var resourceTypes: [String] { get }
    /// Properties whose change needs a new resource (CloudFormation's "Replacement: Yes"), per type.
    func createOnlyProperties(of type: String) -> Set<String>
    /// Create the resource. Throws AWSError (its message becomes the resource's status reason).
    func create(_ request: ResourceRequest) async throws -> ResourceState
    /// Change the resource in place to the request's properties (no create-only property changed).
    func update(_ request: ResourceRequest, previous: ResourceState) async throws -> ResourceState
    /// Delete it. A resource already gone is not an error.
    func delete(_ request: ResourceRequest, state: ResourceState) async throws
    /// What the service holds now for the resource, in the template's property names, for drift detection.
    /// `request.properties` are the expected ones (resolved); a provider reads back at least those it can.
    /// Scalars may come back as strings (`30` and `"30"` compare equal); policy documents as objects.
    func currentProperties(_ request: ResourceRequest, state: ResourceState) async throws -> ResourceReading
    /// After a crash in the middle of `create`: the resource that call may have made before the emulator stopped,
    /// found from the request alone (its given or generated name), so the rollback deletes it instead of orphaning
    /// it. nil when there is none.
    func interruptedCreate(_ request: ResourceRequest) async throws -> ResourceState?
}

/// A resource as its service holds it now (drift detection).
public enum ResourceReading: Sendable, Equatable {
    /// The type does not support drift detection (CloudFormation's NOT_CHECKED).
    case notChecked
    /// The resource no longer exists (DELETED).
    case deleted
    /// Its current properties.
    case properties([String: JSON])
}

extension ResourceProvider {
    public func currentProperties(_ request: ResourceRequest, state: ResourceState) async throws -> ResourceReading {
        .notChecked
    }

    /// Types whose create is one transaction leave nothing half-made: none by default.
    public func interruptedCreate(_ request: ResourceRequest) async throws -> ResourceState? { nil }
}

/// What a stack asks of a provider: the resource's type, its template name and its properties with every
/// intrinsic function already resolved.
public struct ResourceRequest: Sendable {
    public var account: String
    public var region: String
    public var stackName: String
    public var stackId: String
    public var logicalId: String
    public var type: String
    public var properties: [String: JSON]
    /// The stack's tags (`aws:cloudformation:*` included), for types that take tags.
    public var tags: [String: String]
    /// On an update, the properties the resource had (custom resources send them as OldResourceProperties).
    public var previousProperties: [String: JSON]?

    public init(account: String, region: String, stackName: String, stackId: String, logicalId: String, type: String,
                properties: [String: JSON], tags: [String: String]) {
        self.account = account
        self.region = region
        self.stackName = stackName
        self.stackId = stackId
        self.logicalId = logicalId
        self.type = type
        self.properties = properties
        self.tags = tags
    }

    /// A name AWS would generate for a resource that names none: `<stack>-<logical id>-<13 characters>`, trimmed to
    /// `limit` characters, lowercased where the type wants it. The 13 characters look random but are a hash of the
    /// stack, the resource and its properties, so that after a crash during the create the same name is found again
    /// (`interruptedCreate`); a replacement has other properties, hence another name.
    public func generatedName(limit: Int = 255, lowercase: Bool = false) -> String {
        let chars = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let seed = Array([stackId, logicalId, type].joined(separator: "\u{0}").utf8) + Array((try? encoder.encode(properties)) ?? Data())
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        var suffix = ""
        for b in seed { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        for _ in 0..<13 {
            h = (h ^ (h >> 29)) &* 0xbf58_476d_1ce4_e5b9
            suffix.append(chars[Int(h % UInt64(chars.count))])
        }
        var head = "\(stackName)-\(logicalId)"
        let room = max(1, limit - suffix.count - 1)
        if head.count > room { head = String(head.prefix(room)) }
        let name = "\(head)-\(suffix)"
        return lowercase ? name.lowercased() : name
    }
}

/// A created resource as a stack keeps it: its physical id (what `Ref` answers unless the type says otherwise) and
/// the attributes `Fn::GetAtt` reads.
public struct ResourceState: Sendable, Codable, Equatable {
    public var physicalId: String
    /// What `Ref` answers (an ARN for some types, the physical id for most).
    public var ref: String
    public var attributes: [String: JSON]

    public init(physicalId: String, ref: String? = nil, attributes: [String: JSON] = [:]) {
        self.physicalId = physicalId
        self.ref = ref ?? physicalId
        self.attributes = attributes
    }
}

/// The providers of every served type, registered by the Emulator.
public final class ResourceProviders: Sendable {
    private let byType: [String: any ResourceProvider]

    public init(_ providers: [any ResourceProvider]) {
        var map: [String: any ResourceProvider] = [:]
        for p in providers { for t in p.resourceTypes { map[t] = p } }
        byType = map
    }

    public func provider(for type: String) -> (any ResourceProvider)? { byType[type] }
    public var types: [String] { byType.keys.sorted() }
}
