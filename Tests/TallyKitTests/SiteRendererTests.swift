import Foundation
import Testing
@testable import TallyKit

/// 2024-09-02T10:30:00Z.
private let noon = Timestamp(milliseconds: 1_725_273_000_000)

/// A fresh, empty directory under this test run's own temporary directory (removed at exit).
private func temporaryDirectory() throws -> String {
    let path = siteTestRoot + "/" + UUID().uuidString
    try FileSystem.createDirectory(path)
    return path
}

/// One folder for every site the tests render, removed when the test process exits.
private let siteTestRoot: String = {
    let root = NSTemporaryDirectory() + "tally-site-tests-\(getpid())"
    atexit { try? FileManager.default.removeItem(atPath: NSTemporaryDirectory() + "tally-site-tests-\(getpid())") }
    return root
}()

/// Every file under `directory`, relative path → text.
private func files(in directory: String) throws -> [String: String] {
    var result: [String: String] = [:]
    guard let walker = FileManager.default.enumerator(atPath: directory) else { return result }
    for case let relative as String in walker where !FileSystem.isDirectory(directory + "/" + relative) {
        result[relative] = String(decoding: try FileSystem.readFile(directory + "/" + relative), as: UTF8.self)
    }
    return result
}

private func render(_ students: [String: StudentState], _ settings: SiteSettings = SiteSettings(),
                    templates: String? = nil, into site: String? = nil) throws -> (site: String, files: [String: String]) {
    let site = try site ?? temporaryDirectory()
    let board = Leaderboard(students: students, settings: settings, generatedAt: noon)
    try SiteRenderer(templatesOverride: templates).render(board, to: site)
    return (site, try files(in: site))
}

/// A board with the names and course names that break careless sites: markup, quotes and
/// ampersands, emails, a 60-character unbroken name, non-Latin scripts, colliding slugs.
/// The browser test (Tests/browser/test_site.py) is run against it.
enum SampleSite {
    static let unbrokenName = String(repeating: "Wolfeschlegelsteinhausen", count: 3).prefix(60)

    static var students: [String: StudentState] {
        [
            "ada": StudentState(name: "Ada Lovelace", xp: 140, level: "Practitioner",
                                badges: ["first-course", "three-courses", "ai-pioneer"],
                                courses: ["AI Foundations 1", "Data Literacy 101", "Prompting <for> \"Teachers\" & Staff"],
                                reachedAt: 12),
            "grace": StudentState(name: "Grace Hopper", xp: 140, level: "Practitioner", badges: ["first-course", "three-courses"],
                                  courses: ["AI Foundations 1", "Data Literacy 101", "Ethics & AI"], reachedAt: 15),
            "xss": StudentState(name: "Bobby <b>&\"Tables\" <script>alert(1)</script>", xp: 100, level: "Explorer",
                                badges: ["first-course"], courses: ["AI Foundations 1", "Prompting <for> \"Teachers\" & Staff"],
                                reachedAt: 20, months: [.init(month: Month(year: 2024, month: 9), points: 40)]),
            "long": StudentState(name: "Hubert " + unbrokenName, xp: 80, level: "Explorer",
                                 badges: ["first-course", "a-badge-with-a-very-long-identifier-that-must-wrap-nicely"],
                                 courses: ["Données & IA : l'été", "AI Foundations 1"], reachedAt: 22, months: [.init(month: Month(year: 2024, month: 9), points: 20)]),
            "mail": StudentState(name: "katherine.johnson@example.com", xp: 60, level: "Explorer",
                                 courses: ["Course for katherine.johnson@example.com"], reachedAt: 25, months: [.init(month: Month(year: 2024, month: 9), points: 60)]),
            "private": StudentState(name: "Margaret Hamilton", xp: 60, level: "Explorer", courses: ["Ethics & AI"],
                                    isPublic: false, reachedAt: 30, months: [.init(month: Month(year: 2024, month: 9), points: 20)]),
            "ru": StudentState(name: "Софья Ковалевская", xp: 40, level: "Explorer", badges: ["first-course"],
                               courses: ["Введение в ИИ"], reachedAt: 31),
            "jp": StudentState(name: "山田 太郎", xp: 20, level: "Explorer", courses: ["AI Foundations 1"], reachedAt: 40),
            "mj": StudentState(name: "Mary-Jane van der Berg", xp: 20, level: "Explorer", courses: ["ai foundations 1!"],
                               reachedAt: 41),
            "solo": StudentState(name: "Cher", xp: 10, courses: [], reachedAt: 50),
            "idle": StudentState(name: "Idle Student", xp: 0),
        ]
    }

    static let settings = SiteSettings(title: "Elevate AI — Leaderboard", names: .full, top: 100)
}

@Suite("Site rendering")
struct SiteRendererTests {
    @Test("the site has an index, a page per course, leaderboard.json and style.css")
    func layout() throws {
        let (_, files) = try render(SampleSite.students, SampleSite.settings)
        let board = Leaderboard(students: SampleSite.students, settings: SampleSite.settings, generatedAt: noon)
        let expected = ["index.html", "month.html", "leaderboard.json", "style.css"] + board.courses.map { "courses/\($0.slug).html" }
        #expect(Set(files.keys) == Set(expected))
        #expect(board.courses.count == 8)
        let index = try #require(files["index.html"])
        for course in board.courses { #expect(index.contains("href=\"courses/\(course.slug).html\"")) }
        #expect(index.contains("<meta name=\"viewport\""))
        #expect(index.contains("Last updated <time datetime=\"2024-09-02T10:30:00Z\">2 Sep 2024, 10:30 UTC</time>"))
        let page = try #require(files["courses/ethics-ai.html"])
        #expect(page.contains("href=\"../index.html\""))
        #expect(page.contains("href=\"../style.css\""))
        #expect(page.contains("Grace Hopper") && !page.contains("Ada Lovelace"))
        #expect(index.contains("<a href=\"month.html\">This month: September 2024"))
        let month = try #require(files["month.html"])
        #expect(month.contains("<h1>September 2024</h1>") && month.contains("href=\"index.html\""))
        #expect(month.contains("Students ranked by XP earned in September 2024"))
        // By this month's points: 60, 40, then 20 and 20 tied (the higher overall XP first).
        #expect(board.month.students.map { "\($0.rank) \($0.name) \($0.xp)" } ==
                ["1 Anonymous 60", "2 Bobby <b>&\"Tables\" <script>alert(1)</script> 40",
                 "3 Hubert \(SampleSite.unbrokenName) 20", "3 Anonymous 20"])
        let empty = try render([:], SampleSite.settings).files["month.html"]
        #expect(empty?.contains("No points yet this month") == true && empty?.contains("<table") == false)
    }

    @Test("the sample site renders (into TALLY_SAMPLE_SITE when set, for the browser test)")
    func sampleSite() throws {
        let target = ProcessInfo.processInfo.environment["TALLY_SAMPLE_SITE"]
        if let target { try FileSystem.createDirectory(target) }
        let (_, files) = try render(SampleSite.students, SampleSite.settings, into: target)
        #expect(files["index.html"]?.contains("Hubert " + SampleSite.unbrokenName) == true)
    }

    @Test("names and course names are HTML-escaped on every page")
    func escaping() throws {
        let (_, files) = try render(SampleSite.students, SampleSite.settings)
        let pages = files.filter { $0.key.hasSuffix(".html") }
        #expect(pages.count > 1)
        for (name, html) in pages {
            #expect(!html.contains("<script"), "\(name) has a live <script>")
            #expect(!html.contains("<b>"), "\(name) has a live <b>")
            #expect(!html.contains("<for>"), "\(name) has a live <for>")
            #expect(!html.contains("& "), "\(name) has a bare ampersand")
        }
        let index = try #require(files["index.html"])
        #expect(index.contains("Bobby &lt;b&gt;&amp;&quot;Tables&quot; &lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(index.contains("Prompting &lt;for&gt; &quot;Teachers&quot; &amp; Staff"))
        let course = try #require(files.first { $0.key.hasPrefix("courses/prompting") }?.value)
        #expect(course.contains("<h1>Prompting &lt;for&gt; &quot;Teachers&quot; &amp; Staff</h1>"))
        #expect(course.contains("<title>Prompting &lt;for&gt; &quot;Teachers&quot; &amp; Staff · Elevate AI — Leaderboard</title>"))
    }

    @Test("no @ appears in any generated file when names, courses, levels, badges and title hold emails",
          arguments: NameStyle.allCases)
    func noEmailAnywhere(style: NameStyle) throws {
        var students = SampleSite.students
        students["x"] = StudentState(name: "Ada <zq.secret@example.com>", xp: 5, level: "zqroot@localhost",
                                     badges: ["by zqadmin@school.example"], courses: ["zq.secret@example.com"])
        students["y"] = StudentState(name: "zqgrace＠example.com", xp: 5, courses: ["Intro ﹫ grace"])
        let (_, files) = try render(students, SiteSettings(title: "Board of zqadmin@school.example", names: style))
        #expect(files.count >= 4)
        for (name, text) in files {
            #expect(!text.contains("@"), "\(name) holds an @")
            #expect(!text.contains("＠") && !text.contains("﹫"), "\(name) holds an at-sign")
            for fragment in ["zq", "katherine", "example.com", "school.example", "localhost"] {
                #expect(!text.contains(fragment), "\(name) holds \(fragment), part of an email")
            }
        }
    }

    @Test("an empty board says no completions yet")
    func emptyBoard() throws {
        let (_, files) = try render(["idle": StudentState(name: "Idle Student")])
        #expect(files["index.html"]?.contains("No completions yet") == true)
        #expect(files["index.html"]?.contains("<table") == false)
        #expect(files["leaderboard.json"]?.contains("\"students\" : [\n\n  ]") == true)
    }

    @Test("leaderboard.json holds exactly the board, in snake_case with sorted keys")
    func jsonContent() throws {
        let (_, files) = try render([
            "ada@example.com": StudentState(name: "Ada Lovelace", xp: 40, level: "Explorer", badges: ["first-course"],
                                            courses: ["Intro", "Data & AI"], reachedAt: 3,
                                            months: [.init(month: Month(year: 2024, month: 8), points: 30),
                                                     .init(month: Month(year: 2024, month: 9), points: 10)]),
            "bob@example.com": StudentState(name: "Bob Stone", xp: 20, courses: ["Intro"], reachedAt: 4,
                                            months: [.init(month: Month(year: 2024, month: 9), points: 20)]),
        ], SiteSettings(title: "School"))
        let expected = """
        {
          "courses" : [
            {
              "course" : "Data & AI",
              "slug" : "data-ai",
              "students" : [
                {
                  "badges" : [
                    "first-course"
                  ],
                  "courses" : 2,
                  "level" : "Explorer",
                  "name" : "Ada L.",
                  "rank" : 1,
                  "xp" : 40
                }
              ]
            },
            {
              "course" : "Intro",
              "slug" : "intro",
              "students" : [
                {
                  "badges" : [
                    "first-course"
                  ],
                  "courses" : 2,
                  "level" : "Explorer",
                  "name" : "Ada L.",
                  "rank" : 1,
                  "xp" : 40
                },
                {
                  "badges" : [

                  ],
                  "courses" : 1,
                  "level" : null,
                  "name" : "Bob S.",
                  "rank" : 2,
                  "xp" : 20
                }
              ]
            }
          ],
          "generated_at" : "2024-09-02T10:30:00Z",
          "month" : {
            "month" : "2024-09",
            "name" : "September 2024",
            "students" : [
              {
                "badges" : [

                ],
                "courses" : 1,
                "level" : null,
                "name" : "Bob S.",
                "rank" : 1,
                "xp" : 20
              },
              {
                "badges" : [
                  "first-course"
                ],
                "courses" : 2,
                "level" : "Explorer",
                "name" : "Ada L.",
                "rank" : 2,
                "xp" : 10
              }
            ]
          },
          "students" : [
            {
              "badges" : [
                "first-course"
              ],
              "courses" : 2,
              "level" : "Explorer",
              "name" : "Ada L.",
              "rank" : 1,
              "xp" : 40
            },
            {
              "badges" : [

              ],
              "courses" : 1,
              "level" : null,
              "name" : "Bob S.",
              "rank" : 2,
              "xp" : 20
            }
          ],
          "title" : "School"
        }

        """
        #expect(files["leaderboard.json"] == expected)
    }

    @Test("a file in the templates directory replaces the built-in one of the same name; the rest stay built in")
    func templateOverride() throws {
        let templates = try temporaryDirectory()
        try FileSystem.writeAtomically(Array("<p>{{title}}: {{#rows}}[{{rank}} {{name}}]{{/rows}}</p>\n".utf8),
                                       to: templates + "/index.mustache")
        try FileSystem.writeAtomically(Array("body { color: rebeccapurple; }\n".utf8), to: templates + "/style.css")
        try FileSystem.writeAtomically(Array("<footer>Custom foot {{title}}</footer>".utf8), to: templates + "/foot.mustache")
        try FileSystem.writeAtomically(Array("ignored".utf8), to: templates + "/notes.txt")
        let (_, files) = try render(["a": StudentState(name: "Ada <Lovelace>", xp: 10, courses: ["Intro"])],
                                    SiteSettings(title: "T&C", names: .full), templates: templates)
        #expect(files["index.html"] == "<p>T&amp;C: [1 Ada &lt;Lovelace&gt;]</p>\n")
        #expect(files["style.css"] == "body { color: rebeccapurple; }\n")
        let course = try #require(files["courses/intro.html"])
        #expect(course.contains("<footer>Custom foot T&amp;C</footer>"))
        #expect(course.contains("<h1>Intro</h1>"))
        #expect(files["notes.txt"] == nil)
    }

    @Test("an override edited between two renders is used at the next one; a broken edit is an error, its fix used again")
    func overrideEditedBetweenRenders() throws {
        let templates = try temporaryDirectory()
        let students = ["a": StudentState(name: "Ada", xp: 10)]
        try FileSystem.writeAtomically(Array("<p>one {{title}}</p>\n".utf8), to: templates + "/index.mustache")
        #expect(try render(students, templates: templates).1["index.html"] == "<p>one Leaderboard</p>\n")
        #expect(try render(students, templates: templates).1["index.html"] == "<p>one Leaderboard</p>\n")
        try FileSystem.writeAtomically(Array("<p>two {{title}}</p>\n".utf8), to: templates + "/index.mustache")
        #expect(try render(students, templates: templates).1["index.html"] == "<p>two Leaderboard</p>\n")
        try FileSystem.writeAtomically(Array("{{#rows}}unclosed".utf8), to: templates + "/index.mustache")
        #expect(throws: SiteError.self) { try render(students, templates: templates) }
        try FileSystem.writeAtomically(Array("<p>two {{title}}</p>\n".utf8), to: templates + "/index.mustache")
        #expect(try render(students, templates: templates).1["index.html"] == "<p>two Leaderboard</p>\n")
        // And without the override, the built-in page again.
        #expect(try render(students).1["index.html"]?.contains("<table class=\"standings\">") == true)
    }

    @Test("a missing templates directory means the built-in templates")
    func missingOverrideDirectory() throws {
        let (_, files) = try render(["a": StudentState(name: "Ada", xp: 10)], templates: "/nonexistent/tally-templates")
        #expect(files["index.html"]?.contains("<table class=\"standings\">") == true)
    }

    @Test("templates that include each other in a circle are an error naming the circle, not a crash")
    func partialCycle() throws {
        let students = ["a": StudentState(name: "Ada", xp: 10)]
        let itself = try temporaryDirectory()
        try FileSystem.writeAtomically(Array("x{{> index}}".utf8), to: itself + "/index.mustache")
        let error = #expect(throws: SiteError.self) { try render(students, templates: itself) }
        #expect(error?.description == "the site templates include each other in a circle (index.mustache → index.mustache), "
                + "so a page would never end; remove the partial that closes the circle")
        // Two partials naming each other, one of them behind changed delimiters.
        let pair = try temporaryDirectory()
        try FileSystem.writeAtomically(Array("<header>{{> top}}</header>".utf8), to: pair + "/header.mustache")
        try FileSystem.writeAtomically(Array("{{=<% %>=}}<nav><%> header %></nav>".utf8), to: pair + "/top.mustache")
        let second = #expect(throws: SiteError.self) { try render(students, templates: pair) }
        #expect(second?.description.contains("(header.mustache → top.mustache → header.mustache)") == true)
        // A partial named twice, without a circle, renders.
        let twice = try temporaryDirectory()
        try FileSystem.writeAtomically(Array("<p>{{title}}</p>".utf8), to: twice + "/bit.mustache")
        try FileSystem.writeAtomically(Array("{{> bit}}{{> bit}}{{{title}}}\n".utf8), to: twice + "/index.mustache")
        #expect(try render(students, templates: twice).1["index.html"] == "<p>Leaderboard</p><p>Leaderboard</p>Leaderboard\n")
    }

    @Test("a broken template is an error that names its file")
    func brokenOverride() throws {
        let templates = try temporaryDirectory()
        try FileSystem.writeAtomically(Array("{{#rows}}unclosed".utf8), to: templates + "/course.mustache")
        let board = Leaderboard(students: [:], settings: SiteSettings(), generatedAt: noon)
        let error = #expect(throws: SiteError.self) {
            try SiteRenderer(templatesOverride: templates).render(board, to: try temporaryDirectory())
        }
        #expect(error?.description.contains(templates + "/course.mustache") == true)
    }

    @Test("every file is replaced atomically: a second render leaves no temporary file and no stale page")
    func atomicReplacement() throws {
        let site = try temporaryDirectory()
        _ = try render(["a": StudentState(name: "Ada L", xp: 10, courses: ["Old Course"])], into: site)
        try FileSystem.writeAtomically(Array("crash".utf8), to: site + "/.index.html.tmp-999999999")
        let inode = try FileManager.default.attributesOfItem(atPath: site + "/index.html")[.systemFileNumber] as? Int
        let (_, files) = try render(["a": StudentState(name: "Ada L", xp: 30, courses: ["New Course"])], into: site)
        #expect(Set(files.keys) == ["index.html", "month.html", "leaderboard.json", "style.css", "courses/new-course.html"])
        #expect(files.keys.allSatisfy { !$0.split(separator: "/").contains { $0.hasPrefix(".") } })
        #expect(files["index.html"]?.contains(">30<") == true)
        let replaced = try FileManager.default.attributesOfItem(atPath: site + "/index.html")[.systemFileNumber] as? Int
        #expect(inode != nil && replaced != inode, "index.html was rewritten in place, not renamed over")
    }
}

@Suite("Built-in templates")
struct BuiltInTemplatesTests {
    @Test("the compiled-in templates are exactly the files in Site/Templates (run scripts/embed-templates after editing)")
    func embeddedMatchFiles() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/TallyKit/Site/Templates")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { !$0.hasPrefix(".") }.sorted()
        #expect(names == BuiltInTemplates.files.keys.sorted())
        for name in names {
            let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            #expect(BuiltInTemplates.files[name] == text, "\(name) differs from its compiled-in copy")
        }
    }
}

@Suite("Incremental rendering")
struct IncrementalRenderingTests {
    @Test("a re-render rewrites the course pages whose board changed, and leaves the others as they are")
    func onlyChangedCourses() throws {
        let site = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: site) }
        var students = ["a": StudentState(name: "Ada Lovelace", xp: 20, courses: ["Alpha"], reachedAt: 1),
                        "b": StudentState(name: "Bob Brown", xp: 20, courses: ["Beta"], reachedAt: 2)]
        var cache: SiteRenderer.Cache?
        let renderer = SiteRenderer(templatesOverride: nil)
        try renderer.render(Leaderboard(students: students, settings: .init(), generatedAt: noon), to: site, cache: &cache)
        // Mark both course pages, then change only Beta's board.
        for page in ["alpha", "beta"] {
            try FileSystem.writeAtomically(Array("marker".utf8), to: site + "/courses/\(page).html")
        }
        students["c"] = StudentState(name: "Cy Cole", xp: 20, courses: ["Beta"], reachedAt: 3)
        let later = Timestamp(milliseconds: noon.milliseconds + 60_000)
        try renderer.render(Leaderboard(students: students, settings: .init(), generatedAt: later), to: site, cache: &cache)
        #expect(try String(contentsOfFile: site + "/courses/alpha.html", encoding: .utf8) == "marker")
        #expect(try String(contentsOfFile: site + "/courses/beta.html", encoding: .utf8).contains("Cy C."))
        #expect(try String(contentsOfFile: site + "/index.html", encoding: .utf8).contains("Cy C."))
        // Without a cache, everything is rendered.
        try renderer.render(Leaderboard(students: students, settings: .init(), generatedAt: later), to: site)
        #expect(try String(contentsOfFile: site + "/courses/alpha.html", encoding: .utf8).contains("Ada L."))
    }
}
