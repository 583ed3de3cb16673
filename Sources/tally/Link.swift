import ArgumentParser
import TallyKit

struct Link: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Give an email's events to a student: its unmatched events are applied, once.")

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The email address whose events move.")
    var email: String

    @Argument(help: "The student id: a roster id, or without a roster an existing student's email.")
    var student: String

    func run() async throws {
        try await reportingAsync {
            let address: Email
            do { address = try Email(normalising: email) } catch { throw Failure.usage("\(error)") }
            let engine = try options.engine()
            let outcome: Outcome
            do { outcome = try engine.link(email: address, to: student) } catch let error as EngineError {
                throw Failure.usage(error.description)
            }
            let applied = outcome.events.filter { $0.status == .applied && $0.event.kind != .link }.count
            let points = outcome.points.reduce(0) { $0 + $1.points }
            print("tally: linked \(address.value) to \(student): \(applied) event\(applied == 1 ? "" : "s") applied, \(points) points")
            if engine.siteError != nil { throw ExitCode(1) }
            await options.publish(engine.settings)
        }
    }
}
