/// A student's courses, by number (see `NumberedNames`): the courses their snapshot lists
/// (`StudentState.courses`, in the order completed) and the completed courses the index
/// decides with, each with the number of the tracked event that completed it (its index in
/// `State.tracked`, where an entry never moves).
///
/// One flat array of pairs of numbers for both, where a student kept a `[String]` of
/// course names and a second array for the events: a student completes a handful of
/// courses, and the names array (sixteen bytes a name, and its own heap block) was the
/// largest part of a hundred thousand students' state. The two lists are one course set
/// nearly always; they part only when a move takes back a course's points but not its
/// completion, or the reverse. The listed courses come first, in order; a course that is
/// only completed comes after them, marked unlisted (its number stored as `~number`).
struct CourseKeys: Sendable {
    struct Entry: Equatable, Sendable {
        /// The course's number; `~number` (negative) when it is completed but not listed.
        fileprivate var stored: Int32
        /// The tracked event that completed it; -1 when it is listed but not completed.
        var event: Int32

        var course: Int32 { stored < 0 ? ~stored : stored }
        var isListed: Bool { stored >= 0 }
    }

    private(set) var entries: [Entry] = []

    init() {}

    // MARK: The completed courses

    /// How many courses are completed.
    var count: Int { entries.reduce(0) { $0 + ($1.event >= 0 ? 1 : 0) } }

    /// The completed ones, course and event, in no particular order.
    var completed: [(course: Int32, event: Int32)] {
        entries.compactMap { $0.event >= 0 ? ($0.course, $0.event) : nil }
    }

    /// The tracked event that completed `course`; set nil to forget it.
    subscript(course: Int32) -> Int32? {
        get {
            for entry in entries where entry.course == course { return entry.event >= 0 ? entry.event : nil }
            return nil
        }
        set {
            let index = entries.firstIndex { $0.course == course }
            switch (index, newValue) {
            case let (index?, event?): entries[index].event = event
            case let (index?, nil):
                if entries[index].isListed { entries[index].event = -1 } else { entries.remove(at: index) }
            case let (nil, event?): entries.append(Entry(stored: ~course, event: event))
            case (nil, nil): break
            }
        }
    }

    /// Whether `course` is among the completed ones.
    func contains(_ course: Int32) -> Bool {
        entries.contains { $0.course == course && $0.event >= 0 }
    }

    // MARK: The listed courses

    /// How many courses are listed: the entries before the first unlisted one.
    var listedCount: Int { entries.firstIndex { !$0.isListed } ?? entries.count }

    /// The listed courses' numbers, in order.
    var listed: [Int32] { entries.prefix(listedCount).map(\.course) }

    /// Whether `course` is listed.
    func lists(_ course: Int32) -> Bool { entries.contains { $0.stored == course } }

    /// Lists `course` after the others, unless it is listed.
    mutating func list(_ course: Int32) {
        let end = listedCount
        if let index = entries.firstIndex(where: { $0.course == course }) {
            guard !entries[index].isListed else { return }
            // From the unlisted ones to the end of the listed: the order among unlisted
            // entries is no one's.
            entries.swapAt(index, end)
            entries[end].stored = course
        } else {
            entries.insert(Entry(stored: course, event: -1), at: end)
        }
    }

    /// Takes `course` off the list (its completion, if any, stays).
    mutating func unlist(_ course: Int32) {
        guard let index = entries.firstIndex(where: { $0.stored == course }) else { return }
        let entry = entries.remove(at: index)
        if entry.event >= 0 { entries.append(Entry(stored: ~course, event: entry.event)) }
    }

    /// Makes room for `count` entries about to be added by `appendLoaded`: an index is read
    /// back a student at a time, and an array grown entry by entry was three or four heap
    /// blocks a student, a million students at a start.
    mutating func reserveLoaded(_ count: Int) { entries.reserveCapacity(count) }

    /// Adds an entry as an index lists them (the listed ones first, in order); false when it
    /// cannot be one (a damaged file): a course twice, listed after an unlisted one, or
    /// neither listed nor completed.
    mutating func appendLoaded(course: Int32, listed: Bool, event: Int32) -> Bool {
        guard course >= 0, event >= -1, listed || event >= 0, !entries.contains(where: { $0.course == course }),
              !listed || entries.last?.isListed != false
        else { return false }
        entries.append(Entry(stored: listed ? course : ~course, event: event))
        return true
    }

    /// Equal as a dictionary of completed courses and an array of listed ones are (courses
    /// and events numbered alike: see `same(as:)` for two states' own numbers).
    static func == (lhs: CourseKeys, rhs: CourseKeys) -> Bool {
        lhs.listed == rhs.listed && lhs.count == rhs.count && lhs.completed.allSatisfy { rhs[$0.course] == $0.event }
    }

    /// Equal by course name and event id, each side numbered by its own state (its course
    /// names and its tracked events).
    func same(as other: CourseKeys, _ mine: State.Numbering, _ theirs: State.Numbering) -> Bool {
        let names = listed.map { mine.courses[$0] }, otherNames = other.listed.map { theirs.courses[$0] }
        guard names == otherNames, count == other.count else { return false }
        return completed.allSatisfy { entry in
            guard let course = theirs.courses.number(of: mine.courses[entry.course]), let event = other[course] else { return false }
            return theirs.key(event) == mine.key(entry.event)
        }
    }
}

extension CourseKeys: Equatable {}
