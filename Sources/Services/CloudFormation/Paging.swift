import Core
import Foundation

/// NextToken paging of the list operations: 100 items a page (what AWS returns for DescribeStacks, ListStacks,
/// DescribeStackEvents, ListStackResources, ListExports, ListImports and ListChangeSets). The token is opaque to
/// clients; it carries the offset of the next page.
enum Paging {
    static let size = 100

    /// The page of `items` the token starts, and the token of the next page (nil on the last).
    static func page<T>(_ items: [T], token: String?, size: Int = size) throws -> ([T], String?) {
        var start = 0
        if let token, !token.isEmpty {
            guard let data = Data(base64Encoded: token), let text = String(data: data, encoding: .utf8),
                  text.hasPrefix("cloudless:"), let n = Int(text.dropFirst("cloudless:".count)), n >= 0 else {
                throw CFNError.validation("Invalid NextToken: \(token)")
            }
            start = min(n, items.count)
        }
        let end = min(start + size, items.count)
        let next = end < items.count ? Data("cloudless:\(end)".utf8).base64EncodedString() : nil
        return (Array(items[start..<end]), next)
    }
}
