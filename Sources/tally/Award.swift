import ArgumentParser
import TallyKit

struct Award: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Award points by hand (negative to correct).",
        discussion: "Example: tally award ada@school.example 10 --reason \"Helped at the meetup\". For a negative amount put -- before the arguments: tally award --reason \"Typo\" -- ada@school.example -10")

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The student's email address.")
    var email: String

    @Argument(help: "Points to add; negative to take away.")
    var points: Int

    @Option(help: "Why, for the ledger.")
    var reason: String

    func run() async throws {
        try await reportingAsync {
            let address: Email
            do { address = try Email(normalising: email) } catch { throw Failure.usage("\(error)") }
            guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw Failure.usage("--reason must not be empty") }
            if let problem = PointsLimit.problem(points) { throw Failure.usage(problem) }
            let engine = try options.engine()
            let outcome = try engine.award(email: address, points: points, reason: reason)
            if outcome.events.first?.status == .unmatched {
                print("tally: \(address.value) is not on the roster; the award waits in unmatched.jsonl until `tally link` or a roster lists it")
            } else {
                // What was granted: a cap on MANUAL may have cut it (the ledger line says so).
                let granted = outcome.points.reduce(0) { $0 + $1.points }
                let cut = granted == points ? "" : " (\(points) asked; a cap cut it)"
                print("tally: awarded \(granted) points to \(outcome.events.first?.student ?? address.value)\(cut)")
            }
            // Committed all the same: the log said why, and that it must not be run again.
            if engine.siteError != nil { throw ExitCode(1) }
            await options.publish(engine.settings)
        }
    }
}

import Foundation
