#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file waiting in the inbox.
public struct InboxFile: Equatable, Sendable {
    public var name: String
    public var path: String
    public var modified: Timestamp
    public var size: Int
}

/// The inbox folder: which names count as dropped, in which order they are taken, and where
/// they go afterwards (nothing a user dropped is ever deleted).
public struct Inbox: Sendable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    /// Names writers use while a file is incomplete; they are left alone until renamed.
    public static func isIncomplete(_ name: String) -> Bool {
        if name.hasPrefix(".") || name.hasPrefix("~$") { return true }
        let lower = name.lowercased()
        return [".tmp", ".part", ".partial", ".crdownload", ".swp"].contains { lower.hasSuffix($0) }
    }

    /// True when the inbox is a Maildir (`tmp/`, `new/` and `cur/` in it): messages are
    /// delivered into `tmp/` and renamed into `new/`, where Tally takes them.
    public var isMaildir: Bool {
        ["tmp", "new", "cur"].allSatisfy { FileSystem.isDirectory(directory + "/" + $0) }
    }

    /// The folders files are taken from: the inbox, and `new/` when it is a Maildir
    /// (`tmp/` holds deliveries still being written; `cur/` is a mail reader's).
    public var folders: [String] { isMaildir ? [directory, directory + "/new"] : [directory] }

    /// Regular files ready to be taken, oldest first (modification time, then name).
    public func pendingFiles() throws -> [InboxFile] {
        var files: [InboxFile] = []
        for folder in folders {
            guard let dir = opendir(folder) else { throw SystemError("opendir", path: folder) }
            defer { closedir(dir) }
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
                }
                guard name != ".", name != "..", !Inbox.isIncomplete(name) else { continue }
                let path = folder + "/" + name
                var info = stat()
                guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
                let modified = Timestamp(milliseconds: Int64(info.st_mtim.tv_sec) * 1000 + Int64(info.st_mtim.tv_nsec) / 1_000_000)
                files.append(InboxFile(name: name, path: path, modified: modified, size: Int(info.st_size)))
            }
        }
        return files.sorted { ($0.modified, $0.name) < ($1.modified, $1.name) }
    }

    /// Moves `file` into `directory`, keeping its name (with ` (2)`, ` (3)`… when taken),
    /// and returns the new path. Falls back to copy-then-remove across file systems. With
    /// `durable` (the default) `directory` is fsynced before it returns; a caller moving many
    /// files passes false and syncs each directory once when all are moved.
    public static func move(_ path: String, into directory: String, durable: Bool = true) throws -> String {
        try FileSystem.createDirectory(directory)
        let name = FileSystem.split(path).name
        var target = directory + "/" + name
        var counter = 2
        while FileSystem.exists(target) {
            let (stem, ext) = splitExtension(name)
            target = directory + "/" + stem + " (\(counter))" + ext
            counter += 1
        }
        if rename(path, target) != 0 {
            guard errno == EXDEV else { throw SystemError("rename", path: path) }
            try FileSystem.copy(path, to: target)
            unlink(path)
        }
        if durable { try FileSystem.syncDirectory(directory) }
        return target
    }

    static func splitExtension(_ name: String) -> (String, String) {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return (name, "") }
        return (String(name[..<dot]), String(name[dot...]))
    }
}
