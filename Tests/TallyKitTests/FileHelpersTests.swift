import Foundation
import Testing
@testable import TallyKit

struct FileHelpersTests {
    @Test("a file's hash is the SHA-256 of all its bytes, whatever its size against the read buffer")
    func hashFileSizes() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hash-\(UUID().uuidString)").path
        try FileSystem.createDirectory(directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var generator = SeededGenerator(seed: 77)
        for size in [0, 1, 4_095, 4_096, 4_097, (1 << 18) - 1, 1 << 18, (1 << 18) + 1, (1 << 20) + 3] {
            let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let path = directory + "/f\(size)"
            try FileSystem.writeAtomically(bytes, to: path, durable: false)
            // The digest computed another way: Python's hashlib, reading the same file.
            let python = Process()
            python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            python.arguments = ["python3", "-c", "import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],'rb').read()).hexdigest())", path]
            let output = Pipe()
            python.standardOutput = output
            try python.run()
            let expected = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            python.waitUntilExit()
            #expect(try hashFile(path) == expected, "size \(size)")
            // Read on a second thread while this one hashes (as a file of 8 MiB or more is).
            #expect(try hashFile(path, threadFrom: 0) == expected, "size \(size), read on a thread")
            #expect(expected.count == 64)
        }
        #expect(throws: SystemError.self) { try hashFile(directory + "/missing") }
        // A directory opens but cannot be read: the reading thread's error comes out here.
        #expect(throws: SystemError.self) { try hashFile(directory, threadFrom: 0) }
    }
}
