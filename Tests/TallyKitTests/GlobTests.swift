import Testing
@testable import TallyKit

@Suite("Glob")
struct GlobTests {
    @Test("a pattern matches file names as fnmatch does", arguments: [
        ("cohort-export-*", "cohort-export-2024-09.csv"),
        ("cohort-export-*", "cohort-export-"),
        ("quiz-*.csv", "quiz-module-1.csv"),
        ("*.csv", ".csv"),
        ("*", "anything at all.xlsx"),
        ("report-?.csv", "report-7.csv"),
        ("report-[abc].csv", "report-b.csv"),
        ("report-[0-9][0-9].csv", "report-42.csv"),
        ("report-[!0-9].csv", "report-x.csv"),
        ("report-[^0-9].csv", "report-x.csv"),
        ("[]]x", "]x"),
        ("a*b*c", "aXXbYYbZZc"),
        ("*-*-*.tsv", "a-b-c-d.tsv"),
        ("exact.csv", "exact.csv"),
        ("literal\\*.csv", "literal*.csv"),
        ("open[bracket", "open[bracket"),
        ("?ber.csv", "Über.csv"),
        ("Cohort-*.CSV", "cohort-export.csv"),
    ])
    func matches(pattern: String, name: String) {
        #expect(Glob(pattern).matches(name))
    }

    @Test("a pattern rejects names it does not describe", arguments: [
        ("cohort-export-*", "old-cohort-export.csv"),
        ("quiz-*.csv", "quiz-1.xlsx"),
        ("report-?.csv", "report-10.csv"),
        ("report-?.csv", "report-.csv"),
        ("report-[abc].csv", "report-d.csv"),
        ("report-[!0-9].csv", "report-5.csv"),
        ("a*b*c", "aXXbYYbZZ"),
        ("exact.csv", "exact.csv.bak"),
        ("literal\\*.csv", "literalX.csv"),
        ("", "a"),
    ])
    func rejects(pattern: String, name: String) {
        #expect(!Glob(pattern).matches(name))
    }

    @Test("a path is matched by its last component")
    func path() {
        #expect(Glob("quiz-*.csv").matches("/srv/tally/inbox/quiz-1.csv"))
        #expect(!Glob("inbox*").matches("inbox/file.csv"))
    }

    @Test("many stars stay fast")
    func noBlowUp() {
        let name = String(repeating: "a", count: 200)
        #expect(!Glob(String(repeating: "*a", count: 30) + "b").matches(name))
    }

    @Test("globs compare by pattern")
    func equality() {
        #expect(Glob("a*") == Glob("a*"))
        #expect(Glob("a*") != Glob("b*"))
        #expect(Glob("a*").description == "a*")
    }
}
