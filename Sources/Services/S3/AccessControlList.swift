import Core
import Foundation

/// The grants of a bucket or an object ACL, as canned ACLs, `x-amz-grant-*` headers or an AccessControlPolicy
/// document give them. The owner is not part of it: it is the bucket's account or the object's writer.
struct AccessControlList: Sendable, Equatable {
    enum Grantee: Sendable, Equatable {
        case canonicalUser(String)
        case group(String)
        case email(String)
    }

    struct Grant: Sendable, Equatable {
        var grantee: Grantee
        var permission: String
    }

    var grants: [Grant]

    static let permissions: Set = ["FULL_CONTROL", "WRITE", "WRITE_ACP", "READ", "READ_ACP"]
    static let allUsers = "http://acs.amazonaws.com/groups/global/AllUsers"
    static let authenticatedUsers = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
    static let logDelivery = "http://acs.amazonaws.com/groups/s3/LogDelivery"
    static let groups: Set = [allUsers, authenticatedUsers, logDelivery]
    static let cannedNames: Set = [
        "private", "public-read", "public-read-write", "authenticated-read", "aws-exec-read", "bucket-owner-read",
        "bucket-owner-full-control", "log-delivery-write",
    ]

    /// What every bucket and object has until an ACL is set: the owner has full control.
    static func ownerOnly(_ owner: String) -> AccessControlList {
        AccessControlList(grants: [Grant(grantee: .canonicalUser(owner), permission: "FULL_CONTROL")])
    }

    /// A canned ACL for a resource owned by `owner` (canonical id) in a bucket owned by `bucketOwner`.
    static func canned(_ name: String, owner: String, bucketOwner: String) -> AccessControlList? {
        var acl = ownerOnly(owner)
        switch name {
        case "private", "aws-exec-read": break
        case "public-read": acl.grants.append(Grant(grantee: .group(allUsers), permission: "READ"))
        case "public-read-write":
            acl.grants += [Grant(grantee: .group(allUsers), permission: "READ"), Grant(grantee: .group(allUsers), permission: "WRITE")]
        case "authenticated-read": acl.grants.append(Grant(grantee: .group(authenticatedUsers), permission: "READ"))
        case "bucket-owner-read":
            if bucketOwner != owner { acl.grants.append(Grant(grantee: .canonicalUser(bucketOwner), permission: "READ")) }
        case "bucket-owner-full-control":
            if bucketOwner != owner { acl.grants.append(Grant(grantee: .canonicalUser(bucketOwner), permission: "FULL_CONTROL")) }
        case "log-delivery-write":
            acl.grants += [Grant(grantee: .group(logDelivery), permission: "WRITE"), Grant(grantee: .group(logDelivery), permission: "READ_ACP")]
        default: return nil
        }
        return acl
    }

    static let grantHeaders = [
        ("x-amz-grant-full-control", "FULL_CONTROL"), ("x-amz-grant-write", "WRITE"), ("x-amz-grant-write-acp", "WRITE_ACP"),
        ("x-amz-grant-read", "READ"), ("x-amz-grant-read-acp", "READ_ACP"),
    ]

    /// The ACL a request's `x-amz-acl` or `x-amz-grant-*` headers ask for; nil when it has neither.
    static func fromHeaders(_ r: AWSRequest, owner: String, bucketOwner: String) throws -> AccessControlList? {
        let canned = r.header("x-amz-acl")
        let granted = grantHeaders.filter { r.header($0.0) != nil }
        if canned != nil && !granted.isEmpty {
            throw S3Error.invalidRequest("Specifying both Canned ACLs and Header Grants is not allowed")
        }
        if let canned {
            guard let acl = Self.canned(canned, owner: owner, bucketOwner: bucketOwner) else {
                throw S3Error.invalidArgument("", name: "x-amz-acl", value: canned)
            }
            return acl
        }
        guard !granted.isEmpty else { return nil }
        var acl = AccessControlList(grants: [])
        for (header, permission) in granted {
            for item in (r.header(header) ?? "").split(separator: ",") {
                let pair = item.trimmingCharacters(in: .whitespaces)
                guard let eq = pair.firstIndex(of: "=") else {
                    throw S3Error.invalidArgument("Argument format not recognized", name: header, value: pair)
                }
                let kind = pair[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
                let value = pair[pair.index(after: eq)...].trimmingCharacters(in: .whitespaces)
                    .trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                let grantee: Grantee
                switch kind {
                case "id":
                    guard isCanonicalID(value) else { throw S3Error.invalidArgument("Invalid id", name: "id", value: value) }
                    grantee = .canonicalUser(value)
                case "uri":
                    guard groups.contains(value) else { throw S3Error.invalidArgument("Invalid group uri", name: "uri", value: value) }
                    grantee = .group(value)
                case "emailaddress":
                    grantee = .email(value)
                default:
                    throw S3Error.invalidArgument("Argument format not recognized", name: header, value: pair)
                }
                acl.grants.append(Grant(grantee: grantee, permission: permission))
            }
        }
        return acl
    }

    static func malformed() -> AWSError {
        AWSError("MalformedACLError", "The XML you provided was not well-formed or did not validate against our published schema")
    }

    /// An AccessControlPolicy document (PutBucketAcl / PutObjectAcl body). Each grantee's xsi:type says which
    /// element it carries: ID, URI or EmailAddress.
    static func parse(policy bytes: [UInt8]) throws -> AccessControlList {
        guard let doc = XMLElement.parse(bytes), doc.name == "AccessControlPolicy", let owner = doc.child("Owner"),
              owner.value("ID") != nil, let list = doc.child("AccessControlList") else {
            throw malformed()
        }
        if let id = owner.value("ID"), !isCanonicalID(id) { throw S3Error.invalidArgument("Invalid id", name: "CanonicalUser/ID", value: id) }
        var acl = AccessControlList(grants: [])
        for g in list.children {
            guard g.name == "Grant", let grantee = g.child("Grantee"), let permission = g.value("Permission"),
                  permissions.contains(permission) else { throw malformed() }
            let type = grantee.attributes["xsi:type"] ?? grantee.attributes["type"]
            if type == "CanonicalUser", let id = grantee.value("ID") {
                guard isCanonicalID(id) else { throw S3Error.invalidArgument("Invalid id", name: "CanonicalUser/ID", value: id) }
                acl.grants.append(Grant(grantee: .canonicalUser(id), permission: permission))
            } else if type == "Group", let uri = grantee.value("URI") {
                guard groups.contains(uri) else { throw S3Error.invalidArgument("Invalid group uri", name: "Group/URI", value: uri) }
                acl.grants.append(Grant(grantee: .group(uri), permission: permission))
            } else if type == "AmazonCustomerByEmail", let email = grantee.value("EmailAddress") {
                acl.grants.append(Grant(grantee: .email(email), permission: permission))
            } else {
                throw malformed()
            }
        }
        return acl
    }

    static func isCanonicalID(_ s: String) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }

    /// Only the owner, with full control: all an ACL may say on a bucket whose ownership is BucketOwnerEnforced
    /// (`private` and `bucket-owner-full-control` are both this in one account).
    func isOwnerFullControl(_ owner: String) -> Bool {
        grants == [Grant(grantee: .canonicalUser(owner), permission: "FULL_CONTROL")]
    }

    /// The AccessControlPolicy answer of GetBucketAcl / GetObjectAcl.
    func write(_ xml: inout XMLWriter, ownerAccount: String) {
        xml.open("AccessControlPolicy", xmlns: S3Service.xmlns)
        S3Service.writeOwner(&xml, account: ownerAccount)
        xml.open("AccessControlList")
        for g in grants {
            xml.open("Grant")
            let type: String
            switch g.grantee {
            case .canonicalUser: type = "CanonicalUser"
            case .group: type = "Group"
            case .email: type = "AmazonCustomerByEmail"
            }
            xml.open("Grantee", attributes: [("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"), ("xsi:type", type)])
            switch g.grantee {
            case .canonicalUser(let id): xml.element("ID", id)  // no DisplayName: AWS stopped returning it in 2025
            case .group(let uri): xml.element("URI", uri)
            case .email(let address): xml.element("EmailAddress", address)
            }
            xml.close()
            xml.element("Permission", g.permission)
            xml.close()
        }
        xml.close()
        xml.close()
    }

    /// One line (no newline: object ACLs are kept among the object's headers): `PERMISSION kind value` items
    /// joined by commas, the value percent-encoded.
    var encoded: String {
        grants.map { g in
            switch g.grantee {
            case .canonicalUser(let id): "\(g.permission) id \(id)"
            case .group(let uri): "\(g.permission) uri \(Percent.encode(uri))"
            case .email(let address): "\(g.permission) email \(Percent.encode(address))"
            }
        }.joined(separator: ",")
    }

    static func decode(_ s: String) -> AccessControlList {
        AccessControlList(grants: s.split(separator: ",").compactMap { item in
            let parts = item.split(separator: " ", maxSplits: 2).map(String.init)
            guard parts.count == 3, let value = Percent.decode(parts[2]) else { return nil }
            switch parts[1] {
            case "id": return Grant(grantee: .canonicalUser(value), permission: parts[0])
            case "uri": return Grant(grantee: .group(value), permission: parts[0])
            default: return Grant(grantee: .email(value), permission: parts[0])
            }
        })
    }
}
