/// One student of a roster file.
public struct RosterEntry: Equatable, Sendable {
    public var id: String
    public var name: String?
    /// The main email first, then the aliases.
    public var emails: [Email]
    public var isPublic: Bool

    public init(id: String, name: String?, emails: [Email], isPublic: Bool = true) {
        self.id = id
        self.name = name
        self.emails = emails
        self.isPublic = isPublic
    }
}

/// Reads a roster CSV: `id` (or `Student ID`), `email`, `name`, optional `aliases` (other
/// emails, separated by `;`, `,` or spaces) and optional `public` (`false`, `no`, `0` hide
/// the name on the site). Without an id column, the email is the student's id.
public enum RosterReader {
    public static func read(path: String, file: String, limits: TableLimits,
                            reject: (_ row: Int, _ reason: String, _ raw: String) throws -> Void) throws -> [RosterEntry] {
        let reader: CSVReader
        do { reader = try CSVReader(path: path, limits: limits) } catch {
            throw IntakeError.unreadable(file: file, reason: error.description)
        }
        var map: HeaderMap?
        var entries: [RosterEntry] = []
        var seenIDs: Set<String> = []
        var seenEmails: Set<Email> = []
        try reader.forEachRecord { record in
            guard let columns = map else {
                let headers = (0..<record.count).map { record.string(at: $0) }
                let found = HeaderMap(headers: headers)
                guard found.index(of: .email) != nil else {
                    throw IntakeError.notATable(file: file, reason: "a roster needs an email column (headers: \(headers.joined(separator: ", ")))")
                }
                map = found
                return true
            }
            if let reason = record.rejection {
                try reject(record.number, reason, record.raw)
                return true
            }
            func field(_ column: Column) -> String? { columns.index(of: column).map { record.string(at: $0) }.flatMap(nonEmpty) }
            guard let rawEmail = field(.email) else {
                // A row of empty cells (Excel's `,,`) is skipped, as a blank line is.
                if record.isBlank { return true }
                try reject(record.number, "no email address", record.raw)
                return true
            }
            var emails: [Email] = []
            do {
                emails.append(try Email(normalising: rawEmail))
            } catch {
                try reject(record.number, "\(error)", record.raw)
                return true
            }
            // An alias that is no address (`n/a`, `-`, a typo) is left out, said on a rejected
            // line of its own; the student keeps the main email and the other aliases. Rejecting
            // the row for it took a student off the board, and withdrew what they had earned.
            var badAliases: [String] = []
            for alias in (field(.aliases) ?? "").split(whereSeparator: { $0 == ";" || $0 == "," || $0 == " " }) {
                if let email = try? Email(normalising: alias) { emails.append(email) } else { badAliases.append(String(alias)) }
            }
            let id = field(.studentID) ?? field(.id) ?? emails[0].value
            if seenIDs.contains(id) {
                try reject(record.number, "student id \"\(id)\" is listed twice; the first row counts", record.raw)
                return true
            }
            if let taken = emails.first(where: { seenEmails.contains($0) }) {
                try reject(record.number, "\(taken.value) already belongs to another student on this roster", record.raw)
                return true
            }
            for alias in badAliases {
                try reject(record.number, "alias \"\(alias)\" is not a valid email address: left out; student \(id) is kept with \(emails.map(\.value).joined(separator: ", "))", record.raw)
            }
            seenIDs.insert(id)
            seenEmails.formUnion(emails)
            var name = field(.name)
            if name == nil {
                let parts = [field(.firstName), field(.lastName)].compactMap { $0 }
                name = parts.isEmpty ? nil : parts.joined(separator: " ")
            }
            if let candidate = name, Email.looksLikeEmail(candidate) { name = nil }
            // Shown only when the cell says so (or is empty): a value Tally does not know —
            // "off", "nee", "no." — hides the student rather than publish a name by mistake.
            let hidden = field(.isPublic).map { !["true", "yes", "y", "1", "public", "show", "shown", "visible", "on"]
                .contains($0.trimmingCharacters(in: .whitespaces).lowercased()) } ?? false
            entries.append(RosterEntry(id: id, name: name, emails: emails, isPublic: !hidden))
            return true
        }
        if map == nil { throw IntakeError.notATable(file: file, reason: "the roster is empty") }
        return entries
    }
}

/// The ledger events that turn the current roster into `entries`.
public enum RosterChanges {
    /// The ids are made from the roster's content, the email and the student; `again` (the
    /// same content loaded before, and now again) adds the time, so that going back to a
    /// roster makes events of their own rather than repeat the first load's ids.
    public static func events(for entries: [RosterEntry], in state: State, source: EventSource, at: Timestamp,
                              again: Bool = false) -> [Event] {
        let time = again ? [String(at.milliseconds)] : []
        var result: [Event] = []
        var listed: Set<Email> = []
        for entry in entries {
            let current = state.roster[entry.id]
            let detailsChanged = current?.name != entry.name || current?.isPublic != entry.isPublic
            for (position, email) in entry.emails.enumerated() {
                listed.insert(email)
                guard state.bindings[email] != entry.id || (position == 0 && detailsChanged) else { continue }
                result.append(Event(id: id(["roster", source.sha256, email.value, entry.id] + time), kind: .rosterEntry,
                                    email: email, name: entry.name, at: at, source: source, student: entry.id,
                                    isPublic: entry.isPublic))
            }
        }
        for (student, entry) in state.roster.sorted(by: { $0.key < $1.key }) {
            for email in entry.emails where !listed.contains(email) {
                result.append(Event(id: id(["unroster", source.sha256, email.value, student] + time), kind: .rosterRemoved,
                                    email: email, at: at, source: source, student: student))
            }
        }
        return result
    }

    private static func id(_ parts: [String]) -> String {
        "r-" + String(Crypto.sha256Hex(parts.joined(separator: "\u{1f}").utf8).prefix(32))
    }
}
