import Core
import Foundation

/// Exports in use: which stacks import an export (`Fn::ImportValue` in their resources or outputs, names resolved
/// against each stack's parameters and resources), ListImports, and AWS's refusals to delete a stack whose export
/// is imported or to remove or change such an export in an update.
enum Exports {
    /// The export names a stack imports.
    static func imports(of s: Stack, exports: [String: String]) -> Set<String> {
        guard !s.templateBody.isEmpty, let template = try? Template(body: s.templateBody, parameters: s.parameterValues),
              var eval = try? Evaluator(template: template, parameters: s.parameterValues, account: s.account,
                                        region: s.region, stackName: s.name, stackId: s.id, exports: exports) else { return [] }
        for (name, r) in s.resources { if let st = r.state { eval.resources[name] = st } }
        var names = Set<String>()
        func scan(_ v: JSON) {
            switch v {
            case .object(let o):
                if o.count == 1, let arg = o["Fn::ImportValue"] {
                    if let n = (try? eval.resolve(arg)).flatMap({ $0 }).flatMap(Template.text) { names.insert(n) }
                    return
                }
                o.values.forEach(scan)
            case .array(let a): a.forEach(scan)
            default: break
            }
        }
        for r in template.resources.values where eval.isEnabled(condition: r.condition) { scan(.object(r.properties)) }
        for o in template.outputs.values { scan(o.value) }
        return names
    }

    /// Export name → names of the stacks (other than `except`) that import it, for the live stacks of the account
    /// and region.
    static func importers(store: StackStore, account: String, region: String, except: String? = nil) throws -> [String: [String]] {
        let exports = try store.exports(account: account, region: region).mapValues(\.value)
        var out: [String: [String]] = [:]
        for s in try store.all(account: account, region: region, includeDeleted: false) where s.id != except {
            // A stack only reviewed, or rolled back after a failed creation, holds no import.
            guard s.status != "REVIEW_IN_PROGRESS" && s.status != "ROLLBACK_COMPLETE" else { continue }
            for name in imports(of: s, exports: exports) { out[name, default: []].append(s.name) }
        }
        return out.mapValues { $0.sorted() }
    }

    /// Why a stack's exports cannot be deleted (DeleteStack), or nil.
    static func deleteRefusal(_ s: Stack, store: StackStore) -> String? {
        let names = s.outputs.compactMap(\.exportName)
        guard !names.isEmpty, let users = try? importers(store: store, account: s.account, region: s.region, except: s.id) else { return nil }
        for name in names.sorted() {
            if let who = users[name] { return "Export \(name) cannot be deleted as it is in use by \(who.joined(separator: ", "))" }
        }
        return nil
    }

    /// Throws when an update removes or changes an export another stack imports.
    static func checkUpdate(old: [StackOutput], new: [StackOutput], _ s: Stack, store: StackStore) throws {
        let oldExports = Dictionary(old.compactMap { o in o.exportName.map { ($0, o.value) } }, uniquingKeysWith: { a, _ in a })
        guard !oldExports.isEmpty else { return }
        let newExports = Dictionary(new.compactMap { o in o.exportName.map { ($0, o.value) } }, uniquingKeysWith: { a, _ in a })
        let users = try importers(store: store, account: s.account, region: s.region, except: s.id)
        for (name, value) in oldExports.sorted(by: { $0.key < $1.key }) {
            guard let who = users[name] else { continue }
            if newExports[name] == nil {
                throw CFNError.validation("Cannot delete export \(name) as it is in use by \(who.joined(separator: ", ")).")
            }
            if newExports[name] != value {
                throw CFNError.validation("Cannot update export \(name) as it is in use by \(who.joined(separator: ", ")).")
            }
        }
    }
}

extension CloudFormationService {
    /// ListImports: the stacks that import an export, 100 a page as AWS pages them.
    func listImports(_ p: [String: String], _ caller: Caller) throws -> Answer {
        let name = try Self.required(p, "ExportName")
        let names = try Exports.importers(store: store, account: caller.account, region: caller.region)[name] ?? []
        guard !names.isEmpty else {
            throw CFNError.validation("Export '\(name)' is not imported by any stack.")
        }
        let (page, next) = try Paging.page(names, token: p["NextToken"], size: 100)
        return { xml in
            xml.open("Imports")
            for n in page { xml.element("member", n) }
            xml.close()
            xml.element("NextToken", next)
        }
    }
}
