/// A JSON document as Tally reads and writes it.
///
/// Tally has its own value type rather than `Codable` or `JSONSerialization` for two reasons:
/// numbers are kept as their literal text, so an id such as `12345678901234567890` or an amount
/// such as `-0.5e10` survives exactly, and objects keep their members in input order, so a value
/// written back out gives predictable bytes. Equality is structural and exact: `.number("1.0")`
/// is not `.number("1")`, and two objects are equal only with the same members in the same order.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    /// A number as its literal text, exactly as in the input (`-0.5e10`, `12345678901234567890`).
    case number(String)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// A number from an integer.
    public init(_ value: Int) { self = .number(String(value)) }

    /// A number from a double in its shortest round-trip form; `null` for NaN and infinities,
    /// which JSON cannot express.
    public init(_ value: Double) { self = value.isFinite ? .number("\(value)") : .null }

    /// A string.
    public init(_ value: String) { self = .string(value) }

    /// A boolean.
    public init(_ value: Bool) { self = .bool(value) }

    /// The member named `key` of an object (the last one, when the key is repeated); nil for a
    /// missing key and for anything that is not an object.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let object) = self else { return nil }
        return object[key]
    }

    /// The element at `index` of an array; nil when out of range or not an array.
    public subscript(index: Int) -> JSONValue? {
        guard case .array(let elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }

    /// The text of a string; nil for anything else (see `text` for ids sent either way).
    public var string: String? {
        guard case .string(let value) = self else { return nil }
        return value
    }

    /// A number that is a whole value within `Int`'s range: `20`, and also `20.0` or `2e1`;
    /// nil for `1.5`, for `12345678901234567890` (keep that as `text`) and for non-numbers.
    public var int: Int? {
        guard case .number(let literal) = self else { return nil }
        if let value = Int(literal) { return value }
        // A whole value written with a fraction or an exponent, while a double holds it exactly.
        guard let value = Double(literal), value.rounded() == value, value.magnitude <= 9_007_199_254_740_992 else {
            return nil
        }
        return Int(value)
    }

    /// A number as the nearest double; nil for non-numbers and for literals beyond its range
    /// (`1e400`), so that no infinity leaks into arithmetic.
    public var double: Double? {
        guard case .number(let literal) = self, let value = Double(literal), value.isFinite else { return nil }
        return value
    }

    /// The value of `true` or `false`; nil for anything else (the string "true" included).
    public var bool: Bool? {
        guard case .bool(let value) = self else { return nil }
        return value
    }

    /// The elements of an array; nil for anything else.
    public var array: [JSONValue]? {
        guard case .array(let elements) = self else { return nil }
        return elements
    }

    /// The members of an object; nil for anything else.
    public var object: JSONObject? {
        guard case .object(let object) = self else { return nil }
        return object
    }

    /// A scalar as text: a string as it is, a number as its literal, a bool as "true" or
    /// "false"; nil for null, arrays and objects. Kajabi sends ids as numbers or as strings, and
    /// both read the same way through this.
    public var text: String? {
        switch self {
        case .string(let value): return value
        case .number(let literal): return literal
        case .bool(let value): return value ? "true" : "false"
        case .null, .array, .object: return nil
        }
    }

    /// True for `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}

extension JSONValue: CustomStringConvertible {
    /// The value as compact JSON text.
    public var description: String { String(decoding: serialized(), as: UTF8.self) }
}

/// The members of a JSON object, in input order.
///
/// Order is kept because ledger lines are hashed and must be written back byte for byte, and
/// because readers of a ledger expect `seq` first. A key may occur more than once, as JSON
/// allows: every member is kept (and written back), and lookup by key finds the last one, as
/// JavaScript's `JSON.parse` does. Lookup scans small objects and uses a hash index, built once,
/// for objects of more than `indexThreshold` members.
public struct JSONObject: Equatable, Sendable, Sequence, ExpressibleByDictionaryLiteral {
    /// The member keys in order, repeated keys included.
    public private(set) var keys: [String]
    /// The member values, in the order of `keys`.
    public private(set) var values: [JSONValue]
    /// Position of the last member with each key; nil for small objects.
    private var index: [String: Int]?

    /// Objects with more members than this get a hash index for lookup.
    public static let indexThreshold = 12

    /// An empty object.
    public init() {
        keys = []
        values = []
    }

    /// An object with these members, in this order.
    public init(_ members: [(String, JSONValue)]) {
        self.init(keys: members.map(\.0), values: members.map(\.1))
    }

    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements)
    }

    /// An object from parallel arrays of keys and values (the parser's way in, without copies).
    init(keys: [String], values: [JSONValue]) {
        self.keys = keys
        self.values = values
        if keys.count > Self.indexThreshold { index = Self.makeIndex(keys) }
    }

    /// The value of the last member named `key`, or nil.
    public subscript(key: String) -> JSONValue? {
        if let index {
            guard let position = index[key] else { return nil }
            return values[position]
        }
        var position = keys.count - 1
        while position >= 0 {
            if keys[position] == key { return values[position] }
            position -= 1
        }
        return nil
    }

    /// The number of members, repeated keys included.
    public var count: Int { keys.count }

    public var isEmpty: Bool { keys.isEmpty }

    /// The members in order, as key-value pairs.
    public var members: [(key: String, value: JSONValue)] {
        zip(keys, values).map { (key: $0, value: $1) }
    }

    /// Adds a member at the end (a repeated key is kept, and then wins lookups).
    public mutating func append(_ key: String, _ value: JSONValue) {
        keys.append(key)
        values.append(value)
        if index != nil {
            index?[key] = keys.count - 1
        } else if keys.count > Self.indexThreshold {
            index = Self.makeIndex(keys)
        }
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.keys == rhs.keys && lhs.values == rhs.values
    }

    private static func makeIndex(_ keys: [String]) -> [String: Int] {
        var index = [String: Int](minimumCapacity: keys.count)
        for (position, key) in keys.enumerated() { index[key] = position }
        return index
    }

    public typealias Element = (key: String, value: JSONValue)

    /// Iterates the members in order.
    public struct Iterator: IteratorProtocol {
        let keys: [String]
        let values: [JSONValue]
        var position = 0

        public mutating func next() -> Element? {
            guard position < keys.count else { return nil }
            defer { position += 1 }
            return (key: keys[position], value: values[position])
        }
    }

    public func makeIterator() -> Iterator { Iterator(keys: keys, values: values) }

    public var underestimatedCount: Int { keys.count }
}

extension JSONObject: CustomStringConvertible {
    /// The object as compact JSON text.
    public var description: String { JSONValue.object(self).description }
}
