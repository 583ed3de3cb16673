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
    /// What the file was when listed; nil for what Tally made itself (a message's parts) and
    /// the configured roster, which stays in place.
    public var identity: FileIdentity? = nil
}

/// Which file a path named, and as what: a file replaced under the same name (a new export
/// renamed over the old one) or written to since has another identity.
public struct FileIdentity: Equatable, Sendable {
    var device: UInt64
    var inode: UInt64
    var size: Int64
    var modifiedSeconds: Int64
    var modifiedNanoseconds: Int64

    init(_ info: stat) {
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        modifiedSeconds = Int64(info.st_mtim.tv_sec)
        modifiedNanoseconds = Int64(info.st_mtim.tv_nsec)
    }

    /// The identity of what `path` names now (not following a link); nil when nothing does.
    static func of(_ path: String) -> FileIdentity? {
        var info = stat()
        return lstat(path, &info) == 0 ? FileIdentity(info) : nil
    }
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
    ///
    /// A file whose name is not UTF-8 (from a Samba share, or a zip's Latin-1 names) has no
    /// path a `String` can spell, so it could be neither read nor moved: it is renamed in
    /// place to a name that spells its bytes (`caf%E9.csv`), and `notice` says so. A symbolic
    /// link, a FIFO or a socket is never read (a link could name any file Tally can read),
    /// and `notice` says that too; folders are passed over in silence.
    public func pendingFiles(notice: (String) -> Void = { _ in }) throws -> [InboxFile] {
        var files: [InboxFile] = []
        for folder in folders {
            guard let dir = opendir(folder) else { throw SystemError("opendir", path: folder) }
            defer { closedir(dir) }
            while let entry = readdir(dir) {
                let raw = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix(while: { $0 != 0 })) }
                let name: String
                if let valid = String(validating: raw, as: UTF8.self) {
                    name = valid
                } else {
                    name = Inbox.spelled(raw)
                    guard !Inbox.isIncomplete(name) else { continue }
                    let target = folder + "/" + name
                    let moved = !FileSystem.exists(target) && (Array(folder.utf8) + [0x2F] + raw + [0]).withUnsafeBufferPointer {
                        $0.withMemoryRebound(to: CChar.self) { rename($0.baseAddress!, target) == 0 }
                    }
                    guard moved else {
                        notice("a file in \(folder) named \(name) (its name is not UTF-8) could not be renamed to that, so it cannot be read; rename it")
                        continue
                    }
                    notice("renamed a file in \(folder) whose name is not UTF-8 to \(name)")
                }
                guard name != ".", name != "..", !Inbox.isIncomplete(name) else { continue }
                let path = folder + "/" + name
                var info = stat()
                guard lstat(path, &info) == 0 else { continue }
                let type = info.st_mode & S_IFMT
                guard type == S_IFREG else {
                    if type != S_IFDIR {
                        let what = type == S_IFLNK ? "a symbolic link" : "not a regular file"
                        notice("\(path) is \(what), so it is not read; drop the file itself")
                    }
                    continue
                }
                let modified = Timestamp(milliseconds: Int64(info.st_mtim.tv_sec) * 1000 + Int64(info.st_mtim.tv_nsec) / 1_000_000)
                files.append(InboxFile(name: name, path: path, modified: modified, size: Int(info.st_size),
                                       identity: FileIdentity(info)))
            }
        }
        return files.sorted { ($0.modified, $0.name) < ($1.modified, $1.name) }
    }

    /// Moves `file` into `directory`, keeping its name (with ` (2)`, ` (3)`… when taken),
    /// and returns the new path. Falls back to copy-then-remove across file systems. With
    /// `durable` (the default) `directory` is fsynced before it returns; a caller moving many
    /// files passes false and syncs each directory once when all are moved.
    ///
    /// A name is at most 255 bytes: a long one is shortened (its extension kept) so that the
    /// counter, and `reserving` bytes more (a `.error.txt` beside it, and that file's
    /// temporary name), still fit. A file with a 251-byte name dropped twice stayed in the
    /// inbox, its second move failing on "File name too long".
    public static func move(_ path: String, into directory: String, reserving: Int = 0, durable: Bool = true) throws -> String {
        try FileSystem.createDirectory(directory)
        let name = FileSystem.split(path).name
        var target = directory + "/" + fitted(name, counter: "", reserving: reserving)
        var counter = 2
        while FileSystem.exists(target) {
            target = directory + "/" + fitted(name, counter: " (\(counter))", reserving: reserving)
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

    /// `bytes` as a UTF-8 name: each byte that is not part of valid UTF-8 (and each `%`)
    /// written `%XX`.
    static func spelled(_ bytes: [UInt8]) -> String {
        var result = ""
        var index = 0
        while index < bytes.count {
            var parser = Unicode.UTF8.ForwardParser()
            var rest = bytes[index...].makeIterator()
            if case .valid(let encoded) = parser.parseScalar(from: &rest), bytes[index] != UInt8(ascii: "%") {
                result.unicodeScalars.append(Unicode.UTF8.decode(encoded))
                index += encoded.count
            } else {
                let hex = String(bytes[index], radix: 16, uppercase: true)
                result += (hex.count == 1 ? "%0" : "%") + hex
                index += 1
            }
        }
        return result
    }

    /// `name` with `counter` before its extension, its stem cut (at a character) so that the
    /// whole and `reserving` bytes more fit in a file name's 255 bytes.
    static func fitted(_ name: String, counter: String, reserving: Int) -> String {
        let limit = 255 - reserving
        var (stem, ext) = splitExtension(name)
        if ext.utf8.count > 32 { (stem, ext) = (name, "") }   // not an extension: part of the name
        while !stem.isEmpty && stem.utf8.count + counter.utf8.count + ext.utf8.count > limit { stem.removeLast() }
        return stem + counter + ext
    }

    static func splitExtension(_ name: String) -> (String, String) {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return (name, "") }
        return (String(name[..<dot]), String(name[dot...]))
    }
}
