import Logging

#if canImport(Glibc)
import Glibc
#endif

/// How log lines look: for a person reading a terminal or the journal, or one JSON object a
/// line for a log shipper (`--log-format json`).
public enum LogFormat: String, Sendable, CaseIterable {
    case human, json
}

/// Tally's log handler: one line per message on standard error, written with a single
/// `write(2)` so lines from concurrent tasks never interleave.
///
/// human: `2026-11-23T02:55:39Z info    forms.csv: 8 rows, 7 events (...), 40 points, 3 ms`
/// json:  `{"at":"2026-11-23T02:55:39Z","level":"info","message":"forms.csv: 8 rows, ...","file":"forms.csv"}`
public struct TallyLogHandler: LogHandler {
    public var metadataProvider: Logger.MetadataProvider?
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    public let format: LogFormat
    private let sink: @Sendable ([UInt8]) -> Void

    /// A handler writing to standard error, or to `sink` (tests).
    public init(format: LogFormat, level: Logger.Level = .info, sink: (@Sendable ([UInt8]) -> Void)? = nil) {
        self.format = format
        self.logLevel = level
        self.sink = sink ?? { bytes in try? FileSystem.writeAll(2, bytes, path: "standard error") }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { $1 } }
        if let extra = event.metadata { all.merge(extra) { $1 } }
        sink(TallyLogHandler.line(at: .now(), level: event.level, message: "\(event.message)", metadata: all, format: format))
    }

    /// The bytes of one log line, newline included.
    public static func line(at time: Timestamp, level: Logger.Level, message: String, metadata: Logger.Metadata,
                            format: LogFormat) -> [UInt8] {
        let at = Timestamp(milliseconds: time.milliseconds - time.milliseconds % 1000).iso8601
        switch format {
        case .human:
            // The message says it all for a person; the metadata is for machines (json).
            return Array((at + " " + level.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0) + " " + oneLine(message) + "\n").utf8)
        case .json:
            var w = JSONWriter(capacity: 256)
            w.beginObject()
            w.field("at", at)
            w.field("level", level.rawValue)
            w.field("message", message)
            for key in metadata.keys.sorted() where !["at", "level", "message"].contains(key) {
                guard let value = metadata[key] else { continue }
                w.key(key)
                write(value, into: &w)
            }
            w.endObject()
            w.bytes.append(0x0A)
            return w.bytes
        }
    }

    /// `text` with its control characters written out (`\n`, `\r`, `\u{1B}`): a file
    /// name or an attachment's name comes from whoever sent it, and a newline in it would
    /// start a second, forged-looking line in the log.
    static func oneLine(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 < 0x20 && $0 != 0x09 || $0 == 0x7F }) else { return text }
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result.unicodeScalars.append(scalar)
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    private static func write(_ value: Logger.Metadata.Value, into w: inout JSONWriter) {
        switch value {
        case .string(let text): w.string(text)
        case .stringConvertible(let convertible):
            let text = convertible.description
            if let number = Int(text) { w.int(number) } else { w.string(text) }
        case .array(let values):
            w.beginArray()
            for item in values { write(item, into: &w) }
            w.endArray()
        case .dictionary(let dictionary):
            w.beginObject()
            for key in dictionary.keys.sorted() {
                guard let item = dictionary[key] else { continue }
                w.key(key)
                write(item, into: &w)
            }
            w.endObject()
        }
    }
}

import Foundation
