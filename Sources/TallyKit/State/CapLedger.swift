/// What the caps of `[[caps]]` count: per student, the awards in force of the capped
/// activities, with their event time.
///
/// It is derived, never stored: the awards in force are the grants the index keeps on the
/// tracked events (a revoke takes its grant away), so the ledger is built from them the first
/// time a cap is checked — after a start from `index.bin` as after a rebuild — and then kept
/// in step by the fold. Without caps configured it is never built and costs nothing.
struct CapLedger: Sendable {
    struct Award: Equatable, Sendable {
        var at: Int64
        var points: Int
    }

    /// The capped activities it was built for.
    let activities: Set<String>
    /// Account number → activity → its awards in force, in the order they were granted.
    private var awards: [Int32: [String: [Award]]] = [:]
    /// Account number → activity → the sum of those awards (what a cap without a window counts).
    private var totals: [Int32: [String: Int]] = [:]

    /// The ledger of the tracked events' grants of `activities`, named by `numbering`.
    init(activities: Set<String>, numbering: State.Numbering) {
        self.activities = activities
        let tracked = numbering.tracked
        for index in 0..<tracked.count where tracked[at: index].account >= 0 {
            let account = tracked[at: index].account
            tracked.forEachGrant(of: index) { add(numbering.grant($0), account: account) }
        }
    }

    mutating func add(_ grant: State.Grant, account: Int32) {
        guard grant.points != 0, activities.contains(grant.activity) else { return }
        awards[account, default: [:]][grant.activity, default: []].append(Award(at: grant.at.milliseconds, points: grant.points))
        totals[account, default: [:]][grant.activity, default: 0] += grant.points
    }

    mutating func remove(_ grant: State.Grant, account: Int32) {
        guard grant.points != 0, activities.contains(grant.activity),
              let index = awards[account]?[grant.activity]?.lastIndex(of: Award(at: grant.at.milliseconds, points: grant.points))
        else { return }
        awards[account]?[grant.activity]?.remove(at: index)
        totals[account]?[grant.activity]? -= grant.points
    }

    /// The points of `activity` that `account` has in force and that a cap of `days` days
    /// (nil: ever) counts against an award at `time`.
    func used(by account: Int32, activity: String, at time: Int64, days: Int?) -> Int {
        guard let days else { return totals[account]?[activity] ?? 0 }
        return Self.used(awards[account]?[activity] ?? [], at: time, days: days)
    }

    /// The points of `awards` that a cap of `days` days counts against an award at `time`:
    /// all of them without a window; with one, the most any window of `days` days that holds
    /// `time` already has — so that, whatever order events arrive in, no window of that length
    /// ever holds more than the cap.
    static func used(_ awards: [Award], at time: Int64, days: Int?) -> Int {
        guard let days else { return awards.reduce(0) { $0 + $1.points } }
        let width = Int64(days) * 86_400_000
        // A window is [start, start + width) with time - width < start <= time. Its sum
        // changes only where an award comes in at its end (start = at - width + 1) or goes out
        // at its start (start = at + 1; that raises it when the award was negative), so the
        // most is at the first start or at one of those.
        let near = awards.filter { $0.at > time - width && $0.at < time + width }
        var starts = [time - width + 1]
        for award in near {
            for start in [award.at - width + 1, award.at + 1] where start > time - width && start <= time {
                starts.append(start)
            }
        }
        var most = 0
        for start in starts {
            let sum = near.reduce(0) { $1.at >= start && $1.at < start + width ? $0 + $1.points : $0 }
            most = max(most, sum)
        }
        return most
    }
}
