/// The first `limit` of a stream of elements, in the order a `before` function gives: what a
/// board shows of its students, read once in any order.
///
/// A binary heap whose root is the last of those kept, so an element that does not come
/// before it costs one comparison. `before` must be a strict total order (the boards break
/// every tie by student id): the rows kept are then those a sort of all of them would put
/// first, whatever order they came in.
struct TopRows<Element> {
    let limit: Int
    private var heap: [Element] = []

    init(limit: Int) { self.limit = limit }

    var count: Int { heap.count }

    /// Keeps `element` if it is among the first `limit` so far.
    mutating func offer(_ element: Element, before: (Element, Element) -> Bool) {
        guard limit > 0 else { return }
        if heap.count < limit {
            heap.append(element)
            var child = heap.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                guard before(heap[parent], heap[child]) else { break }
                heap.swapAt(parent, child)
                child = parent
            }
        } else if before(element, heap[0]) {
            heap[0] = element
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var last = parent
                if left < heap.count && before(heap[last], heap[left]) { last = left }
                if right < heap.count && before(heap[last], heap[right]) { last = right }
                if last == parent { break }
                heap.swapAt(parent, last)
                parent = last
            }
        }
    }

    /// The elements kept, first first.
    func sorted(by before: (Element, Element) -> Bool) -> [Element] { heap.sorted(by: before) }
}
