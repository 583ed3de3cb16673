import ArgumentParser
import TallyKit

struct Rebuild: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recompute data/state.json from the ledgers alone, then re-render the site.")

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        try await reportingAsync {
            let engine = try options.engine()
            let previous = switch try engine.rebuild() {
            case .same: "it matched the previous state.json byte for byte"
            case .different: "it differed from the previous state.json"
            case .none: "there was no state.json before"
            }
            print("tally: state.json rebuilt from the ledgers; \(previous)")
            await options.publish(engine.settings)
        }
    }
}
