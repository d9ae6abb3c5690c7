import Foundation
import PackagePlugin

/// Embeds the console's pages (`Sources/Console/assets/*`) into the binary: a static binary has no resource bundle
/// beside it. A build command whose inputs are the asset files, so an edited asset regenerates `GeneratedAssets.swift`
/// (a new asset file is seen when SwiftPM re-evaluates plugins: a manifest change or a new source file).
@main
struct ConsoleAssetsPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let script = context.package.directoryURL.appending(path: "Plugins/ConsoleAssetsPlugin/embed-assets.sh")
        let assets = target.directoryURL.appending(path: "assets")
        let output = context.pluginWorkDirectoryURL.appending(path: "GeneratedAssets.swift")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: assets.path)) ?? []
        let inputs = [script, assets] + names.sorted().filter { !$0.hasPrefix(".") }.map { assets.appending(path: $0) }
        return [.buildCommand(displayName: "Embedding the console's assets",
                              executable: URL(fileURLWithPath: "/bin/sh"),
                              arguments: [script.path, assets.path, output.path],
                              inputFiles: inputs, outputFiles: [output])]
    }
}
