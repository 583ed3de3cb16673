import Foundation
import Synchronization
import Testing

/// A temporary working directory with the real `tally` binary run in it, as a user would.
///
/// Tests drive the built executable (found next to the test bundle, or at `TALLY_BIN`) and
/// read back what it wrote; they never call TallyKit's internals.
final class Workspace {
    let root: URL
    static var binaryURL: URL { binary }

    private static let binary: URL = {
        if let path = ProcessInfo.processInfo.environment["TALLY_BIN"] { return URL(fileURLWithPath: path) }
        // swift test runs .build/<triple>/debug/TallyPackageTests.xctest; tally sits beside it.
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("tally")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".build/debug/tally")
    }()

    /// The samples folder of the repository.
    static let samples: URL = {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
            dir = dir.deletingLastPathComponent()
        }
        return dir.appendingPathComponent("samples")
    }()

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("tally-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("inbox"), withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `tally ARGS` in the workspace and waits for it.
    @discardableResult
    func tally(_ arguments: String..., environment: [String: String] = [:]) throws -> Run {
        try tally(arguments, environment: environment)
    }

    @discardableResult
    func tally(_ arguments: [String], environment: [String: String] = [:]) throws -> Run {
        let process = Process()
        process.executableURL = Workspace.binary
        process.arguments = arguments
        process.currentDirectoryURL = root
        var env = ProcessInfo.processInfo.environment
        env["KAJABI_WEBHOOK_SECRET"] = nil
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                   stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Writes a file relative to the workspace; in the inbox, give each drop a distinct,
    /// increasing modification time so the order of drops is the order of the calls.
    func write(_ relative: String, _ text: String) throws {
        let url = root.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
        try touch(relative)
    }

    /// Gives a file the next modification time of the drop clock.
    func touch(_ relative: String) throws {
        let url = root.appendingPathComponent(relative)
        let tick = Workspace.clock.withLock { value in
            value += 1
            return value
        }
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: tick)], ofItemAtPath: url.path)
    }

    private static let clock = Mutex<TimeInterval>(1_700_000_000)

    /// Drops a copy of a sample into the inbox.
    func drop(sample name: String, as target: String? = nil) throws {
        let text = try String(contentsOf: Workspace.samples.appendingPathComponent(name), encoding: .utf8)
        try write("inbox/" + (target ?? name), text)
    }

    func read(_ relative: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(relative), encoding: .utf8)
    }

    func exists(_ relative: String) -> Bool {
        FileManager.default.fileExists(atPath: root.appendingPathComponent(relative).path)
    }

    func list(_ relative: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(relative).path)) ?? []).sorted()
    }

    /// The lines of a JSON-lines ledger, parsed.
    func ledger(_ name: String) throws -> [[String: Any]] {
        guard exists("data/\(name).jsonl") else { return [] }
        return try read("data/\(name).jsonl").split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:]
        }
    }

    /// `data/state.json`, parsed.
    func state() throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(read("data/state.json").utf8)) as? [String: Any] ?? [:]
    }

    /// Student id → xp, from `state.json`.
    func xp() throws -> [String: Int] {
        let students = try state()["students"] as? [String: [String: Any]] ?? [:]
        return students.mapValues { $0["xp"] as? Int ?? -1 }
    }

    func student(_ id: String) throws -> [String: Any]? {
        (try state()["students"] as? [String: [String: Any]])?[id]
    }
}
