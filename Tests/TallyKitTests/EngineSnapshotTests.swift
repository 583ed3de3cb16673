import Foundation
import Testing
@testable import TallyKit

#if canImport(Glibc)
import Glibc
#endif

/// A batch encodes `index.bin` on another thread while it writes `state.json`, but renames
/// it only once `state.json` is in place: the durability steps' order.
struct EngineSnapshotTests {
    static func workspace() -> (root: String, settings: EngineSettings) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("tally-snap-\(UUID().uuidString)").path
        return (root, EngineSettings(config: TallyConfig(), inbox: root + "/inbox", data: root + "/data", site: root + "/site"))
    }

    static func drop(_ name: String, rows: Int, into inbox: String) throws {
        var text = "Timestamp,Email Address,Full name,Course\n"
        for row in 0..<rows { text += "9/2/2024 10:\(10 + row % 50):00,s\(row)@example.org,Student \(row),Course \(row % 3)\n" }
        try Data(text.utf8).write(to: URL(fileURLWithPath: inbox + "/" + name))
    }

    @Test("a batch's index.bin reads back as the state that its state.json lists")
    func indexMatchesState() throws {
        let (root, settings) = Self.workspace()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let engine = try Engine(settings: settings)
        try Self.drop("a.csv", rows: 40, into: settings.paths.inbox)
        _ = try engine.sync()
        #expect(try Snapshot.readIndex(at: settings.paths.index) == engine.state)
        #expect(try Snapshot.statePositions(at: settings.paths.state) == engine.state.positions)
        let names = try FileManager.default.contentsOfDirectory(atPath: settings.paths.data)
        #expect(!names.contains { $0.contains(".tmp-") }, "\(names)")
    }

    @Test("when state.json cannot be written, the batch's index.bin is not renamed into place either")
    func indexWaitsForState() throws {
        let (root, settings) = Self.workspace()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let engine = try Engine(settings: settings)
        try Self.drop("a.csv", rows: 10, into: settings.paths.inbox)
        _ = try engine.sync()
        let before = try FileSystem.readFile(settings.paths.index, limit: Int.max)
        // A directory with something in it where state.json goes: its rename fails.
        unlink(settings.paths.state)
        try FileSystem.createDirectory(settings.paths.state + "/blocker")
        try Self.drop("b.csv", rows: 30, into: settings.paths.inbox)
        #expect(throws: (any Error).self) { _ = try engine.sync() }
        #expect(try FileSystem.readFile(settings.paths.index, limit: Int.max) == before)
        // Its files are moved only once state.json is in place: b.csv waits in the inbox
        // (the next batch knows it by its hash and only archives it).
        #expect(FileSystem.exists(settings.paths.inbox + "/b.csv"))
        let names = try FileManager.default.contentsOfDirectory(atPath: settings.paths.data)
        #expect(!names.contains { $0.contains(".tmp-") }, "\(names)")
    }

    @Test("a gate lets its waiter go once opened, and throws what it failed with")
    func gate() throws {
        let open = Gate()
        let waiter = BackgroundWork { try open.wait() }
        open.open()
        try waiter.wait()
        struct Stop: Error {}
        let failed = Gate()
        let stopped = BackgroundWork { try failed.wait() }
        failed.fail(Stop())
        #expect(throws: Stop.self) { try stopped.wait() }
    }
}
