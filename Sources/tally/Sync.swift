import ArgumentParser
import TallyKit

struct Sync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Process every file now in the inbox, update ledgers, snapshot and site, and exit.",
        discussion: "Prints nothing when the inbox is empty, so cron sends no mail. Exit 1 when some input failed or was rejected.")

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        try await reportingAsync {
            let engine = try options.engine()
            keptUntilExit = engine
            let report = try engine.sync()
            guard !report.files.isEmpty else { return }
            print(summary(report, site: engine.settings.paths.site))
            if report.siteError == nil { await options.publish(engine.settings) }
            if report.hasProblems { throw ExitCode(1) }
        }
    }
}

/// The engine of a one-shot command, never released: with a million events in memory,
/// tearing the state down piece by piece took seconds that the process's exit does at once.
/// (Everything is durable before the command returns; the lock goes with the process.)
nonisolated(unsafe) var keptUntilExit: Engine?

/// One line for a batch, as `sync` prints it.
func summary(_ report: BatchReport, site: String) -> String {
    // A roster's counts are re-homings of earlier events, not new events.
    let inputs = report.files.filter { $0.students == nil }
    let applied = inputs.reduce(0) { $0 + $1.applied }
    let duplicates = inputs.reduce(0) { $0 + $1.duplicates }
    let unmatched = inputs.reduce(0) { $0 + $1.unmatched }
    let points = report.files.reduce(0) { $0 + $1.points }
    let skipped = report.files.filter { $0.outcome == .skipped }.count
    var parts = ["\(report.files.count) file\(report.files.count == 1 ? "" : "s")",
                 "\(report.events) events (\(applied) applied, \(duplicates) duplicate, \(unmatched) unmatched)",
                 "\(report.rejected) rejected", "\(report.failed) failed", "\(points) points"]
    if skipped > 0 { parts.append("\(skipped) already processed") }
    let place = report.siteError == nil ? "site: \(site)/index.html" : "site NOT rendered (see the error above)"
    return "tally: " + parts.joined(separator: ", ") + "; " + place
}
