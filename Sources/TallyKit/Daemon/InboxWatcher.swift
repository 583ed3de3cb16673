import Foundation
import Synchronization

/// Why the watcher gave up.
public struct WatcherError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

/// Watches the inbox with inotify and hands the daemon **batches** of names that are ready
/// to be taken, so a burst of drops costs one commit instead of one each.
///
/// A name is ready when its writer closes it (`IN_CLOSE_WRITE`) or it is renamed into the
/// inbox (`IN_MOVED_TO`). Not `IN_CREATE` or `IN_MODIFY`: those fire while a `cp` or a
/// download is still writing, and reading then would take half a file. Names that writers
/// use for incomplete files (`Inbox.isIncomplete`) are never ready; their rename is.
///
/// The one exception is a Maildir's `new/`: a delivery is written in `tmp/` and only then
/// put into `new/`, whole, so a name created there is ready at once. procmail, maildrop and
/// getmail put it there with `link()` (then unlink it from `tmp/`), which makes `IN_CREATE`
/// and nothing else; watching only for closes and renames, the daemon never saw their mail.
///
/// After the first ready name, the watcher waits until drops stop for `quiet` (10 ms), or
/// `maxDelay` (250 ms) has passed, or `maxFiles` names are in hand, then delivers them: a
/// single drop reaches the daemon within milliseconds, a burst arrives in a few batches.
/// A queue overflow (`IN_Q_OVERFLOW`), a `requestRescan()`, or the inbox being deleted or
/// replaced (the watch is re-created) deliver a batch with `rescan` set: every file then in
/// the inbox counts as ready, so no drop is lost whatever events were missed.
///
/// The reading runs on a thread of its own that blocks in `poll`, not on the cooperative
/// pool; `stop()` wakes it and ends the stream at once.
public final class InboxWatcher: Sendable {
    public struct Batch: Sendable, Equatable {
        public var names: [String]
        public var rescan: Bool
    }

    public let batches: AsyncThrowingStream<Batch, any Error>
    public let directory: String
    private let inotify: Inotify
    private let flags = Flags.Shared()
    private let continuation: AsyncThrowingStream<Batch, any Error>.Continuation

    private struct Flags {
        var stopped = false
        var rescanRequested = false
        var wakeRequested = false

        /// The flags behind a lock, shared by the watcher and its reader thread.
        final class Shared: Sendable {
            let mutex = Mutex(Flags())
            func withLock<R>(_ body: (inout Flags) -> R) -> R { mutex.withLock { body(&$0) } }
        }
    }

    /// `create` only for folders: `tmp/`, `new/` and `cur/` made while Tally runs turn the
    /// inbox into a Maildir.
    static let mask: Inotify.Mask = [.closeWrite, .movedTo, .create, .deleteSelf, .moveSelf, .onlyDirectory]
    /// `create` in `new/`: a delivery linked there from `tmp/` (procmail, maildrop, getmail)
    /// is complete; `closeWrite` still catches a writer that breaks the convention.
    static let maildirMask: Inotify.Mask = [.closeWrite, .movedTo, .create, .deleteSelf, .moveSelf, .onlyDirectory]

    public init(directory: String, quiet: Duration = .milliseconds(10), maxDelay: Duration = .milliseconds(250),
                maxFiles: Int = 1000) throws {
        self.directory = directory
        inotify = try Inotify()
        let watch = try inotify.addWatch(path: directory, mask: Self.mask)
        // A Maildir inbox: deliveries are renamed into new/, which is watched too.
        let maildir = Inbox(directory: directory).isMaildir
            ? try inotify.addWatch(path: directory + "/new", mask: Self.maildirMask) : nil
        (batches, continuation) = AsyncThrowingStream.makeStream(of: Batch.self)
        let loop = Loop(directory: directory, inotify: inotify, flags: flags, continuation: continuation, watch: watch,
                        maildirWatch: maildir, quiet: quiet, maxDelay: maxDelay, maxFiles: maxFiles)
        let thread = Thread { loop.run() }
        thread.name = "tally-inotify"
        thread.start()
    }

    deinit { stop() }

    /// Makes the watcher deliver a `rescan` batch, as after a queue overflow. Thread-safe.
    public func requestRescan() {
        flags.withLock { $0.rescanRequested = true }
        inotify.wake()
    }

    /// Makes the watcher deliver a batch now, empty unless drops are waiting: the loop then
    /// runs (to adopt reloaded settings) without taking files no event said are complete.
    /// Thread-safe.
    public func requestWake() {
        flags.withLock { $0.wakeRequested = true }
        inotify.wake()
    }

    /// Ends the stream and stops the reader thread. Thread-safe; calling it twice is harmless.
    public func stop() {
        flags.withLock { $0.stopped = true }
        inotify.wake()
    }

    /// The reader thread's state: everything here is touched by that thread only.
    private final class Loop: @unchecked Sendable {
        // @unchecked: built on the caller's thread, then used only by the reader thread.
        let directory: String
        let inotify: Inotify
        let flags: Flags.Shared
        let continuation: AsyncThrowingStream<Batch, any Error>.Continuation
        var watch: Int32
        var maildirWatch: Int32?
        let quiet: Duration, maxDelay: Duration, maxFiles: Int
        var names: [String] = []
        var pendingNames: Set<String> = []
        var rescan = false
        var firstAt: ContinuousClock.Instant?
        var lastAt: ContinuousClock.Instant?
        let clock = ContinuousClock()

        init(directory: String, inotify: Inotify, flags: Flags.Shared, continuation: AsyncThrowingStream<Batch, any Error>.Continuation,
             watch: Int32, maildirWatch: Int32?, quiet: Duration, maxDelay: Duration, maxFiles: Int) {
            self.directory = directory
            self.inotify = inotify
            self.flags = flags
            self.continuation = continuation
            self.watch = watch
            self.maildirWatch = maildirWatch
            self.quiet = quiet
            self.maxDelay = maxDelay
            self.maxFiles = maxFiles
        }

        var hasWork: Bool { !names.isEmpty || rescan }

        func run() {
            while true {
                let timeout: Int32 = hasWork ? Int32(max(1, milliseconds(remainingWait()))) : 1000
                let readable = inotify.wait(timeoutMilliseconds: timeout)
                let (stopped, rescanRequested, wakeRequested) = flags.withLock { state -> (Bool, Bool, Bool) in
                    defer { (state.rescanRequested, state.wakeRequested) = (false, false) }
                    return (state.stopped, state.rescanRequested, state.wakeRequested)
                }
                if stopped { break }
                if rescanRequested { note(rescan: true) }
                if wakeRequested && !hasWork { continuation.yield(Batch(names: [], rescan: false)) }
                if readable {
                    do {
                        if try !absorb(inotify.readEvents()) { return }
                    } catch {
                        continuation.finish(throwing: WatcherError(description: "reading inotify events for \(directory) failed: \(error)"))
                        return
                    }
                }
                if hasWork && isDue() { deliver() }
            }
            continuation.finish()
        }

        /// Watches `new/` once the inbox is a Maildir; a rescan then takes what was delivered
        /// before the watch. Returns whether a watch was added.
        @discardableResult
        func watchMaildir() -> Bool {
            guard maildirWatch == nil, Inbox(directory: directory).isMaildir,
                  let added = try? inotify.addWatch(path: directory + "/new", mask: InboxWatcher.maildirMask)
            else { return false }
            maildirWatch = added
            return true
        }

        /// Takes events in; returns false when the watcher had to give up.
        func absorb(_ events: [Inotify.Event]) -> Bool {
            var lost = false
            for event in events {
                if event.mask.contains(.overflow) {
                    note(rescan: true)
                } else if event.watch == watch && !event.mask.intersection([.deleteSelf, .moveSelf, .ignored]).isEmpty {
                    lost = true
                } else if event.watch == maildirWatch && !event.mask.intersection([.deleteSelf, .moveSelf, .ignored]).isEmpty {
                    // new/ went away: back to a plain inbox until a Maildir is there again.
                    maildirWatch = nil
                    if watchMaildir() { note(rescan: true) }
                } else if event.watch == watch, event.mask.contains(.isDirectory),
                          !event.mask.intersection([.create, .movedTo]).isEmpty,
                          ["tmp", "new", "cur"].contains(event.name ?? "") {
                    if watchMaildir() { note(rescan: true) }
                } else if !event.mask.intersection(event.watch == maildirWatch ? [.closeWrite, .movedTo, .create]
                                                                                   : [.closeWrite, .movedTo]).isEmpty,
                          let base = event.name, !event.mask.contains(.isDirectory), !Inbox.isIncomplete(base) {
                    // Names are relative to the inbox: `new/NAME` never releases an `inbox/NAME`.
                    let name = event.watch == maildirWatch ? "new/" + base : base
                    if pendingNames.insert(name).inserted { names.append(name) }
                    note(rescan: false)
                    if names.count >= maxFiles { deliver() }   // one read can hold thousands of events
                }
            }
            return lost ? rewatch() : true
        }

        func note(rescan: Bool) {
            if rescan { self.rescan = true }
            let now = clock.now
            if firstAt == nil { firstAt = now }
            lastAt = now
        }

        /// The inbox was deleted, moved away or replaced: watch whatever is at its path now,
        /// re-creating it if needed, then rescan. Gives up after a few tries, never spins.
        func rewatch() -> Bool {
            inotify.removeWatch(watch)
            var delay: Duration = .milliseconds(50)
            var lastError = ""
            for _ in 0..<6 {
                if flags.withLock({ $0.stopped }) { return false }
                do {
                    try FileSystem.createDirectory(directory)
                    watch = try inotify.addWatch(path: directory, mask: InboxWatcher.mask)
                    if let old = maildirWatch { inotify.removeWatch(old) }
                    maildirWatch = nil
                    watchMaildir()
                    note(rescan: true)
                    return true
                } catch {
                    lastError = "\(error)"
                }
                _ = inotify.wait(timeoutMilliseconds: Int32(milliseconds(delay)))
                delay = min(delay * 2, .seconds(1))
            }
            continuation.finish(throwing: WatcherError(
                description: "the inbox \(directory) disappeared and could not be re-created or watched again (\(lastError)); create it and restart Tally"))
            return false
        }

        func isDue() -> Bool {
            guard let firstAt, let lastAt else { return false }
            let now = clock.now
            return names.count >= maxFiles || now - lastAt >= quiet || now - firstAt >= maxDelay
        }

        func remainingWait() -> Duration {
            guard let firstAt, let lastAt else { return quiet }
            let now = clock.now
            return max(.zero, min(quiet - (now - lastAt), maxDelay - (now - firstAt)))
        }

        func deliver() {
            let batch = Batch(names: names, rescan: rescan)
            names = []
            pendingNames = []
            rescan = false
            firstAt = nil
            lastAt = nil
            continuation.yield(batch)
        }

        func milliseconds(_ duration: Duration) -> Int {
            let (seconds, attoseconds) = duration.components
            return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
        }
    }
}
