import Core

/// UpdateExpression, parsed (see `UpdateParser`) and applied to an item. As DynamoDB does, every SET value is computed
/// from the item as it was before the update; then SETs are written (a list index past the end appends), REMOVEs run
/// (list elements by their original indexes, the later ones shifting down), then ADD (numbers add, sets unite; a
/// missing attribute takes the value) and DELETE (set difference; an emptied set disappears).
struct Update: Sendable {
    indirect enum Operand: Sendable, Equatable {
        case path(DocumentPath)
        case value(AttributeValue)
        case ifNotExists(DocumentPath, Operand)
        case listAppend(Operand, Operand)
    }

    enum Value: Sendable, Equatable {
        case operand(Operand)
        case plus(Operand, Operand)
        case minus(Operand, Operand)
    }

    struct SetAction: Sendable, Equatable {
        let path: DocumentPath
        let value: Value
    }

    struct ValueAction: Sendable, Equatable {
        let path: DocumentPath
        let value: AttributeValue
    }

    var sets: [SetAction] = []
    var removes: [DocumentPath] = []
    var adds: [ValueAction] = []
    var deletes: [ValueAction] = []
    /// Built from the legacy AttributeUpdates: ADD also appends to lists, and type mismatches have that API's text.
    var legacy = false

    /// Every path the update writes, in the order written.
    var targets: [DocumentPath] { sets.map(\.path) + removes + adds.map(\.path) + deletes.map(\.path) }

    /// What ReturnValues UPDATED_OLD / UPDATED_NEW answer: the written paths of the item before or after, nested
    /// paths keeping their structure (`SET a.b = …, a.c = …` answers `{a: {b, c}}`).
    func updatedValues(in item: Item) -> Item { Projection(paths: targets).apply(to: item) }

    static func parse(_ text: String, _ input: inout ExpressionInput) throws(AWSError) -> Update {
        var parser = UpdateParser(p: try ExpressionParser(text, kind: .update, input: input))
        let update = try parser.parse()
        input = parser.p.input
        return update
    }

    static let missingAttribute = AWSError("ValidationException", "The provided expression refers to an attribute that does not exist in the item")
    static let wrongType = AWSError("ValidationException", "An operand in the update expression has an incorrect data type")
    static let legacyWrongType = AWSError("ValidationException", "Type mismatch for attribute to update")
    static let invalidPath = AWSError("ValidationException", "The document path provided in the update expression is invalid for update")

    func apply(to item: Item, keyNames: [String]) throws(AWSError) -> (item: Item, updatedPaths: Set<String>) {
        for path in targets where keyNames.contains(path.head) {
            throw AWSError("ValidationException", "One or more parameter values were invalid: Cannot update attribute \(path.head). This attribute is part of the key")
        }
        var values: [AttributeValue] = []
        for action in sets { values.append(try Self.evaluate(action.value, item)) }

        var result = item
        for (action, value) in zip(sets, values) { try Self.write(value, at: action.path, in: &result) }
        for path in removes.sorted(by: Self.removalOrder) { try Self.remove(path, from: &result) }
        let wrongType = legacy ? Self.legacyWrongType : Self.wrongType
        for action in adds {
            let updated: AttributeValue
            switch (action.path.resolve(in: result), action.value) {
            case (nil, let value): updated = value
            case let (.n(x)?, .n(y)): updated = .n(try x + y)
            case let (.ss(x)?, .ss(y)): updated = .ss(x + y.filter { !x.contains($0) })
            case let (.ns(x)?, .ns(y)): updated = .ns(x + y.filter { !x.contains($0) })
            case let (.bs(x)?, .bs(y)): updated = .bs(x + y.filter { !x.contains($0) })
            case let (.l(x)?, .l(y)) where legacy: updated = .l(x + y)
            default: throw wrongType
            }
            try Self.write(updated, at: action.path, in: &result)
        }
        for action in deletes {
            guard let existing = action.path.resolve(in: result) else { continue }
            let remaining: AttributeValue?
            switch (existing, action.value) {
            case let (.ss(x), .ss(y)): remaining = x.filter { !y.contains($0) }.nonEmpty.map(AttributeValue.ss)
            case let (.ns(x), .ns(y)): remaining = x.filter { !y.contains($0) }.nonEmpty.map(AttributeValue.ns)
            case let (.bs(x), .bs(y)): remaining = x.filter { !y.contains($0) }.nonEmpty.map(AttributeValue.bs)
            default: throw wrongType
            }
            if let remaining { try Self.write(remaining, at: action.path, in: &result) } else { try Self.remove(action.path, from: &result) }
        }
        return (result, Set(targets.map(\.head)))
    }

    // MARK: evaluation

    private static func evaluate(_ value: Value, _ item: Item) throws(AWSError) -> AttributeValue {
        switch value {
        case .operand(let x): return try evaluate(x, item)
        case let .plus(x, y), let .minus(x, y):
            guard case .n(let a) = try evaluate(x, item), case .n(let b) = try evaluate(y, item) else { throw wrongType }
            if case .plus = value { return .n(try a + b) }
            return .n(try a - b)
        }
    }

    private static func evaluate(_ operand: Operand, _ item: Item) throws(AWSError) -> AttributeValue {
        switch operand {
        case .path(let path):
            guard let value = path.resolve(in: item) else { throw missingAttribute }
            return value
        case .value(let value): return value
        case let .ifNotExists(path, fallback):
            if let existing = path.resolve(in: item) { return existing }
            return try evaluate(fallback, item)
        case let .listAppend(x, y):
            guard case .l(let a) = try evaluate(x, item), case .l(let b) = try evaluate(y, item) else { throw wrongType }
            return .l(a + b)
        }
    }

    // MARK: writing into items

    static func write(_ value: AttributeValue, at path: DocumentPath, in item: inout Item) throws(AWSError) {
        let rest = path.elements.dropFirst()
        if rest.isEmpty { item[path.head] = value; return }
        guard var child = item[path.head] else { throw invalidPath }
        try write(value, at: rest, in: &child)
        item[path.head] = child
    }

    private static func write(_ value: AttributeValue, at path: ArraySlice<PathElement>, in container: inout AttributeValue) throws(AWSError) {
        let last = path.count == 1
        switch (path.first!, container) {
        case (.name(let key), .m(var map)):
            if last {
                map[key] = value
            } else {
                guard var child = map[key] else { throw invalidPath }
                try write(value, at: path.dropFirst(), in: &child)
                map[key] = child
            }
            container = .m(map)
        case (.index(let i), .l(var list)):
            if last {
                if i < list.count { list[i] = value } else { list.append(value) }
            } else {
                guard i < list.count else { throw invalidPath }
                try write(value, at: path.dropFirst(), in: &list[i])
            }
            container = .l(list)
        default:
            throw invalidPath
        }
    }

    /// Removing a missing attribute or element changes nothing.
    static func remove(_ path: DocumentPath, from item: inout Item) throws(AWSError) {
        let rest = path.elements.dropFirst()
        if rest.isEmpty { item[path.head] = nil; return }
        guard var child = item[path.head] else { return }
        try remove(rest, from: &child)
        item[path.head] = child
    }

    private static func remove(_ path: ArraySlice<PathElement>, from container: inout AttributeValue) throws(AWSError) {
        let last = path.count == 1
        switch (path.first!, container) {
        case (.name(let key), .m(var map)):
            if last {
                map[key] = nil
            } else {
                guard var child = map[key] else { return }
                try remove(path.dropFirst(), from: &child)
                map[key] = child
            }
            container = .m(map)
        case (.index(let i), .l(var list)):
            guard i < list.count else { return }
            if last { list.remove(at: i) } else { try remove(path.dropFirst(), from: &list[i]) }
            container = .l(list)
        default:
            throw invalidPath
        }
    }

    /// Later list indexes first, so each REMOVE addresses the element its index named in the original item.
    private static func removalOrder(_ a: DocumentPath, _ b: DocumentPath) -> Bool {
        for (x, y) in zip(a.elements, b.elements) where x != y {
            switch (x, y) {
            case let (.index(i), .index(j)): return i > j
            case let (.name(m), .name(n)): return m > n
            default: return false
            }
        }
        return a.elements.count > b.elements.count
    }
}

extension Array {
    /// nil for an empty array (an emptied set is no set).
    fileprivate var nonEmpty: [Element]? { isEmpty ? nil : self }
}
