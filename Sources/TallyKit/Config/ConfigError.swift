/// Why `tally.toml` could not become a ``TallyConfig``, in words a user can act on.
///
/// Every case names the key, written as a dotted path (`points.course_completed`,
/// `sources[2].pass`, `kajabi.tags.'AI 1 done'`), and the line it is on when the file has it.
/// Entries of an array (`[[sources]]`, `[[badges]]`) are counted from 1, as a person counts
/// the headers in the file. A misspelt key is an error rather than a silent default: a
/// `corse_completed = 30` that changed nothing would be found only when points come out wrong.
///
/// The CLI exits with code 2 on any of these; ``notFound(path:)`` is separate so that a caller
/// can fall back to ``TallyConfig/defaults`` when the file was not asked for explicitly.
public enum ConfigError: Error, CustomStringConvertible, Equatable, Sendable {
    /// No file at `path`.
    case notFound(path: String)
    /// The file exists but could not be read (permissions, a directory, not UTF-8, too big).
    case unreadable(path: String, reason: String)
    /// Not TOML: TOMLKit's message and where it stopped.
    case syntax(line: Int, column: Int, message: String)
    /// A key this version of Tally does not know; `known` lists the keys allowed in its table.
    case unknownKey(key: String, line: Int?, known: [String])
    /// A value of the wrong TOML type: `expected` such as "an integer", `found` the value as
    /// written (`"twenty"`) or its type ("a table").
    case wrongType(key: String, line: Int?, expected: String, found: String)
    /// A value of the right type that is not allowed, `reason` completing "KEY ...":
    /// `must be between 0 and 1, not 1.5`.
    case badValue(key: String, line: Int?, reason: String)
    /// A key an entry cannot do without, such as `files` in `[[sources]]`.
    case missingKey(key: String, line: Int?)
    /// An error of the file at `path` (when it is not the default `tally.toml`, so that
    /// messages name the file the user chose).
    indirect case inFile(path: String, error: ConfigError)

    public var description: String { describe(file: "tally.toml") }

    private func describe(file: String) -> String {
        func at(_ line: Int?) -> String { line.map { " (\(file), line \($0))" } ?? " (\(file))" }
        switch self {
        case .notFound(let path):
            return "no configuration file at \(path)"
        case .unreadable(let path, let reason):
            return "cannot read the configuration file \(path): \(reason)"
        case .syntax(let line, let column, let message):
            return "syntax error in \(file) at line \(line), column \(column): \(message)"
        case .unknownKey(let key, let line, let known):
            let place = line.map { "\(file), line \($0)" } ?? file
            return "unknown key \"\(key)\" in \(place)" + ConfigError.hint(for: key, known: known)
        case .wrongType(let key, let line, let expected, let found):
            return "\(key) must be \(expected), not \(found)" + at(line)
        case .badValue(let key, let line, let reason):
            return "\(key) \(reason)" + at(line)
        case .missingKey(let key, let line):
            return "\(key) is required" + at(line)
        case .inFile(let path, let error):
            return error.describe(file: path)
        }
    }

    /// "; did you mean ..." for a near miss, else the keys that are allowed there.
    private static func hint(for key: String, known: [String]) -> String {
        guard !known.isEmpty else { return "" }
        let (parent, last) = split(key)
        let close = known
            .map { ($0, distance($0.lowercased(), last.lowercased())) }
            .filter { $0.1 <= max(1, min(3, last.count / 3)) }
            .min { $0.1 < $1.1 }
        if let (suggestion, _) = close {
            return "; did you mean \"\(parent)\(suggestion)\"?"
        }
        return "; expected one of: " + known.joined(separator: ", ")
    }

    /// The dotted prefix (with its dot) and the last segment of a key path.
    private static func split(_ key: String) -> (String, String) {
        guard let dot = key.lastIndex(of: ".") else { return ("", key) }
        return (String(key[...dot]), String(key[key.index(after: dot)...]))
    }

    /// Edit distance counting a swap of neighbours as one edit ("emial"), for suggestions.
    private static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
        var table = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1)
                }
            }
        }
        return table[a.count][b.count]
    }
}
