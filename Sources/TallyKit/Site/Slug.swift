import Foundation

/// The file-name part of a course page's address: `AI Foundations 1` → `ai-foundations-1`.
///
/// Slugs are lowercase ASCII letters, digits and single dashes, so that the page works on
/// any web server and in any URL without encoding. Other scripts are transliterated where
/// ICU knows how (`Введение` → `vvedenie`, `Données` → `donnees`); what is left is dropped,
/// and a name with nothing left becomes `course`.
public enum Slug {
    /// The longest slug, in characters: file names stay far below any file system's limit.
    static let maximumLength = 80

    /// The slug of one name, alone.
    public static func make(_ text: String) -> String {
        // ASCII is its own transliteration, and most course names are ASCII: ICU's
        // transliterator, built on first use, cost the process about 5 MiB and some
        // milliseconds for nothing. (The tests hold the two ways together.)
        slug(ofLatin: text.utf8.allSatisfy { $0 < 0x80 } ? text : transliterated(text))
    }

    /// `text` in Latin ASCII as far as ICU knows how.
    static func transliterated(_ text: String) -> String {
        text.applyingTransform(StringTransform("Any-Latin; Latin-ASCII"), reverse: false)
            ?? text.applyingTransform(.toLatin, reverse: false)?.applyingTransform(.stripDiacritics, reverse: false)
            ?? text
    }

    /// The slug of a transliterated name.
    static func slug(ofLatin latin: String) -> String {
        var slug = ""
        var pendingDash = false
        for scalar in latin.lowercased().unicodeScalars {
            if scalar == "'" || scalar == "\u{2019}" { continue }   // "l'été" → "lete", not "l-ete"
            if scalar.isASCII, scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) {
                let dash = pendingDash && !slug.isEmpty
                if slug.unicodeScalars.count + (dash ? 2 : 1) > maximumLength { break }
                if dash { slug.append("-") }
                pendingDash = false
                slug.unicodeScalars.append(scalar)
            } else {
                pendingDash = true
            }
        }
        return slug.isEmpty ? "course" : slug
    }

    /// One slug per name, in the names' order, each unique: a name whose slug another name
    /// already took gets `-2`, `-3`, … in that order. A slug that some name has on its own
    /// is never given to another as a suffixed form, so "Intro 2" keeps `intro-2` even when
    /// "Intro" and "intro" collide.
    public static func unique(for names: [String]) -> [String] {
        let natural = names.map(make)
        let reserved = Set(natural)
        var used: Set<String> = []
        return natural.map { slug in
            var candidate = slug
            var counter = 2
            while used.contains(candidate) || (candidate != slug && reserved.contains(candidate)) {
                candidate = slug + "-\(counter)"
                counter += 1
            }
            used.insert(candidate)
            return candidate
        }
    }
}
