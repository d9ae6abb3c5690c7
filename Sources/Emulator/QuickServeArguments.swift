/// `cloudless [serve] [--<option> <value> | --<flag>]...`, the way every script and test starts the server, read without
/// ArgumentParser: its parse reflects over the commands (`Mirror`, `String(describing:)`, casts), and each first
/// reflection scans every protocol conformance record in the binary, ~2 ms of CPU before the first answer.
/// Anything else (help, version, `--option=value`, an option given twice, an unknown word, a value that looks like an
/// option or a port that is not a number) is nil, and ArgumentParser reads it, with its own messages.
enum QuickServeArguments {
    static let valueOptions: Set<String> = ["--host", "--port", "--data-dir", "--account-id", "--region", "--log-level",
                                            "--credentials", "--ecs-images", "--faults", "--init-dir",
                                            "--snapshot"]
    static let flags: Set<String> = ["--ephemeral", "--strict-auth"]

    static func parse(_ arguments: [String]) -> ServeOptions? {
        var rest = arguments[...]
        if rest.first == "serve" { rest = rest.dropFirst() }
        var values: [String: String] = [:]
        var set: Set<String> = []
        while let word = rest.popFirst() {
            if flags.contains(word) {
                guard set.insert(word).inserted else { return nil }
            } else if valueOptions.contains(word) {
                guard values[word] == nil, let value = rest.popFirst(), !value.hasPrefix("-") else { return nil }
                values[word] = value
            } else {
                return nil
            }
        }
        var port: Int?
        if let text = values["--port"] {
            guard let number = Int(text) else { return nil }
            port = number
        }
        return ServeOptions(host: values["--host"], port: port, dataDir: values["--data-dir"],
                            ephemeral: set.contains("--ephemeral"), accountID: values["--account-id"],
                            region: values["--region"], logLevel: values["--log-level"],
                            strictAuth: set.contains("--strict-auth"), credentials: values["--credentials"],
                            ecsImages: values["--ecs-images"], faultsFile: values["--faults"],
                            initDir: values["--init-dir"], snapshot: values["--snapshot"])
    }
}
