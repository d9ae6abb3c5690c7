/// S3's virtual-hosted addressing: the bucket as the first labels of the Host
/// (`bucket.s3.localhost.localstack.cloud`, `bucket.localhost`, `bucket.s3.us-west-2.amazonaws.com`).
/// In Core because the gateway needs it too: SigV2 signs `/bucket/key` whatever the addressing style.
public enum VirtualHostedStyle {
    private static let suffixes = [".localhost.localstack.cloud", ".localhost", ".amazonaws.com"]

    public static func bucket(fromHost hostName: String) -> String? {
        let host = hostName.lowercased()
        for suffix in suffixes where host.hasSuffix(suffix) {
            var labels = host.dropLast(suffix.count).split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            // Drop a trailing `s3` or `s3.<region>` / `s3-<region>` service part.
            if labels.count >= 2, labels[labels.count - 2] == "s3", Region.isValid(labels[labels.count - 1]),
               labels[labels.count - 1].contains("-") {
                labels.removeLast(2)
            } else if let last = labels.last, last == "s3" || last.hasPrefix("s3-") {
                labels.removeLast()
            }
            if labels.isEmpty || labels == [""] { return nil }
            return labels.joined(separator: ".")
        }
        return nil
    }
}
