import Core

/// ProjectionExpression (and the legacy AttributesToGet): a comma-separated list of document paths. Applying it keeps
/// the item's structure: `a.b[1].c` yields `{a: {b: [{c: …}]}}`, list elements keep their order and close up, and a
/// path the item lacks contributes nothing.
struct Projection: Sendable {
    let paths: [DocumentPath]

    init(paths: [DocumentPath]) { self.paths = paths }

    static func parse(_ text: String, _ input: inout ExpressionInput) throws(AWSError) -> Projection {
        var p = try ExpressionParser(text, kind: .projection, input: input)
        var paths: [DocumentPath] = []
        while true {
            guard p.current.kind == .identifier || p.current.kind == .name else { throw p.syntaxError() }
            let path = try p.parsePath()
            for earlier in paths {
                if let clash = DocumentPath.clash(earlier, path) { p.note(.paths, clash) }
            }
            paths.append(path)
            if p.current.isSymbol(",") { p.advance(); continue }
            try p.expectEnd()
            break
        }
        try p.finish()
        input = p.input
        return Projection(paths: paths)
    }

    /// The top-level attributes the projection reads.
    var attributeNames: Set<String> { Set(paths.map(\.head)) }

    func apply(to item: Item) -> Item {
        var tree = Selection()
        for path in paths { tree.add(path.elements[...]) }
        var out: Item = [:]
        for (name, selection) in tree.keys {
            if let value = item[name], let kept = selection.project(value) { out[name] = kept }
        }
        return out
    }

    /// The requested parts of one value: all of it, or some of its keys or indexes.
    private struct Selection {
        var whole = false
        var keys: [String: Selection] = [:]
        var indexes: [Int: Selection] = [:]

        mutating func add(_ path: ArraySlice<PathElement>) {
            guard let first = path.first else { whole = true; return }
            switch first {
            case .name(let key): keys[key, default: Selection()].add(path.dropFirst())
            case .index(let i): indexes[i, default: Selection()].add(path.dropFirst())
            }
        }

        func project(_ value: AttributeValue) -> AttributeValue? {
            if whole { return value }
            switch value {
            case .m(let map) where !keys.isEmpty:
                var out: [String: AttributeValue] = [:]
                for (key, selection) in keys {
                    if let child = map[key], let kept = selection.project(child) { out[key] = kept }
                }
                return out.isEmpty ? nil : .m(out)
            case .l(let list) where !indexes.isEmpty:
                let kept = indexes.keys.sorted().compactMap { i in i < list.count ? indexes[i]!.project(list[i]) : nil }
                return kept.isEmpty ? nil : .l(kept)
            default:
                return nil
            }
        }
    }
}
