import Foundation
import ArgumentParser
import TallyKit

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the ledgers (parse, sequence, hash chain, commits) against the snapshot.",
        discussion: "Read-only. Exit 0 when everything holds, 1 with one line per problem otherwise, 75 when a running Tally committed a batch while verify read (run it again).")

    @OptionGroup var options: GlobalOptions

    func run() throws {
        try reporting {
            let settings = try options.settings()
            // Verify takes no lock: `tally watch` may commit a batch while the ledgers and the
            // snapshot are read one after the other (or write `state.json` just after), and a
            // half-seen batch looks like damage. So problems are looked at again: those that
            // stay the same while no batch commits are the ledgers' own.
            let audit = settings.paths.data + "/audit.jsonl"
            func auditSize() -> Int? { (try? FileManager.default.attributesOfItem(atPath: audit))?[.size] as? Int }
            func look() throws -> (result: Verifier.Result, moved: Bool) {
                let before = auditSize()
                let result = try Verifier(settings: settings).run()
                return (result, auditSize() != before)
            }
            var seen = try look()
            var looks = 1
            while !seen.result.problems.isEmpty && looks < 4 {
                let previous = seen
                usleep(200_000)
                seen = try look()
                looks += 1
                if !seen.moved && !previous.moved && seen.result.problems == previous.result.problems { break }
            }
            let result = seen.result
            if !result.problems.isEmpty, seen.moved {
                printError("tally: a running Tally committed a batch while verify read the ledgers, so what verify saw is not one moment; run it again when the daemon is idle")
                throw ExitCode(75)
            }
            for line in result.summary { print(line) }
            for problem in result.problems { printError("tally: \(problem)") }
            if !result.problems.isEmpty { throw ExitCode(1) }
        }
    }
}
