/// What the binary was built from. Kept apart from Core so that a new commit recompiles only this target and the
/// executable: the value is generated at build time by Plugins/BuildInfoPlugin (`GeneratedCommit.swift`).
public enum BuildInfo {
    /// The short commit hash, `<hash>-dirty` when the compiled sources differed from it, `unknown` outside git.
    public static var commit: String { generatedCommit }
}
