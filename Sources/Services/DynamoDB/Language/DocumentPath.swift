/// A document path (`a.b[1].#c` once placeholders are resolved): top-level name, then map keys and list indexes.
/// It reads values out of items for conditions and projections; updates write through `Update`'s own walk.
enum PathElement: Sendable, Hashable {
    case name(String)
    case index(Int)
}

struct DocumentPath: Sendable, Hashable, CustomStringConvertible {
    var elements: [PathElement]

    init(_ elements: [PathElement]) { self.elements = elements }

    init(_ name: String) { self.elements = [.name(name)] }

    /// The top-level attribute name.
    var head: String {
        if case .name(let n) = elements.first { return n }
        return ""
    }

    var isNested: Bool { elements.count > 1 }

    /// AWS's rendering in error texts: `[a, b, [1]]`.
    var description: String {
        "[" + elements.map { element in
            switch element {
            case .name(let n): n
            case .index(let i): "[\(i)]"
            }
        }.joined(separator: ", ") + "]"
    }

    func resolve(in item: Item?) -> AttributeValue? {
        guard let item, case .name(let first) = elements.first, var value = item[first] else { return nil }
        for element in elements.dropFirst() {
            switch (element, value) {
            case let (.name(key), .m(map)):
                guard let next = map[key] else { return nil }
                value = next
            case let (.index(i), .l(list)):
                guard i < list.count else { return nil }
                value = list[i]
            default:
                return nil
            }
        }
        return value
    }

    /// Overlap (one path equals or contains the other) and conflict (a name and an index at the same depth) between
    /// two paths of one update or projection, with AWS's texts; nil when they are independent.
    static func clash(_ one: DocumentPath, _ two: DocumentPath) -> String? {
        for (a, b) in zip(one.elements, two.elements) {
            switch (a, b) {
            case (.name, .index), (.index, .name):
                return "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: \(one), path two: \(two)"
            default:
                if a != b { return nil }
            }
        }
        return "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: \(one), path two: \(two)"
    }
}
