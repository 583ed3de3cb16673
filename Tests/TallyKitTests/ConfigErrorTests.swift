import Testing
@testable import TallyKit

@Suite("tally.toml errors")
struct ConfigErrorTests {
    @Test("an unknown key is an error naming the full dotted key and its line", arguments: [
        // top level
        ("pionts = 1", #"unknown key "pionts" in tally.toml, line 1; did you mean "points"?"#),
        ("[sites]\ntop = 5", #"unknown key "sites" in tally.toml, line 1; did you mean "site"?"#),
        ("colour = \"red\"", #"unknown key "colour" in tally.toml, line 1; expected one of: paths, roster, "#
            + "points, levels, badges, unlocks, caps, kajabi, email, receive, sources, site, limits"),
        // nested
        ("[points]\ncourse_completed = 20\ncorse_completed = 30",
         #"unknown key "points.corse_completed" in tally.toml, line 3; did you mean "points.course_completed"?"#),
        ("kajabi.secrett = \"x\"", #"unknown key "kajabi.secrett" in tally.toml, line 1; did you mean "kajabi.secret"?"#),
        ("[email]\nallow = []", #"unknown key "email.allow" in tally.toml, line 2; expected one of: allow_from, require_auth"#),
        // in an array of tables
        ("[[sources]]\nfiles = \"a\"\n[[sources]]\nfiles = \"b\"\ncourses = \"x\"",
         #"unknown key "sources[2].courses" in tally.toml, line 5; did you mean "sources[2].course"?"#),
        ("[[sources]]\nfiles = \"a\"\n[sources.columns]\nemial = \"E-mail\"",
         #"unknown key "sources[1].columns.emial" in tally.toml, line 4; did you mean "sources[1].columns.email"?"#),
        ("levels = [\n  { name = \"A\", xp = 0 },\n  { name = \"B\", xp = 9, colour = \"red\" },\n]",
         #"unknown key "levels[2].colour" in tally.toml, line 3; expected one of: name, xp"#),
        ("[[badges]]\nid = \"b\"\ncompletions = 1\n\"badge name\" = \"B\"",
         #"unknown key "badges[1].'badge name'" in tally.toml, line 4; expected one of: id, name, completions, "#
            + "courses, course"),
    ])
    func unknownKey(text: String, message: String) {
        #expect(ConfigFixture.error(text) == message)
    }

    @Test("the first unknown key in file order is reported")
    func unknownKeysInFileOrder() {
        #expect(ConfigFixture.error("[site]\nzzz = 1\naaa = 2") ==
                #"unknown key "site.zzz" in tally.toml, line 2; expected one of: title, names, top, publish"#)
    }

    @Test("a wrong type or a bad value is an error naming the key and what was expected", arguments: [
        ("[points]\ncourse_completed = \"twenty\"",
         #"points.course_completed must be an integer, not "twenty" (tally.toml, line 2)"#),
        ("[points]\ncourse_completed = 2.5", "points.course_completed must be an integer, not 2.5 (tally.toml, line 2)"),
        ("[points]\ncourse_completed = -5", "points.course_completed must be 0 or more, not -5 (tally.toml, line 2)"),
        ("points = 3", "points must be a table, not 3 (tally.toml, line 1)"),
        ("[points.courses]\n\"Data 101\" = \"thirty\"",
         #"points.courses.'Data 101' must be an integer, not "thirty" (tally.toml, line 2)"#),
        ("[points.courses]\n\"Data Literacy 101\" = 30\n\"AI 1\" = 20\n\"DATA  literacy 101\" = 40",
         #"points.courses.'DATA  literacy 101' is the course "Data Literacy 101" (line 2) spelled another way "#
            + "(course names are compared without case, extra spaces or invisible characters); keep one of the two (tally.toml, line 4)"),
        ("[site]\nnames = \"nick\"", #"site.names must be one of "first-last-initial", "full", "initials", "#
            + #""anonymous", not "nick" (tally.toml, line 2)"#),
        ("[site]\nnames = 1", #"site.names must be one of "first-last-initial", "full", "initials", "#
            + #""anonymous", not 1 (tally.toml, line 2)"#),
        ("[site]\ntop = -1", "site.top must be 0 or more, not -1 (tally.toml, line 2)"),
        ("[site]\ntitle = \"\"", "site.title must not be empty (tally.toml, line 2)"),
        ("[paths]\ninbox = \"\"", "paths.inbox must not be empty (tally.toml, line 2)"),
        ("[roster]\nrequired = \"yes\"", #"roster.required must be true or false, not "yes" (tally.toml, line 2)"#),
        ("[limits]\nmax_json_depth = 0", "limits.max_json_depth must be 1 or more, not 0 (tally.toml, line 2)"),
        ("levels = 3", "levels must be an array of tables ([[levels]]), not 3 (tally.toml, line 1)"),
        ("[[levels]]\nname = \"Explorer\"", "levels[1].xp is required (tally.toml, line 1)"),
        ("[[levels]]\nname = \"A\"\nxp = 0\n[[levels]]\nname = \"A\"\nxp = 10",
         #"levels[2].name is "A", already the name of levels[1] (tally.toml, line 5)"#),
        ("[[levels]]\nname = \"A\"\nxp = 0\n[[levels]]\nname = \"B\"\nxp = 0",
         "levels[2].xp is 0, already the threshold of levels[1] (tally.toml, line 6)"),
        ("[[badges]]\nid = \"b\"", "badges[1] must say how it is earned: completions, course or courses (tally.toml, line 1)"),
        ("[[badges]]\nname = \"B\"\ncompletions = 1", "badges[1].id is required (tally.toml, line 1)"),
        ("[[badges]]\nid = \"b\"\ncompletions = 0", "badges[1].completions must be 1 or more, not 0 (tally.toml, line 3)"),
        ("[[badges]]\nid = \"b\"\ncourses = [\"A\", 2]", "badges[1].courses[2] must be a string, not 2 (tally.toml, line 3)"),
        ("[[badges]]\nid = \"b\"\ncompletions = 1\n[[badges]]\nid = \"b\"\ncompletions = 2",
         #"badges[2].id is "b", already the id of badges[1] (tally.toml, line 5)"#),
        ("[[unlocks]]\nquiz = \"Q\"", "unlocks[1].step is required (tally.toml, line 1)"),
        ("[[caps]]\nactivity = \"XP\"\nmax = 40",
         #"caps[1].activity is "XP"; a cap names one of "LEARN", "QUIZ", "PURCHASE", "MANUAL" (tally.toml, line 2)"#),
        ("[[caps]]\nactivity = \"LEARN\"", "caps[1].max is required (tally.toml, line 1)"),
        ("[[caps]]\nmax = 40", "caps[1].activity is required (tally.toml, line 1)"),
        ("[[caps]]\nactivity = \"LEARN\"\nmax = -1", "caps[1].max must be 0 or more, not -1 (tally.toml, line 3)"),
        ("[[caps]]\nactivity = \"LEARN\"\nmax = 40\ndays = 0", "caps[1].days must be 1 or more, not 0 (tally.toml, line 4)"),
        ("[[caps]]\nactivity = \"LEARN\"\nmax = 40\nweeks = 1",
         #"unknown key "caps[1].weeks" in tally.toml, line 4; expected one of: activity, max, days"#),
        ("[kajabi]\nrequire_signature = \"yes\"",
         #"kajabi.require_signature must be true or false, not "yes" (tally.toml, line 2)"#),
        ("[kajabi.sites]\nsite_1 = \"\"", "kajabi.sites.site_1 must not be empty (tally.toml, line 2)"),
        ("[kajabi.tags]\n\"Done\" = \"A\"\n\" done \" = \"B\"",
         "kajabi.tags.' done ' is the same tag as another key once trimmed and lowercased (tally.toml, line 3)"),
        ("[email]\nallow_from = \"forms@school.example\"",
         #"email.allow_from must be an array of strings, not "forms@school.example" (tally.toml, line 2)"#),
        ("[email]\nallow_from = [\n  \"a@school.example\",\n  \"school.example\",\n]",
         #"email.allow_from[2] must be an address ("forms@school.example") or a domain ("@school.example"), "#
            + #"not "school.example" (tally.toml, line 4)"#),
        ("[receive]\nlisten = \"8080\"",
         #"receive.listen must be HOST:PORT, such as "127.0.0.1:8080", not "8080" (tally.toml, line 2)"#),
        ("[receive.tokens]\ndefault = \"t1-0123456789abcdef\"\nsite_2 = \"t1-0123456789abcdef\"",
         "receive.tokens.site_2 is the same token as receive.tokens.default (tally.toml, line 3)"),
        ("[receive.tokens]\ndefault = \"0123456789abcde\"",
         "receive.tokens.default must be at least 16 characters long, or it can be guessed "
            + "(`tally receive --new-token` prints a random one) (tally.toml, line 2)"),
        ("[receive.tokens]\ndefault = \"0123456789abcdef\"",
         "receive.tokens.default needs a secret to sign what it lets in: set kajabi.secret or KAJABI_WEBHOOK_SECRET (tally.toml, line 2)"),
        ("[kajabi]\nsecret = \"s\"\nsites = { a = \"x\" }\n[receive.tokens]\nb = \"0123456789abcdef\"",
         #"receive.tokens.b names no site of kajabi.sites, whose secret would sign what it lets in (the name "default" signs with kajabi.secret) (tally.toml, line 5)"#),
        ("[receive]\nlisten = \"::1:80\"",
         #"receive.listen must be HOST:PORT, such as "127.0.0.1:8080", not "::1:80" (tally.toml, line 2)"#),
        ("[receive]\nlisten = \"localhost:70000\"",
         #"receive.listen must be HOST:PORT, such as "127.0.0.1:8080", not "localhost:70000" (tally.toml, line 2)"#),
        ("[receive]\ntrusted_proxies = [\"10.0.0.1\", \"proxy.local\"]",
         #"receive.trusted_proxies[2] must be an IP address, such as "127.0.0.1" or "::1", not "proxy.local" (tally.toml, line 2)"#),
        ("[receive]\nmax_body_bytes = 0", "receive.max_body_bytes must be 1 or more, not 0 (tally.toml, line 2)"),
        ("[receive.tokens]\ndefault = \"a/b-0123456789abcdef\"", #"receive.tokens.default must use only letters, digits, "-", "_", "#
            + #""." and "~": it is part of a URL (tally.toml, line 2)"#),
        ("[[sources]]\ncourse = \"A\"", "sources[1].files is required (tally.toml, line 1)"),
        ("[[sources]]\nfiles = \"a\"\n[[sources]]\nfiles = \"b\"\nquiz = \"Q\"\npass = 1.5",
         "sources[2].pass must be between 0 and 1, not 1.5 (tally.toml, line 6)"),
        ("[[sources]]\nfiles = \"a\"\nquiz = \"Q\"\npass = \"70%\"",
         #"sources[1].pass must be a number, not "70%" (tally.toml, line 4)"#),
        ("[[sources]]\nfiles = \"a\"\npass = 0.7",
         "sources[1].pass is set, but quiz is not: a pass mark needs the quiz it is for (tally.toml, line 3)"),
        ("[[sources]]\nfiles = \"a\"\ncourse = \"C\"\nquiz = \"Q\"",
         "sources[1] sets both course and quiz: a file holds either completions of a course or quiz results (tally.toml, line 1)"),
        ("[[sources]]\nfiles = \"a\"\ndate_order = \"YMD\"",
         #"sources[1].date_order must be one of "MDY", "DMY", not "YMD" (tally.toml, line 3)"#),
        ("[[sources]]\nfiles = \"a\"\ncolumns = { email = 3 }",
         "sources[1].columns.email must be a string, not 3 (tally.toml, line 3)"),
        ("sources = [{ files = \"a\" }, 3]", "sources[2] must be a table, not 3 (tally.toml, line 1)"),
    ])
    func badValue(text: String, message: String) {
        #expect(ConfigFixture.error(text) == message)
    }

    @Test("a TOML syntax error gives TOMLKit's message with line and column", arguments: [
        ("[points\n", "syntax error in tally.toml at line 1, column 8: "
            + "Error while parsing table header: expected ']', saw '\\n'"),
        ("[site]\ntop = 1\ntop = 2\n", "syntax error in tally.toml at line 3, column 7: "
            + "Error while parsing key-value pair: cannot redefine existing integer 'top'"),
    ])
    func syntax(text: String, message: String) {
        #expect(ConfigFixture.error(text) == message)
    }

    @Test("line numbers count the lines of multi-line strings and arrays")
    func linesAfterMultilineValues() {
        let text = #"""
            [site]
            title = """
            A title
            [over] several = "lines"
            """
            publish = '''
            rsync \
            '''
            top = [
              1, # a comment with = in it
              2,
            ]
            """#
        #expect(ConfigFixture.error(text) == "site.top must be an integer, not an array (tally.toml, line 9)")
    }

    @Test("line numbers hold with CRLF line endings, dotted keys and quoted keys")
    func linesCRLFAndQuotedKeys() {
        let crlf = "[points]\r\ncourse_completed = 1\r\n[points.courses]\r\n\"a.b\" = \"x\"\r\n"
        #expect(ConfigFixture.error(crlf) == #"points.courses.'a.b' must be an integer, not "x" (tally.toml, line 4)"#)
        let dotted = "[kajabi]\nsecret = \"s\"\n\n tags.\"It's done\" = 3\n"
        #expect(ConfigFixture.error(dotted) == #"kajabi.tags."It's done" must be a string, not 3 (tally.toml, line 4)"#)
    }
}
