import ArgumentParser
import TallyKit

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the ledgers (parse, sequence, hash chain, commits) against the snapshot.",
        discussion: "Read-only. Exit 0 when everything holds, 1 with one line per problem otherwise.")

    @OptionGroup var options: GlobalOptions

    func run() throws {
        try reporting {
            let settings = try options.settings()
            let result = try Verifier(settings: settings).run()
            for line in result.summary { print(line) }
            for problem in result.problems { printError("tally: \(problem)") }
            if !result.problems.isEmpty { throw ExitCode(1) }
        }
    }
}
