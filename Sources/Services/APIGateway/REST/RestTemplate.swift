import Foundation

/// Mapping templates: the subset of Velocity (VTL) API Gateway templates use — references (`$x.y`, `${x}`, `$!x`,
/// method calls), `#set`, `#if/#elseif/#else/#end`, `#foreach` — over `$input`, `$util`, `$context` and
/// `$stageVariables`. Anything it cannot parse is written out as text, as Velocity does with what is not a directive.
enum RestTemplate {
    struct Input {
        var invoke: InvokeRequest
        /// `$input`'s body: the request's for a request template, the integration's answer for a response template.
        var body: [UInt8]
    }

    indirect enum Node {
        case text(String)
        case output(Expr, silent: Bool, source: String)
        case set(String, [Access], Expr)
        case ifChain([(Expr, [Node])], [Node]?)
        case foreach(String, Expr, [Node])
    }

    enum Access { case member(String), call(String, [Expr]), index(Expr) }

    indirect enum Expr {
        case literal(Any)
        case ref(String, [Access])
        case list([Expr])
        case map([(Expr, Expr)])
        case not(Expr)
        case binary(String, Expr, Expr)
        case range(Expr, Expr)
    }

    final class Input$ {
        let input: Input
        init(_ input: Input) { self.input = input }
    }
    final class Util$ {}

    static func render(_ template: String, _ input: Input) -> String {
        var parser = Parser(Array(template.unicodeScalars))
        let nodes = parser.nodes(until: [])
        var vars: [String: Any] = [
            "input": Input$(input), "util": Util$(), "context": input.invoke.requestContext,
            "stageVariables": input.invoke.stageVariables,
        ]
        var out = ""
        run(nodes, &vars, &out, depth: 0)
        return out
    }

    // MARK: evaluation

    static func run(_ nodes: [Node], _ vars: inout [String: Any], _ out: inout String, depth: Int) {
        guard depth < 32 else { return }
        for node in nodes {
            switch node {
            case .text(let t): out += t
            case .output(let e, let silent, let source):
                if let v = eval(e, vars), !(v is NSNull) { out += display(v) } else if !silent { out += source }
            case .set(let name, let path, let e):
                let value = eval(e, vars) ?? NSNull()
                if path.isEmpty { vars[name] = value } else if case .member(let key)? = path.last, var dict = vars[name] as? [String: Any], path.count == 1 {
                    dict[key] = value
                    vars[name] = dict
                }
            case .ifChain(let branches, let otherwise):
                if let body = branches.first(where: { truthy(eval($0.0, vars)) })?.1 { run(body, &vars, &out, depth: depth + 1) }
                else if let otherwise { run(otherwise, &vars, &out, depth: depth + 1) }
            case .foreach(let name, let e, let body):
                let items: [Any]
                switch eval(e, vars) {
                case let a as [Any]: items = a
                case let d as [String: Any]: items = Array(d.values)
                default: items = []
                }
                let saved = (vars[name], vars["foreach"])
                for (i, item) in items.prefix(10000).enumerated() {
                    vars[name] = item
                    vars["foreach"] = ["index": i, "count": i + 1, "hasNext": i < items.count - 1, "first": i == 0, "last": i == items.count - 1]
                    run(body, &vars, &out, depth: depth + 1)
                }
                vars[name] = saved.0
                vars["foreach"] = saved.1
            }
        }
    }

    static func truthy(_ v: Any?) -> Bool {
        switch v {
        case nil: false
        case is NSNull: false
        case let b as Bool: b
        case let n as NSNumber where RestProxy.isBool(n): n.boolValue
        default: true
        }
    }

    /// A value as a template writes it.
    static func display(_ v: Any) -> String {
        switch v {
        case let s as String: s
        case let b as Bool: b ? "true" : "false"
        case let i as Int: String(i)
        case let d as Double: d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
        case let n as NSNumber: RestProxy.scalar(n)
        case is [Any], is [String: Any]: stringify(v)
        case let i as Input$: String(decoding: i.input.body, as: UTF8.self)
        default: "\(v)"
        }
    }

    /// JSON text of a value (a string as itself).
    static func stringify(_ v: Any) -> String {
        if let s = v as? String { return s }
        return json(v)
    }

    static func json(_ v: Any) -> String {
        if v is NSNull { return "null" }
        if let d = try? JSONSerialization.data(withJSONObject: v, options: [.fragmentsAllowed, .withoutEscapingSlashes]) { return String(decoding: d, as: UTF8.self) }
        return display(v)
    }

    static func number(_ v: Any?) -> Double? {
        switch v {
        case let i as Int: Double(i)
        case let d as Double: d
        case let n as NSNumber where !RestProxy.isBool(n): n.doubleValue
        case let s as String: Double(s)
        default: nil
        }
    }

    static func equal(_ a: Any?, _ b: Any?) -> Bool {
        if let x = a as? String, let y = b as? String { return x == y }
        if let x = number(a), let y = number(b), !(a is String), !(b is String) { return x == y }
        if (a == nil || a is NSNull) && (b == nil || b is NSNull) { return true }
        if let x = a, let y = b, (x is Bool || RestProxy.isBool(x)) && (y is Bool || RestProxy.isBool(y)) { return truthy(x) == truthy(y) }
        if let x = a, let y = b { return display(x) == display(y) }
        return false
    }

    static func eval(_ e: Expr, _ vars: [String: Any]) -> Any? {
        switch e {
        case .literal(let v): return v
        case .list(let items): return items.map { eval($0, vars) ?? NSNull() }
        case .map(let pairs):
            var d: [String: Any] = [:]
            for (k, v) in pairs { d[display(eval(k, vars) ?? "")] = eval(v, vars) ?? NSNull() }
            return d
        case .range(let a, let b):
            guard let x = number(eval(a, vars)), let y = number(eval(b, vars)), abs(y - x) < 10000 else { return [Any]() }
            return x <= y ? Array(Int(x)...Int(y)) : Array((Int(y)...Int(x)).reversed())
        case .not(let x): return !truthy(eval(x, vars))
        case .binary(let op, let l, let r):
            let a = eval(l, vars)
            switch op {
            case "&&": return truthy(a) && truthy(eval(r, vars))
            case "||": return truthy(a) || truthy(eval(r, vars))
            default: break
            }
            let b = eval(r, vars)
            switch op {
            case "==": return equal(a, b)
            case "!=": return !equal(a, b)
            case "+":
                if let x = number(a), let y = number(b), !(a is String), !(b is String) { return x + y }
                return display(a ?? "") + display(b ?? "")
            case "-", "*", "/", "%":
                guard let x = number(a), let y = number(b) else { return nil }
                switch op {
                case "-": return x - y
                case "*": return x * y
                case "/": return y == 0 ? nil : x / y
                default: return y == 0 ? nil : x.truncatingRemainder(dividingBy: y)
                }
            default:
                guard let x = number(a), let y = number(b) else { return false }
                switch op {
                case "<": return x < y
                case ">": return x > y
                case "<=": return x <= y
                default: return x >= y
                }
            }
        case .ref(let name, let path):
            if name == "__interpolate", case .call(_, let parts)? = path.first {
                return parts.map { eval($0, vars).map(display) ?? "" }.joined()
            }
            var value: Any? = vars[name]
            for access in path {
                guard let current = value else { return nil }
                switch access {
                case .member(let key): value = member(current, key)
                case .index(let i): value = index(current, eval(i, vars))
                case .call(let method, let args): value = call(current, method, args.map { eval($0, vars) ?? NSNull() })
                }
            }
            return value
        }
    }

    static func member(_ v: Any, _ key: String) -> Any? {
        switch v {
        case let d as [String: Any]: return d[key]
        case let d as [String: String]: return d[key]
        case let i as Input$: return key == "body" ? String(decoding: i.input.body, as: UTF8.self) : nil
        default: return nil
        }
    }

    static func index(_ v: Any, _ i: Any?) -> Any? {
        if let a = v as? [Any], let n = number(i).map(Int.init), a.indices.contains(n) { return a[n] }
        if let d = v as? [String: Any], let k = i as? String { return d[k] }
        return nil
    }

    static func call(_ v: Any, _ method: String, _ args: [Any]) -> Any? {
        let first = args.first.map { display($0) } ?? ""
        switch v {
        case let input as Input$:
            switch method {
            case "json": return jsonPath(first, input.input.body).map(json) ?? "null"
            case "path": return jsonPath(first, input.input.body)
            case "params":
                return args.isEmpty ? paramsMap(input.input.invoke) : param(first, input.input.invoke)
            default: return nil
            }
        case is Util$:
            switch method {
            case "escapeJavaScript": return escapeJavaScript(first)
            case "base64Encode": return Data(first.utf8).base64EncodedString()
            case "base64Decode": return Data(base64Encoded: first).map { String(decoding: $0, as: UTF8.self) } ?? ""
            case "urlEncode":
                return first.addingPercentEncoding(withAllowedCharacters: CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_.*")))?
                    .replacingOccurrences(of: "%20", with: "+") ?? first
            case "urlDecode": return first.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? first
            case "parseJson": return (try? JSONSerialization.jsonObject(with: Data(first.utf8), options: [.fragmentsAllowed])) ?? NSNull()
            default: return nil
            }
        default: break
        }
        switch (method, v) {
        case ("get", _): return member(v, first) ?? index(v, args.first)
        case ("size", let a as [Any]): return a.count
        case ("size", let d as [String: Any]): return d.count
        case ("size", let d as [String: String]): return d.count
        case ("size", let s as String), ("length", let s as String): return s.count
        case ("keySet", let d as [String: Any]): return d.keys.sorted()
        case ("keySet", let d as [String: String]): return d.keys.sorted()
        case ("containsKey", _): return member(v, first) != nil
        case ("isEmpty", let s as String): return s.isEmpty
        case ("isEmpty", let a as [Any]): return a.isEmpty
        case ("isEmpty", let d as [String: Any]): return d.isEmpty
        case ("toString", _): return display(v)
        case ("equals", _): return equal(v, args.first)
        case ("contains", let s as String): return s.contains(first)
        case ("contains", let a as [Any]): return a.contains { equal($0, args.first) }
        case ("toLowerCase", let s as String): return s.lowercased()
        case ("toUpperCase", let s as String): return s.uppercased()
        case ("trim", let s as String): return s.trimmingCharacters(in: .whitespaces)
        case ("startsWith", let s as String): return s.hasPrefix(first)
        case ("endsWith", let s as String): return s.hasSuffix(first)
        case ("replace", let s as String), ("replaceAll", let s as String):
            guard args.count == 2 else { return s }
            return s.replacingOccurrences(of: first, with: display(args[1]), options: method == "replaceAll" ? .regularExpression : [])
        case ("split", let s as String): return s.components(separatedBy: first)
        default: return nil
        }
    }

    static func paramsMap(_ r: InvokeRequest) -> [String: Any] {
        ["path": r.pathParameters, "querystring": Dictionary(r.query, uniquingKeysWith: { _, b in b }),
         "header": Dictionary(r.headers, uniquingKeysWith: { _, b in b })]
    }

    /// `$input.params('x')`: a path parameter, else the query string's, else a header's.
    static func param(_ name: String, _ r: InvokeRequest) -> String {
        r.pathParameters[name] ?? r.queryValue(name) ?? r.header(name) ?? ""
    }

    /// A mapping's source: `method.request.path|querystring|header.<name>`, `'literal'`, `stageVariables.<name>`,
    /// `context.<name>`.
    static func parameter(_ source: String, _ r: InvokeRequest) -> String? {
        if source.hasPrefix("'") && source.hasSuffix("'") && source.count >= 2 { return String(source.dropFirst().dropLast()) }
        for (prefix, lookup) in [("method.request.path.", { (n: String) in r.pathParameters[n] }),
                                 ("method.request.querystring.", { (n: String) in r.queryValue(n) }),
                                 ("method.request.header.", { (n: String) in r.header(n) }),
                                 ("stageVariables.", { (n: String) in r.stageVariables[n] }),
                                 ("context.", { (n: String) in (r.requestContext[n]).map(display) })] where source.hasPrefix(prefix) {
            return lookup(String(source.dropFirst(prefix.count)))
        }
        return nil
    }

    static func escapeJavaScript(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "'": out += "\\'"
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "/": out += "\\/"
            default:
                if c.value < 0x20 { out += String(format: "\\u%04X", c.value) } else { out.unicodeScalars.append(c) }
            }
        }
        return out
    }

    /// A JSONPath of the subset templates use (`$`, `$.a.b`, `$['a']`, `$.items[0]`) over a JSON body.
    static func jsonPath(_ path: String, _ body: [UInt8]) -> Any? {
        guard let root = body.isEmpty ? [String: Any]() : try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]) else {
            return path == "$" ? String(decoding: body, as: UTF8.self) : nil
        }
        var value: Any? = root
        var rest = Substring(path.trimmingCharacters(in: .whitespaces))
        guard rest.hasPrefix("$") else { return nil }
        rest = rest.dropFirst()
        while !rest.isEmpty, let current = value {
            if rest.hasPrefix(".") {
                rest = rest.dropFirst()
                let key = rest.prefix { $0 != "." && $0 != "[" }
                rest = rest.dropFirst(key.count)
                value = (current as? [String: Any])?[String(key)]
            } else if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
                let inner = rest[rest.index(after: rest.startIndex)..<close].trimmingCharacters(in: CharacterSet(charactersIn: "'\" "))
                rest = rest[rest.index(after: close)...]
                if let i = Int(inner), let a = current as? [Any] { value = a.indices.contains(i) ? a[i] : nil } else { value = (current as? [String: Any])?[inner] }
            } else {
                return nil
            }
        }
        return value
    }
}
