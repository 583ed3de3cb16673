/// A shell-style wildcard pattern for file names: `*`, `?`, `[abc]`, `[a-z]`, `[!abc]`.
///
/// `[[sources]] files = "cohort-export-*"` names the dropped files a mapping applies to. The
/// rules are those of `fnmatch(3)` without flags, matched in Swift over `Character`s rather
/// than by calling the C function, for two reasons: `fnmatch` in the C locale takes a `?` to
/// be one *byte*, so `"?ber.csv"` would not match `"Über.csv"`; and Swift needs no `setlocale`
/// and no pointer handling. A `[` without its closing `]` stands for itself, as in `fnmatch`;
/// `\` makes the next character literal.
///
/// Matching ignores case: file names come from browsers and spreadsheet exports
/// ("Cohort-Export-2024.csv"), and a user who writes `cohort-export-*` means those too.
/// A pattern is matched against a file's *name*; a path is cut to its last component first.
public struct Glob: Sendable, Equatable, CustomStringConvertible {
    /// The pattern as written in `tally.toml`.
    public let pattern: String
    private let tokens: [Token]

    private enum Token: Sendable, Equatable {
        case literal(Character)
        case anyOne
        case anyRun
        case set(items: [SetItem], negated: Bool)
    }

    private enum SetItem: Sendable, Equatable {
        case single(Character)
        case range(Character, Character)
    }

    public init(_ pattern: String) {
        self.pattern = pattern
        self.tokens = Glob.compile(Array(pattern.lowercased()))
    }

    public var description: String { pattern }

    /// Whether `name` (a file name, or a path whose last component is taken) matches.
    public func matches(_ name: String) -> Bool {
        let base = name.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? name
        return Glob.match(tokens[...], Array(base.lowercased())[...])
    }

    private static func compile(_ chars: [Character]) -> [Token] {
        var tokens: [Token] = []
        var index = 0
        while index < chars.count {
            let char = chars[index]
            switch char {
            case "*":
                if tokens.last != .anyRun { tokens.append(.anyRun) }
                index += 1
            case "?":
                tokens.append(.anyOne)
                index += 1
            case "[":
                if let (token, next) = compileSet(chars, from: index + 1) {
                    tokens.append(token)
                    index = next
                } else {
                    tokens.append(.literal("["))
                    index += 1
                }
            case "\\" where index + 1 < chars.count:
                tokens.append(.literal(chars[index + 1]))
                index += 2
            default:
                tokens.append(.literal(char))
                index += 1
            }
        }
        return tokens
    }

    /// Reads a bracket expression whose body starts at `start`; nil when it is not closed.
    private static func compileSet(_ chars: [Character], from start: Int) -> (Token, Int)? {
        var index = start
        var negated = false
        if index < chars.count, chars[index] == "!" || chars[index] == "^" {
            negated = true
            index += 1
        }
        var items: [SetItem] = []
        var first = true
        while index < chars.count {
            let char = chars[index]
            if char == "]" && !first {
                return (.set(items: items, negated: negated), index + 1)
            }
            first = false
            if index + 2 < chars.count, chars[index + 1] == "-", chars[index + 2] != "]" {
                items.append(.range(char, chars[index + 2]))
                index += 3
            } else {
                items.append(.single(char))
                index += 1
            }
        }
        return nil
    }

    private static func match(_ pattern: ArraySlice<Token>, _ name: ArraySlice<Character>) -> Bool {
        var pattern = pattern
        var name = name
        // Iterative matching with one backtrack point per `*`: linear in practice, never
        // exponential, whatever a user writes.
        var star: (pattern: ArraySlice<Token>, name: ArraySlice<Character>)?
        while true {
            if let token = pattern.first {
                if token == .anyRun {
                    pattern = pattern.dropFirst()
                    star = (pattern, name)
                    continue
                }
                if let char = name.first, accepts(token, char) {
                    pattern = pattern.dropFirst()
                    name = name.dropFirst()
                    continue
                }
            } else if name.isEmpty {
                return true
            }
            guard let resume = star, !resume.name.isEmpty else { return false }
            star = (resume.pattern, resume.name.dropFirst())
            pattern = resume.pattern
            name = resume.name.dropFirst()
        }
    }

    private static func accepts(_ token: Token, _ char: Character) -> Bool {
        switch token {
        case .literal(let literal): return literal == char
        case .anyOne: return true
        case .anyRun: return true
        case .set(let items, let negated):
            let found = items.contains { item in
                switch item {
                case .single(let single): return single == char
                case .range(let low, let high): return low <= char && char <= high
                }
            }
            return found != negated
        }
    }
}
