import Foundation
import Testing
@testable import TallyKit

/// A file that changes in the inbox between its listing and the end of its batch (a new
/// export renamed over it, rows appended) stays there to be read again: moved, it was
/// archived unread and its new rows lost without a word.
struct InboxChangeTests {
    static let header = "Timestamp,Email Address,Full name,Course\n"
    static let ada = "9/2/2024 10:00:00,ada@example.org,Ada Lovelace,AI 1\n"
    static let bob = "9/3/2024 11:00:00,bob@example.org,Bob Brown,AI 1\n"

    static func workspace() -> (root: String, settings: EngineSettings) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("tally-change-\(UUID().uuidString)").path
        return (root, EngineSettings(config: TallyConfig(), inbox: root + "/inbox", data: root + "/data", site: root + "/site"))
    }

    static func write(_ text: String, to path: String) throws { try Data(text.utf8).write(to: URL(fileURLWithPath: path)) }

    @Test("a new version renamed over a file while its batch runs stays in the inbox, and the next batch reads its new rows",
          arguments: ["renamed over", "appended to"])
    func changedWhileRead(how: String) throws {
        let (root, settings) = Self.workspace()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let engine = try Engine(settings: settings)
        let path = settings.paths.inbox + "/completions.csv"
        try Self.write(Self.header + Self.ada, to: path)
        engine.beforeMoves = {
            if how == "renamed over" {
                try? Self.write(Self.header + Self.ada + Self.bob, to: path + ".tmp")
                #expect(rename(path + ".tmp", path) == 0)
            } else {
                let handle = FileHandle(forWritingAtPath: path)
                handle?.seekToEndOfFile()
                handle?.write(Data(Self.bob.utf8))
                try? handle?.close()
            }
        }
        let first = try engine.sync()
        engine.beforeMoves = nil
        #expect(first.events == 1)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == Self.header + Self.ada + Self.bob)
        #expect(!FileManager.default.fileExists(atPath: settings.paths.archive + "/completions.csv"))
        let second = try engine.sync()
        #expect(second.files.map(\.applied) == [1], "\(second)")
        #expect(second.files.map(\.duplicates) == [1])
        #expect(engine.state.students(rules: Rules()).mapValues(\.xp) == ["ada@example.org": 20, "bob@example.org": 20])
        #expect(try engine.pendingFiles().isEmpty)
        #expect(try String(contentsOfFile: settings.paths.archive + "/completions.csv", encoding: .utf8)
                == Self.header + Self.ada + Self.bob)
    }
}
