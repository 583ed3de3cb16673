import ArgumentParser
import Foundation
import TallyKit

struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Counts from the ledgers: events by kind and status, matched and duplicate rates, rejects, failures, processing time.",
        discussion: """
            Read-only: the figures of data/stats.json when it fits the ledgers, else counted from them. \
            The same figures are in data/metrics.prom (Prometheus text format), replaced after every batch.
            """)

    @OptionGroup var options: GlobalOptions

    @Flag(help: "Print the figures as JSON (the shape of data/stats.json).")
    var json = false

    func run() throws {
        try reporting {
            let settings = try options.settings()
            // Read-only: a mistyped --data must not make a folder.
            guard FileSystem.isDirectory(settings.paths.data) else {
                throw Failure.failed("\(settings.paths.data) does not exist: nothing to count")
            }
            let saved = LedgerStats.load(path: settings.paths.stats)
            let stats: LedgerStats
            do {
                stats = try LedgerStats.current(saved: saved, ledger: try Ledger(directory: settings.paths.data))
            } catch {
                throw Failure.failed("the ledgers could not be read: \(error)")
            }
            // The number of students comes from the last batch's stats.json.
            let students = saved == stats ? Self.students(settings.paths.stats) : nil
            if json {
                print(String(decoding: stats.encodedJSON(students: students).dropLast(), as: UTF8.self))
            } else {
                print(Self.table(stats, students: students))
            }
        }
    }

    static func students(_ path: String) -> Int? {
        guard let bytes = try? FileSystem.readFile(path, limit: 1 << 20) else { return nil }
        return (try? JSONParser.parse(bytes))?["students"]?.int
    }

    static func table(_ stats: LedgerStats, students: Int?) -> String {
        func percent(_ rate: Double?) -> String { rate.map { String(format: "%.1f %%", $0 * 100) } ?? "-" }
        func pad(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
        var lines = ["events by kind            applied  duplicate  unmatched"]
        for kind in EventKind.allCases {
            guard let counts = stats.decisions[kind] else { continue }
            lines.append("  " + kind.rawValue.padding(toLength: 22, withPad: " ", startingAt: 0)
                         + pad("\(counts.applied)", 9) + pad("\(counts.duplicate)", 11) + pad("\(counts.unmatched)", 11))
        }
        if stats.decisions.isEmpty { lines.append("  (none yet)") }
        let timing = stats.processing
        lines += [
            "moves (roster, link)      \(stats.moves)",
            "matched rate              \(percent(stats.matchedRate))   (personal events that found their student on arrival)",
            "duplicate rate            \(percent(stats.duplicateRate))",
            "rejected rows             \(stats.rejectedRows)",
            "files                     \(stats.filesDone) done, \(stats.filesFailed) failed, \(stats.filesSkipped) already processed, \(stats.rosters) rosters",
            "points                    \(stats.pointsAwarded) awarded, \(stats.pointsRevoked) taken back",
            "processing                " + (timing.count == 0 ? "-"
                : "\(timing.count) files, mean \(timing.totalMilliseconds / timing.count) ms, longest \(timing.maxMilliseconds) ms"),
        ]
        if let students { lines.append("students                  \(students)") }
        lines.append("ledger lines              events \(stats.positions.events.seq), points \(stats.positions.points.seq), audit \(stats.positions.audit.seq)")
        return lines.joined(separator: "\n")
    }
}
