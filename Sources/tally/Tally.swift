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
}
