import Synchronization
import Testing
@testable import TallyKit

/// Reading on one thread while scoring on another must change nothing a user can see:
/// every item, in order, and failures on either side stop both.
struct PipelineTests {
    struct Stop: Error, Equatable { var at: Int }

    @Test("every item arrives once, in order, across many batches")
    func order() throws {
        var seen: [Int] = []
        try Pipeline.run(produce: { emit in for n in 0..<10_000 { try emit(n) } }, consume: { seen.append($0) })
        #expect(seen == Array(0..<10_000))
        var none: [Int] = []
        try Pipeline.run(produce: { _ in }, consume: { none.append($0) })
        #expect(none.isEmpty)
    }

    @Test("a reader's error arrives after every item it emitted before it")
    func readerFails() {
        var seen: [Int] = []
        #expect(throws: Stop(at: 1234)) {
            try Pipeline.run(produce: { emit in
                for n in 0..<1234 { try emit(n) }
                throw Stop(at: 1234)
            }, consume: { seen.append($0) })
        }
        #expect(seen == Array(0..<1234))
    }

    @Test("a consumer's error stops the reader, which produces no further than the queue holds")
    func consumerFails() {
        let produced = Atomic<Int>(0)
        #expect(throws: Stop(at: 700)) {
            try Pipeline.run(produce: { emit in
                for n in 0..<1_000_000 {
                    try emit(n)
                    produced.add(1, ordering: .relaxed)
                }
            }, consume: { n in if n == 700 { throw Stop(at: 700) } })
        }
        // Bounded: the reader stopped within the queue's depth of batches after the failure.
        #expect(produced.load(ordering: .relaxed) <= 700 + (Pipeline.depth + 2) * Pipeline.batchSize)
    }
}
