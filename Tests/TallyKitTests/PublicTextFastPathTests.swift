import Testing
@testable import TallyKit

/// Names and other published text that are ASCII are read byte by byte; the general way,
/// by Unicode scalars, stays the definition.
struct PublicTextFastPathTests {
    /// ASCII text of every character, biased towards what names hold: letters, digits,
    /// spaces, at-signs, punctuation, and every control character.
    static func asciiText(_ generator: inout SeededGenerator) -> String {
        let common = Array("Ada Lovelace-O'Neil 07 @.".utf8)
        let bytes = (0..<Int.random(in: 0...16, using: &generator)).map { _ -> UInt8 in
            Bool.random(using: &generator) ? common.randomElement(using: &generator)! : UInt8.random(in: 0...0x7F, using: &generator)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test("ASCII names, levels and badges are published as the general way publishes them, every character and style")
    func asciiAsGeneral() {
        var generator = SeededGenerator(seed: 4_096)
        var samples = (0..<0x80).map { String(UnicodeScalar(UInt8($0))) }
            + ["", " ", "Ada", "ada lovelace", "  Ada\t\tLovelace \r\n", "Ada\u{1}Love\u{7F}lace", "a@b.c", "Ada (x) @", "- -", "o'neil", "9 Lives"]
        samples += (0..<20_000).map { _ in Self.asciiText(&generator) }
        for text in samples {
            #expect(PublicText.asciiWords(text) == PublicText.words(of: text), "\(Array(text.utf8))")
            #expect(PublicText.scrubbed(text) == PublicText.scrubbedByScalars(text), "\(Array(text.utf8))")
            for style in NameStyle.allCases where style != .anonymous {
                #expect(PublicText.displayName(text, isPublic: true, style: style) == PublicText.displayNameByScalars(text, style: style),
                        "\(style) \(Array(text.utf8))")
            }
        }
    }

    @Test("text that is not ASCII takes the general way: a full-width at-sign still hides the name")
    func notASCII() {
        #expect(PublicText.asciiWords("Zoë") == nil)
        #expect(PublicText.displayName("ada＠example.org", isPublic: true, style: .full) == PublicText.anonymous)
        #expect(PublicText.scrubbed("write to ada＠example.org") == "write to " + PublicText.hiddenEmail)
        #expect(PublicText.displayName("Zoë  Ångström", isPublic: true, style: .firstLastInitial) == "Zoë Å.")
        #expect(PublicText.displayName("Ada Lovelace", isPublic: false, style: .full) == PublicText.anonymous)
        #expect(PublicText.displayName(nil, isPublic: true, style: .full) == PublicText.anonymous)
    }
}
