/// Why a JSON text was refused, and where.
///
/// Input is hostile or simply broken, and the person who has to fix it needs the place: the
/// description reads `line 3, column 14: expected ',' or '}' after an object member, found '"'`.
/// `offset` is the 0-based byte offset into the input; `line` and `column` are 1-based, lines
/// end at LF, and the column counts characters (Unicode scalars) from the start of the line.
public struct JSONError: Error, CustomStringConvertible, Equatable, Sendable {
    public var message: String
    public var offset: Int
    public var line: Int
    public var column: Int

    public init(message: String, offset: Int, line: Int, column: Int) {
        self.message = message
        self.offset = offset
        self.line = line
        self.column = column
    }

    public var description: String { "line \(line), column \(column): \(message)" }

    /// An error at `offset` of `input`, its line and column counted from the bytes before it.
    init(_ message: String, at offset: Int, in input: UnsafeRawBufferPointer) {
        let end = min(max(offset, 0), input.count)
        var line = 1
        var lineStart = 0
        for position in 0..<end where input[position] == 0x0A {
            line += 1
            lineStart = position + 1
        }
        var column = 1
        for position in lineStart..<end where input[position] & 0xC0 != 0x80 { column += 1 }
        self.init(message: message, offset: offset, line: line, column: column)
    }
}
