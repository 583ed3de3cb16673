#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension State {
    /// Per student: the figures the snapshot lists, plus what the index needs to decide the
    /// next event.
    ///
    /// The figures are `StudentState`'s, less what only a listing adds (the name, the level,
    /// the roster's public flag), and with the course names kept by number, with the
    /// completed courses (see `CourseKeys`): a hundred thousand accounts are held through a
    /// whole sync, and a `StudentState` in each, with its always-empty fields and an array
    /// of course names, nearly doubled them. `figures(_:)` makes the `StudentState`.
    ///
    /// Sixty-four bytes, where the plain fields took eighty-eight: the badges, the unlocks
    /// and the quizzes passed, which nearly every student of an export has none of, share
    /// one box kept out of line (`RareBox`), and the count of events applied is 32-bit.
    struct Account: Equatable, Sendable {
        var xp = 0
        /// See `StudentState.reachedAt`.
        var reachedAt = 0
        var latestName: String?
        var months: [MonthPoints] = []
        /// The listed courses and the completed ones (course number → tracked event number).
        var courses = CourseKeys()
        /// The badges, unlocks and quizzes passed; nil while all three are empty.
        private var rare: RareBox?
        private var storedApplied: Int32 = 0
        /// The entry of `byEmail` for the email that is this account's id, once the byte lane
        /// filed an event under it (-1: not yet): a cache, so that the lane finds it without
        /// hashing the email a second time. Not saved, not compared (`==` leaves it out).
        var emailEntry: Int32 = -1

        /// Where the fields a row reads through a reference lie in an account, for asking
        /// for what they point at ahead of time (`AccountTable.prefetchBytes`). `courses`'
        /// one stored property is its array. (Stored properties always have an offset; nil
        /// would only mean no hint.)
        static let heapOffsets: (latestName: Int, courses: Int, months: Int)? = {
            guard let latestName = MemoryLayout<Account>.offset(of: \.latestName),
                  let courses = MemoryLayout<Account>.offset(of: \.courses),
                  let months = MemoryLayout<Account>.offset(of: \.months) else { return nil }
            return (latestName, courses, months)
        }()

        /// Whether `latestName` holds exactly the UTF-8 bytes `bytes` (a byte lane row's name).
        func hasLatestName(_ bytes: UnsafeRawBufferPointer) -> Bool {
            guard let same = latestName?.utf8.withContiguousStorageIfAvailable({ stored in
                stored.count == bytes.count && (bytes.isEmpty || memcmp(stored.baseAddress!, bytes.baseAddress!, bytes.count) == 0)
            }) else {
                return latestName.map { $0.utf8.elementsEqual(bytes) } ?? false
            }
            return same
        }

        /// How many of the student's tracked events are applied to them. At most the number
        /// of tracked events, which the fold keeps below `Int32.max`.
        var applied: Int {
            get { Int(storedApplied) }
            set {
                guard let value = Int32(exactly: newValue) else {
                    preconditionFailure("more applied events than an index holds")
                }
                storedApplied = value
            }
        }

        /// Whether the account has a badge or an unlock (asked without copying them).
        var hasBadgesOrUnlocks: Bool {
            guard let rare else { return false }
            return !rare.figures.badges.isEmpty || !rare.figures.unlocks.isEmpty
        }

        /// Badge ids, in the order earned.
        var badges: [String] {
            get { rare?.figures.badges ?? [] }
            _modify {
                var figures = takeRare()
                defer { putRare(figures) }
                yield &figures.badges
            }
        }

        /// Unlocked step ids, in the order unlocked.
        var unlocks: [String] {
            get { rare?.figures.unlocks ?? [] }
            _modify {
                var figures = takeRare()
                defer { putRare(figures) }
                yield &figures.unlocks
            }
        }

        /// Quiz → the event that passed it.
        var passed: [String: EventKey] {
            get { rare?.figures.passed ?? [:] }
            _modify {
                var figures = takeRare()
                defer { putRare(figures) }
                yield &figures.passed
            }
        }

        /// The figures kept out of line.
        private struct RareFigures: Sendable {
            var badges: [String] = []
            var unlocks: [String] = []
            var passed: [String: EventKey] = [:]

            var isEmpty: Bool { badges.isEmpty && unlocks.isEmpty && passed.isEmpty }
        }

        /// Their box, shared between copies of an account until one of them changes it.
        private final class RareBox: @unchecked Sendable {
            // @unchecked: changed only by `takeRare` and `putRare`, when one account holds the
            // only reference (copy on write, as an array's storage is).
            var figures: RareFigures

            init(_ figures: RareFigures) { self.figures = figures }
        }

        /// The out-of-line figures, to be changed and handed to `putRare`: moved out of the
        /// box when this account is its only holder (so that their arrays change in place),
        /// else copied.
        private mutating func takeRare() -> RareFigures {
            // Asked before `rare` is bound to a name: a second reference would make it shared.
            guard isKnownUniquelyReferenced(&rare), let box = rare else { return rare?.figures ?? RareFigures() }
            let figures = box.figures
            box.figures = RareFigures()
            return figures
        }

        /// Keeps `figures`, in this account's own box (nil when they are all empty).
        private mutating func putRare(_ figures: RareFigures) {
            if figures.isEmpty {
                rare = nil
            } else if isKnownUniquelyReferenced(&rare), let box = rare {
                box.figures = figures
            } else {
                rare = RareBox(figures)
            }
        }

        static func == (lhs: Account, rhs: Account) -> Bool {
            lhs.xp == rhs.xp && lhs.reachedAt == rhs.reachedAt && lhs.applied == rhs.applied && lhs.latestName == rhs.latestName
                && lhs.badges == rhs.badges && lhs.unlocks == rhs.unlocks && lhs.months == rhs.months
                && lhs.courses == rhs.courses && lhs.passed == rhs.passed
        }

        /// Equal, with the courses of each side named by its own state's numbers.
        func same(as other: Account, _ mine: Numbering, _ theirs: Numbering) -> Bool {
            xp == other.xp && reachedAt == other.reachedAt && applied == other.applied && latestName == other.latestName
                && badges == other.badges && unlocks == other.unlocks && months == other.months && passed == other.passed
                && courses.same(as: other.courses, mine, theirs)
        }

        /// Adds `points` earned at `time` to its month's figure, as `[MonthPoints].add(_:at:)`
        /// does, with room made for one month more when a month comes to a full array, where
        /// the array would double: a student has a handful of months, and the arrays of a
        /// 1M-row export's hundred thousand students kept 2 MiB of room no month used.
        mutating func addToMonth(_ points: Int, at time: Timestamp) {
            if points != 0 && months.count == months.capacity {
                let month = Month(time)
                if !months.contains(where: { $0.month == month }) { months.reserveCapacity(months.count + 1) }
            }
            months.add(points, at: time)
        }

        /// The figures as a `StudentState` (no name or level: a listing adds them), the
        /// courses named by `names`.
        func figures(_ names: NumberedNames) -> StudentState {
            StudentState(xp: xp, badges: badges, unlocks: unlocks, courses: courses.listed.map { names[$0] },
                         reachedAt: reachedAt, months: months)
        }

        /// Whether these figures earn `badge` now: `Scoring.earns` asked of them in place, the
        /// badge's courses found by number in `names`.
        func earns(_ badge: Rules.Badge, _ names: NumberedNames) -> Bool {
            guard !badges.contains(badge.id) else { return false }
            let byCount = badge.completions.map { courses.listedCount >= $0 } ?? true
            let byCourses = badge.courses.allSatisfy { name in names.number(of: name).map(courses.lists) ?? false }
            return byCount && byCourses && (badge.completions != nil || !badge.courses.isEmpty)
        }
    }
}
