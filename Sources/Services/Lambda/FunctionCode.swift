import Core
import Foundation
import ZIPFoundation

/// Deployment packages: each zip is kept once by content (`lambda/code/<sha256>.zip`) and unpacked once
/// (`lambda/unpacked/<sha256>/`), the folder an instance runs in (LAMBDA_TASK_ROOT).
struct FunctionCode {
    let directory: String

    static let maxZipBytes = 50 * 1024 * 1024
    static let maxUnzippedBytes = 250 * 1024 * 1024

    struct Stored {
        var sha256Hex: String
        /// CodeSha256 as Lambda shows it: base64 of the digest.
        var sha256Base64: String
        var size: Int
    }

    /// Keep a zip and check that it unpacks; throws InvalidParameterValueException as Lambda does for a bad zip.
    /// `direct`: uploaded in the request (at most 50 MB zipped); through S3 only the unzipped size (250 MB) is bounded.
    func store(_ zip: [UInt8], direct: Bool = true) throws -> Stored {
        if direct && zip.count > Self.maxZipBytes {
            throw AWSError("RequestEntityTooLargeException", "Zipped size must be smaller than \(Self.maxZipBytes) bytes", status: .contentTooLarge)
        }
        if Self.unzippedSize(zip) > Self.maxUnzippedBytes { throw Self.unzippedTooLarge }
        let digest = SHA256.hash(zip)
        let hex = Hex.encode(digest)
        let path = "\(directory)/code/\(hex).zip"
        if !FileManager.default.fileExists(atPath: path) {
            let tmp = path + ".\(UUID().uuidString).tmp"
            guard FileManager.default.createFile(atPath: tmp, contents: Data(zip)) else { throw AWSError.internalError() }
            _ = rename(tmp, path)
        }
        _ = try unpacked(hex)
        return Stored(sha256Hex: hex, sha256Base64: Data(digest).base64EncodedString(), size: zip.count)
    }

    static let unzippedTooLarge = AWSError("InvalidParameterValueException", "Unzipped size must be smaller than \(maxUnzippedBytes) bytes")

    /// The total uncompressed size the zip's entries declare (0 when it is not a zip: unpacking reports that).
    static func unzippedSize(_ zip: [UInt8]) -> Int {
        guard let archive = try? Archive(data: Data(zip), accessMode: .read) else { return 0 }
        return archive.reduce(0) { $0 + Int($1.uncompressedSize) }
    }

    func zipBytes(_ hex: String) -> Data? { FileManager.default.contents(atPath: "\(directory)/code/\(hex).zip") }

    /// The unpacked folder of a stored zip, unpacking it on first use.
    func unpacked(_ hex: String) throws -> String {
        let folder = "\(directory)/unpacked/\(hex)"
        if FileManager.default.fileExists(atPath: folder) { return folder }
        let tmp = folder + ".\(UUID().uuidString).tmp"
        do {
            try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
            try FileManager.default.unzipItem(at: URL(fileURLWithPath: "\(directory)/code/\(hex).zip"), to: URL(fileURLWithPath: tmp))
        } catch {
            try? FileManager.default.removeItem(atPath: tmp)
            throw AWSError("InvalidParameterValueException", "Could not unzip uploaded file. Please check your file, then try to upload again.")
        }
        // A `bootstrap` (provided runtimes) must be executable even when the zip lost its mode bits.
        let bootstrap = tmp + "/bootstrap"
        if FileManager.default.fileExists(atPath: bootstrap) { chmod(bootstrap, 0o755) }
        if rename(tmp, folder) != 0 { try? FileManager.default.removeItem(atPath: tmp) }  // another request won
        return folder
    }
}
