import ArgumentParser
import TallyKit

struct Rebuild: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recompute data/state.json from the ledgers alone, then re-render the site.")

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        try await reportingAsync {
            let engine = try options.engine()
            let matched = try engine.rebuild()
            print("tally: state.json rebuilt from the ledgers; it \(matched ? "matched" : "differed from") the previous snapshot")
            await options.publish(engine.settings)
        }
    }
}
