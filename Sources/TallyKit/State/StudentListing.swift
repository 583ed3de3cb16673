/// The students a snapshot lists, in no particular order (see `State.listing(rules:)`):
/// `ids[i]` is the id of the student at `i`, whose figures `self[i]` and the accessors read.
///
/// A batch's listing reads each student's figures where the state keeps them, in its
/// accounts (an array shared with the state, not copied while neither changes it), and
/// holds only what the listing adds: the name, the level and the roster's public flag. It
/// made a `StudentState` of every student, and each one's course names as an array of
/// strings: ten megabytes and more, at the peak of a big sync, to be read once in order.
/// Without a roster, when every account is listed (an export's students), it holds nothing
/// of its own: its ids are the accounts', student `i` is account `i`, public, named by its
/// latest name, and its level is read from the rules. A listing of students made whole (a
/// `state.json` read back, the tests) holds them as they are.
struct StudentListing: Sendable {
    var ids: [String] = []
    /// The students made whole, when the listing is of those.
    private var whole: [StudentState] = []
    /// Per student listed from a state: what the listing adds to its account (empty when
    /// `everyAccount`).
    private var listed: [Listed] = []
    private var accounts: [State.Account] = []
    /// The state's course names, by number.
    private var courseNames: [String] = []
    /// Read from a state: whether student `i` is account `i`, with the levels of `rules`.
    private var everyAccount = false
    /// The students in order of id, when the state's table kept it (`AccountTable.sortIDs`).
    private var order: [UInt32]?
    private var rules = Rules()

    struct Listed: Sendable {
        /// The student's account; -1 for a roster student with none.
        var account: Int32
        var isPublic: Bool
        var name: String?
        var level: String?
    }

    init() {}

    /// Students made whole; `ids[i]` is the id of `states[i]`.
    init(ids: [String], states: [StudentState]) {
        precondition(ids.count == states.count, "one id per student")
        self.ids = ids
        whole = states
    }

    /// Students read from `accounts` (the state's) as `listed` says, with their ids.
    init(ids: [String], listed: [Listed], accounts: [State.Account], courseNames: [String]) {
        precondition(ids.count == listed.count, "one id per student")
        self.ids = ids
        self.listed = listed
        self.accounts = accounts
        self.courseNames = courseNames
    }

    /// Every account of `table`, in order, each public, named by its latest name, at the
    /// level `rules` give its XP.
    init(everyAccountOf table: AccountTable, courseNames: [String], rules: Rules) {
        ids = table.ids
        accounts = table.list
        self.courseNames = courseNames
        self.rules = rules
        everyAccount = true
        if table.idOrder.count == ids.count { order = table.idOrder }
    }

    /// Adds a student made whole (a listing of such students only).
    mutating func append(id: String, _ student: StudentState) {
        precondition(listed.isEmpty && !everyAccount, "a listing holds students made whole or read from a state, not both")
        ids.append(id)
        whole.append(student)
    }

    var count: Int { ids.count }

    /// Whether the students are read from a state's accounts.
    private var fromState: Bool { everyAccount || !listed.isEmpty }

    /// The account of the student at `index` (of a listing from a state); -1 for none.
    private func account(_ index: Int) -> Int { everyAccount ? index : Int(listed[index].account) }

    // MARK: Reading a student

    /// The figures of the student at `index`: strings and arrays shared, course names read
    /// by number when the student comes from a state.
    subscript(index: Int) -> ListedStudent {
        guard fromState else {
            let student = whole[index]
            return ListedStudent(name: student.name, xp: student.xp, level: student.level, badges: student.badges,
                                 unlocks: student.unlocks, courses: ListedCourses(student.courses), isPublic: student.isPublic,
                                 reachedAt: student.reachedAt, months: student.months)
        }
        // A student of `listed` has its name, level and flag there; one of every account is
        // public, named by its latest name, at the level its XP reaches.
        let entry: Listed? = everyAccount ? nil : listed[index]
        let number = account(index)
        guard number >= 0 else {
            // A roster student with no account yet (only `listed` holds such).
            return ListedStudent(name: entry?.name, xp: 0, level: entry?.level, badges: [], unlocks: [],
                                 courses: ListedCourses([]), isPublic: entry?.isPublic ?? true, reachedAt: 0, months: [])
        }
        return accounts.withUnsafeBufferPointer { accounts in
            let account = accounts[number]
            return ListedStudent(name: entry.map(\.name) ?? account.latestName, xp: account.xp,
                                 level: entry.map(\.level) ?? rules.level(forXP: account.xp), badges: account.badges,
                                 unlocks: account.unlocks, courses: ListedCourses(account.courses, names: courseNames),
                                 isPublic: entry?.isPublic ?? true, reachedAt: account.reachedAt, months: account.months)
        }
    }

    /// The XP of the student at `index` (for sorting: no figures made).
    func xp(_ index: Int) -> Int {
        guard fromState else { return whole[index].xp }
        let account = account(index)
        return account < 0 ? 0 : accounts.withUnsafeBufferPointer { $0[account].xp }
    }

    /// When the student at `index` reached their XP (see `StudentState.reachedAt`).
    func reachedAt(_ index: Int) -> Int {
        guard fromState else { return whole[index].reachedAt }
        let account = account(index)
        return account < 0 ? 0 : accounts.withUnsafeBufferPointer { $0[account].reachedAt }
    }

    /// Whether the student at `index` has completed a course.
    func hasCourses(_ index: Int) -> Bool {
        guard fromState else { return !whole[index].courses.isEmpty }
        let account = account(index)
        return account >= 0 && accounts.withUnsafeBufferPointer { $0[account].courses.listedCount > 0 }
    }

    /// The course names of the student at `index`, in the order completed.
    func courses(_ index: Int) -> ListedCourses {
        guard fromState else { return ListedCourses(whole[index].courses) }
        let account = account(index)
        return account < 0 ? ListedCourses([]) : ListedCourses(accounts[account].courses, names: courseNames)
    }

    /// The level of the student at `index` (as `self[index].level`, without making the rest).
    func level(_ index: Int) -> String? {
        guard fromState else { return whole[index].level }
        guard everyAccount else { return listed[index].level }
        return rules.level(forXP: accounts.withUnsafeBufferPointer { $0[index].xp })
    }

    /// The badges of the student at `index`.
    func badges(_ index: Int) -> [String] {
        guard fromState else { return whole[index].badges }
        let account = account(index)
        return account < 0 ? [] : accounts[account].badges
    }

    /// The net points of the student at `index` in `month`.
    func points(_ index: Int, in month: Month) -> Int {
        guard fromState else { return whole[index].points(in: month) }
        let account = account(index)
        return account < 0 ? 0 : accounts.withUnsafeBufferPointer { $0[account].months.points(in: month) }
    }

    /// The state's course names by number, when the students are read from a state: their
    /// `ListedCourses` then give each course's number (`number(at:)`). Nil for students made
    /// whole.
    var numberedCourseNames: [String]? { whole.isEmpty ? courseNames : nil }

    /// The students as `StudentState`s, each made when read.
    var states: States { States(listing: self) }

    struct States: RandomAccessCollection, Sendable {
        let listing: StudentListing
        var startIndex: Int { 0 }
        var endIndex: Int { listing.count }
        subscript(index: Int) -> StudentState { listing[index].state }
    }

    // MARK: Reading students in place

    /// Calls `body` with the students readable in place (`InPlace`) when they come from a
    /// state, and with nil when they are made whole.
    func withStudentsInPlace<R>(_ body: (InPlace?) throws -> R) rethrows -> R {
        guard fromState else { return try body(nil) }
        // `rules.level(forXP:)`'s names (the last level reached, in the rules' order), then
        // nil for no level: a student of every account points at one of them.
        let levelNames = rules.levels.map { Optional($0.name) } + [nil]
        let levelXP = rules.levels.map(\.xp)
        return try accounts.withUnsafeBufferPointer { accounts in
            try listed.withUnsafeBufferPointer { listed in
                try levelNames.withUnsafeBufferPointer { levelNames in
                    try levelXP.withUnsafeBufferPointer { levelXP in
                        try body(InPlace(accounts: accounts, listed: listed, everyAccount: everyAccount,
                                         levelNames: levelNames, levelXP: levelXP))
                    }
                }
            }
        }
    }

    /// The students of a listing read from a state, reached through pointers to where the
    /// state and the listing keep their figures: valid only inside `withStudentsInPlace`.
    ///
    /// `state.json` is written from here (`Snapshot.appendPlain(id:_:courseNames:to:)`)
    /// after every batch. Made a `ListedStudent` each, a hundred thousand students were half
    /// a million retains and as many releases of strings and arrays that other threads
    /// retain too, and two thirds of the daemon's time per drop went to writing that file.
    /// Read here, no figure is copied and none is retained.
    struct InPlace {
        fileprivate let accounts: UnsafeBufferPointer<State.Account>
        fileprivate let listed: UnsafeBufferPointer<Listed>
        fileprivate let everyAccount: Bool
        fileprivate let levelNames: UnsafeBufferPointer<String?>
        fileprivate let levelXP: UnsafeBufferPointer<Int>

        /// The student at `index`; nil for one to be read as a `ListedStudent`: a roster
        /// student with no account yet, or one with badges or unlocks (kept out of line).
        func student(_ index: Int) -> StudentInPlace? {
            guard let offsets = Self.offsets, let account = account(index), !account.pointee.hasBadgesOrUnlocks else {
                return nil
            }
            let name: UnsafePointer<String?>, level: UnsafePointer<String?>, isPublic: Bool
            if everyAccount {
                name = UnsafeRawPointer(account).advanced(by: offsets.latestName).assumingMemoryBound(to: String?.self)
                level = levelNames.baseAddress! + levelNumber(forXP: account.pointee.xp)
                isPublic = true
            } else {
                let entry = listed.baseAddress! + index
                name = UnsafeRawPointer(entry).advanced(by: offsets.listedName).assumingMemoryBound(to: String?.self)
                level = UnsafeRawPointer(entry).advanced(by: offsets.listedLevel).assumingMemoryBound(to: String?.self)
                isPublic = entry.pointee.isPublic
            }
            return StudentInPlace(account: account, name: name, level: level, isPublic: isPublic)
        }

        /// The account of the student at `index`; nil for a roster student with no account
        /// yet (no XP, course or points).
        func account(_ index: Int) -> UnsafePointer<State.Account>? {
            if everyAccount { return accounts.baseAddress! + index }
            let number = listed[index].account
            return number < 0 ? nil : accounts.baseAddress! + Int(number)
        }

        /// The number of the level of the student at `index` among the rules' levels (their
        /// count for none), when the listing gives every account the level of the rules;
        /// nil when it holds each student's level (`StudentListing.level(_:)` reads it).
        func levelNumber(_ index: Int) -> Int? {
            everyAccount ? levelNumber(forXP: accounts[index].xp) : nil
        }

        /// How many numbers `levelNumber(_:)` gives: the rules' levels, and one for none.
        var levelCount: Int { levelNames.count }

        /// The name of level `number`; nil for none.
        func levelName(_ number: Int) -> String? { levelNames[number] }

        /// As `Rules.level(forXP:)`: the last level `xp` reaches, in the rules' order; the
        /// nil after them when it reaches none.
        private func levelNumber(forXP xp: Int) -> Int {
            var index = levelXP.count
            while index > 0 {
                index -= 1
                if levelXP[index] <= xp { return index }
            }
            return levelXP.count
        }

        /// Where the names and the level lie in an account and a listed entry. Stored
        /// properties always have an offset; were one missing, every student would be read
        /// as a `ListedStudent`.
        private static let offsets: (latestName: Int, listedName: Int, listedLevel: Int)? = {
            guard let latestName = MemoryLayout<State.Account>.offset(of: \.latestName),
                  let listedName = MemoryLayout<Listed>.offset(of: \.name),
                  let listedLevel = MemoryLayout<Listed>.offset(of: \.level) else { return nil }
            return (latestName, listedName, listedLevel)
        }()
    }

    /// The positions in order of student id (`String`'s `<`), as `state.json` lists them.
    ///
    /// Sorting a hundred thousand ids as strings was a third of writing `state.json`. An id
    /// that is all ASCII is NFC, so `<` orders it by its bytes; its first sixteen, as two
    /// big-endian integers, order it against another such id wherever the two differ there.
    /// Ids that tie on them, or hold other text, are compared as strings.
    func byID() -> [Int] {
        if let order { return order.map { Int($0) } }
        return ids.withUnsafeBufferPointer { Self.byID($0) }
    }

    /// `byID()` of `ids`.
    static func byID(_ ids: UnsafeBufferPointer<String>) -> [Int] {
        // The index and whether the id is ASCII share a word: 24 bytes a key, not 32,
        // and the sort's scratch half as much again, next to the state at its peak.
        var keys: [(high: UInt64, low: UInt64, indexAndASCII: Int)] = []
        keys.reserveCapacity(ids.count)
        for index in ids.indices {
            let (high, low, ascii) = Self.prefix(of: ids.baseAddress! + index)
            keys.append((high, low, index << 1 | (ascii ? 1 : 0)))
        }
        keys.sort { a, b in
            if a.indexAndASCII & b.indexAndASCII & 1 != 0 {
                if a.high != b.high { return a.high < b.high }
                if a.low != b.low { return a.low < b.low }
            }
            return ids[a.indexAndASCII >> 1] < ids[b.indexAndASCII >> 1]
        }
        return keys.map { $0.indexAndASCII >> 1 }
    }

    /// The first sixteen UTF-8 bytes of `id` as two big-endian integers (zeros past its end),
    /// and whether all of it is ASCII.
    static func prefix(of id: String) -> (high: UInt64, low: UInt64, ascii: Bool) {
        withUnsafePointer(to: id) { prefix(of: $0) }
    }

    /// `prefix(of:)` of the id at `id`, read where it is: through the array, each of a
    /// hundred thousand ids was retained and released for it.
    static func prefix(of id: UnsafePointer<String>) -> (high: UInt64, low: UInt64, ascii: Bool) {
        func prefix(_ bytes: UnsafeBufferPointer<UInt8>) -> (high: UInt64, low: UInt64, ascii: Bool) {
            var high: UInt64 = 0, low: UInt64 = 0, any: UInt8 = 0
            for index in bytes.indices {
                let byte = bytes[index]
                any |= byte
                if index < 8 {
                    high |= UInt64(byte) << (56 - 8 * UInt64(index))
                } else if index < 16 {
                    low |= UInt64(byte) << (56 - 8 * UInt64(index - 8))
                }
            }
            return (high, low, any < 0x80)
        }
        if let found = id.pointee.utf8.withContiguousStorageIfAvailable(prefix) { return found }
        var copy = id.pointee
        return copy.withUTF8(prefix)
    }

    /// The same students as a dictionary keyed by id.
    var dictionary: [String: StudentState] { Dictionary(uniqueKeysWithValues: zip(ids, states)) }
}

extension State {
    /// The students of `students(rules:)`, as a batch's snapshot and render read them:
    /// `listed(rules:)`, or, without a roster and with every account listed (each has an
    /// event applied), the accounts themselves (see `StudentListing`).
    func listing(rules: Rules) -> StudentListing {
        guard roster.isEmpty, accounts.list.allSatisfy({ $0.applied > 0 }) else { return listed(rules: rules) }
        return StudentListing(everyAccountOf: accounts, courseNames: courses.names, rules: rules)
    }
}

/// Where one student of `StudentListing.InPlace` keeps its figures: its account (the XP,
/// courses, months and when it reached its XP; no badges or unlocks), and its name and level,
/// in the account, the listing or the rules.
struct StudentInPlace {
    let account: UnsafePointer<State.Account>
    let name: UnsafePointer<String?>
    let level: UnsafePointer<String?>
    let isPublic: Bool
}

/// One listed student's figures, as `StudentState` has them but for the course names, which
/// are read by number where the state keeps them.
struct ListedStudent {
    var name: String?
    var xp: Int
    var level: String?
    var badges: [String]
    var unlocks: [String]
    var courses: ListedCourses
    var isPublic: Bool
    var reachedAt: Int
    var months: [MonthPoints]

    init(name: String?, xp: Int, level: String?, badges: [String], unlocks: [String], courses: ListedCourses, isPublic: Bool,
         reachedAt: Int, months: [MonthPoints]) {
        (self.name, self.xp, self.level, self.badges, self.unlocks) = (name, xp, level, badges, unlocks)
        (self.courses, self.isPublic, self.reachedAt, self.months) = (courses, isPublic, reachedAt, months)
    }

    init(_ student: StudentState) {
        self.init(name: student.name, xp: student.xp, level: student.level, badges: student.badges, unlocks: student.unlocks,
                  courses: ListedCourses(student.courses), isPublic: student.isPublic, reachedAt: student.reachedAt,
                  months: student.months)
    }

    /// The student made whole.
    var state: StudentState {
        StudentState(name: name, xp: xp, level: level, badges: badges, unlocks: unlocks, courses: Array(courses),
                     isPublic: isPublic, reachedAt: reachedAt, months: months)
    }
}

/// A student's course names, in the order completed: their own array, or the listed
/// courses of their `CourseKeys` named by the state's numbers.
struct ListedCourses: RandomAccessCollection {
    /// The names themselves, or (with `keys`) the state's names by number.
    private let names: [String]
    private let keys: [CourseKeys.Entry]?
    let endIndex: Int
    var startIndex: Int { 0 }

    init(_ names: [String]) {
        self.names = names
        keys = nil
        endIndex = names.count
    }

    init(_ courses: CourseKeys, names: [String]) {
        self.names = names
        keys = courses.entries
        endIndex = courses.listedCount
    }

    subscript(index: Int) -> String {
        guard let keys else { return names[index] }
        return names[Int(keys[index].course)]
    }

    /// Whether the courses are named by the state's numbers (`number(at:)` gives them).
    var isNumbered: Bool { keys != nil }

    /// The number of the course at `index` among the state's course names (see
    /// `StudentListing.numberedCourseNames`); nil for names held as they are.
    func number(at index: Int) -> Int? { keys.map { Int($0[index].course) } }
}
