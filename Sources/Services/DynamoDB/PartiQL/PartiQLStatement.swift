import Core

/// A parsed PartiQL statement. Conditions and updates are the expression language's own trees (`ConditionNode`,
/// `Update`), so a WHERE clause is evaluated by the evaluator ConditionExpression uses and SET/REMOVE by UpdateItem's.
enum PartiQLStatement: Sendable {
    case select(PartiQLSelect)
    case insert(table: String, item: Item)
    case update(table: String, update: Update, where: ConditionNode, returning: PartiQLReturning?)
    case delete(table: String, where: ConditionNode, returning: PartiQLReturning?)
    /// `EXISTS(SELECT …)`: a condition check on one item, in ExecuteTransaction's writes only.
    case exists(PartiQLSelect)

    var isRead: Bool { if case .select = self { return true } else { return false } }

    var tableName: String {
        switch self {
        case .select(let s), .exists(let s): s.table
        case .insert(let t, _), .update(let t, _, _, _), .delete(let t, _, _): t
        }
    }
}

struct PartiQLSelect: Sendable {
    var table: String
    var index: String?
    /// nil: `*`.
    var paths: [DocumentPath]?
    var filter: ConditionNode?
    /// ORDER BY: the attribute and its direction.
    var orderBy: [(name: String, descending: Bool)] = []
}

/// `RETURNING (ALL | MODIFIED) (OLD | NEW) *`.
struct PartiQLReturning: Sendable, Equatable {
    var modifiedOnly: Bool
    var new: Bool

    var text: String { "\(modifiedOnly ? "MODIFIED" : "ALL") \(new ? "NEW" : "OLD") *" }
}
