import ArgumentParser

/// The `tally` command: each subcommand parses its arguments and hands the work to TallyKit.
@main
struct Tally: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tally",
        abstract: "Points, levels and a leaderboard from Kajabi payloads and form exports dropped into a folder.",
        version: "0.1.0",
        subcommands: [Sync.self, Watch.self, Render.self, Rebuild.self, Verify.self, Link.self, Award.self, Stats.self, Sign.self, Receive.self]
    )

    /// ArgumentParser's own `main`, but for the code of a usage error: the contract says 2
    /// ("usage or configuration error"), where ArgumentParser exits 64 (EX_USAGE). A systemd
    /// unit that stops restarting on 2 would restart forever on a mistyped option.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                printError(fullMessage(for: error))
                exit(withError: ExitCode(2))
            }
            exit(withError: error)
        }
    }
}
