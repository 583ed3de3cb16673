import Foundation
import TOMLKit

/// A TOML table being decoded, with typed getters that throw ``ConfigError`` naming the key
/// and its line.
///
/// The decoder walks TOMLKit's tables by hand instead of using its `Decoder`: a `Decoder`
/// ignores unknown keys (the errors this type exists to raise) and reports wrong types as
/// `DecodingError`s whose coding paths are not the dotted keys a user sees in the file.
/// Every getter returns nil for an absent key, so the caller keeps its default.
struct ConfigTable {
    let table: TOMLTable
    let path: ConfigKeyPath
    let locator: KeyLocator

    /// The keys present, in the order they are written in the file.
    var keys: [String] {
        table.keys.sorted { (line(of: $0) ?? .max, $0) < (line(of: $1) ?? .max, $1) }
    }

    func line(of key: String) -> Int? { locator.line(of: path.appending(key)) }

    func line() -> Int? { locator.line(of: path) }

    /// Throws for the first key (in file order) that is not in `known`.
    func allowOnly(_ known: [String]) throws(ConfigError) {
        for key in keys where !known.contains(key) {
            throw .unknownKey(key: path.appending(key).display, line: line(of: key), known: known)
        }
    }

    func value(_ key: String) -> TOMLValue? { table[key]?.tomlValue }

    // MARK: Errors

    func wrongType(_ key: String, expected: String) -> ConfigError {
        .wrongType(key: path.appending(key).display, line: line(of: key), expected: expected,
                   found: value(key).map(ConfigTable.describe) ?? "nothing")
    }

    func badValue(_ key: String, _ reason: String) -> ConfigError {
        .badValue(key: path.appending(key).display, line: line(of: key), reason: reason)
    }

    /// An error about this table as a whole, such as a `[[badges]]` entry that says nothing
    /// about how it is earned.
    func invalid(_ reason: String) -> ConfigError {
        .badValue(key: path.display, line: line(), reason: reason)
    }

    func missing(_ key: String) -> ConfigError {
        .missingKey(key: path.appending(key).display, line: line())
    }

    /// A value as a message shows it: scalars as written, containers by their kind.
    static func describe(_ value: TOMLValue) -> String {
        switch value.type {
        case .string: return ConfigTable.quote(value.string ?? "")
        case .int: return value.int.map(String.init) ?? "an integer"
        case .double: return value.double.map { "\($0)" } ?? "a number"
        case .bool: return value.bool.map { $0 ? "true" : "false" } ?? "a boolean"
        case .table: return "a table"
        case .array: return "an array"
        case .date, .time, .dateTime: return "a date"
        }
    }

    /// `text` in double quotes, escaped, and cut if long, for messages.
    static func quote(_ text: String) -> String {
        let cut = text.count > 60 ? String(text.prefix(57)) + "..." : text
        let escaped = cut.replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
        return "\"\(escaped)\""
    }

    // MARK: Scalars

    func string(_ key: String) throws(ConfigError) -> String? {
        guard let value = value(key) else { return nil }
        guard let string = value.string else { throw wrongType(key, expected: "a string") }
        return string
    }

    /// A string that must say something: `""` is an error.
    func nonEmptyString(_ key: String) throws(ConfigError) -> String? {
        guard let string = try string(key) else { return nil }
        guard !string.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw badValue(key, "must not be empty")
        }
        return string
    }

    /// An optional setting where `""` means "not set", as in the contract's example.
    func optionalString(_ key: String) throws(ConfigError) -> String?? {
        guard let string = try string(key) else { return .none }
        return .some(string.isEmpty ? nil : string)
    }

    func bool(_ key: String) throws(ConfigError) -> Bool? {
        guard let value = value(key) else { return nil }
        guard let bool = value.bool else { throw wrongType(key, expected: "true or false") }
        return bool
    }

    func int(_ key: String, atLeast minimum: Int, atMost maximum: Int = .max) throws(ConfigError) -> Int? {
        guard let value = value(key) else { return nil }
        guard let int = value.int else { throw wrongType(key, expected: "an integer") }
        guard int >= minimum else { throw badValue(key, "must be \(minimum) or more, not \(int)") }
        guard int <= maximum else { throw badValue(key, "must be \(maximum) or less, not \(int)") }
        return int
    }

    /// A number, written as an integer (`1`) or with a fraction (`0.7`), within `range`.
    func fraction(_ key: String, in range: ClosedRange<Double>) throws(ConfigError) -> Double? {
        guard let value = value(key) else { return nil }
        guard let number = value.double ?? value.int.map(Double.init) else {
            throw wrongType(key, expected: "a number")
        }
        guard range.contains(number) else {
            let low = ConfigTable.plain(range.lowerBound), high = ConfigTable.plain(range.upperBound)
            throw badValue(key, "must be between \(low) and \(high), not \(ConfigTable.plain(number))")
        }
        return number
    }

    static func plain(_ number: Double) -> String {
        number == number.rounded() && abs(number) < 1e15 ? String(Int(number)) : "\(number)"
    }

    /// One of a closed set of strings, such as `site.names`.
    func choice<Choice>(_ key: String, as _: Choice.Type) throws(ConfigError) -> Choice?
    where Choice: RawRepresentable & CaseIterable, Choice.RawValue == String {
        let options = Choice.allCases.map { ConfigTable.quote($0.rawValue) }.joined(separator: ", ")
        guard let value = value(key) else { return nil }
        guard let string = value.string else { throw wrongType(key, expected: "one of \(options)") }
        guard let choice = Choice(rawValue: string) else {
            throw badValue(key, "must be one of \(options), not \(ConfigTable.quote(string))")
        }
        return choice
    }

    // MARK: Containers

    func strings(_ key: String) throws(ConfigError) -> [String]? {
        guard let value = value(key) else { return nil }
        guard let array = value.array else { throw wrongType(key, expected: "an array of strings") }
        var result: [String] = []
        for (offset, element) in array.enumerated() {
            guard let string = element.string else {
                throw ConfigError.wrongType(
                    key: path.appending(key).appending(index: offset + 1).display,
                    line: locator.line(of: path.appending(key).appending(index: offset + 1)),
                    expected: "a string", found: ConfigTable.describe(element.tomlValue))
            }
            result.append(string)
        }
        return result
    }

    func table(_ key: String) throws(ConfigError) -> ConfigTable? {
        guard let value = value(key) else { return nil }
        guard let table = value.table else { throw wrongType(key, expected: "a table") }
        return ConfigTable(table: table, path: path.appending(key), locator: locator)
    }

    /// An array of tables: `[[key]]` entries, or `key = [{...}, {...}]`.
    func tables(_ key: String) throws(ConfigError) -> [ConfigTable]? {
        guard let value = value(key) else { return nil }
        let expected = "an array of tables ([[\(ConfigKeyPath.quoted(key))]])"
        guard let array = value.array else { throw wrongType(key, expected: expected) }
        var result: [ConfigTable] = []
        for (offset, element) in array.enumerated() {
            let entry = path.appending(key).appending(index: offset + 1)
            guard let table = element.table else {
                throw ConfigError.wrongType(key: entry.display, line: locator.line(of: entry),
                                            expected: "a table", found: ConfigTable.describe(element.tomlValue))
            }
            result.append(ConfigTable(table: table, path: entry, locator: locator))
        }
        return result
    }

    /// A table of strings with free keys, such as `[kajabi.forms]`.
    func stringMap(_ key: String, allowEmpty: Bool = false) throws(ConfigError) -> [String: String]? {
        guard let map = try table(key) else { return nil }
        var result: [String: String] = [:]
        for name in map.keys {
            guard let string = allowEmpty ? try map.string(name) : try map.nonEmptyString(name) else { continue }
            result[name] = string
        }
        return result
    }

    /// A table of integers with free keys, such as `[points.courses]`.
    func intMap(_ key: String, atLeast minimum: Int, atMost maximum: Int = .max) throws(ConfigError) -> [String: Int]? {
        guard let map = try table(key) else { return nil }
        var result: [String: Int] = [:]
        for name in map.keys {
            if let int = try map.int(name, atLeast: minimum, atMost: maximum) { result[name] = int }
        }
        return result
    }
}
