/// Where a value sits in `tally.toml`, as error messages name it: `sources[2].columns.email`.
///
/// Array entries are counted from 1. A key that is not a bare TOML key is written quoted, in
/// single quotes where it can be (`points.courses.'Data Literacy 101'`), so that the path is
/// itself valid TOML and reads cleanly inside the double quotes of a message.
struct ConfigKeyPath: Hashable, Sendable, CustomStringConvertible {
    enum Segment: Hashable, Sendable {
        case key(String)
        case index(Int)
    }

    private(set) var segments: [Segment] = []

    static let root = ConfigKeyPath()

    var isRoot: Bool { segments.isEmpty }

    func appending(_ key: String) -> ConfigKeyPath {
        var copy = self
        copy.segments.append(.key(key))
        return copy
    }

    /// The path of the `number`th entry (from 1) of the array at this path.
    func appending(index number: Int) -> ConfigKeyPath {
        var copy = self
        copy.segments.append(.index(number))
        return copy
    }

    func appending(_ keys: [String]) -> ConfigKeyPath {
        keys.reduce(self) { $0.appending($1) }
    }

    var parent: ConfigKeyPath {
        var copy = self
        _ = copy.segments.popLast()
        return copy
    }

    var display: String {
        var text = ""
        for segment in segments {
            switch segment {
            case .key(let key):
                if !text.isEmpty { text += "." }
                text += ConfigKeyPath.quoted(key)
            case .index(let number):
                text += "[\(number)]"
            }
        }
        return text
    }

    var description: String { display }

    /// `key` as a TOML key: bare when it can be, else quoted.
    static func quoted(_ key: String) -> String {
        let bare = !key.isEmpty && key.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "A"..."Z", "a"..."z", "0"..."9", "_", "-": return true
            default: return false
            }
        }
        if bare { return key }
        if !key.contains("'") && !key.contains(where: \.isNewline) { return "'\(key)'" }
        var escaped = ""
        for char in key {
            switch char {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            default: escaped.append(char)
            }
        }
        return "\"\(escaped)\""
    }
}
