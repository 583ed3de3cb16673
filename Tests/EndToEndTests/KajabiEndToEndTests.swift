import Foundation
import Testing

/// Every Kajabi shape from samples/ through `tally sync`, as a school would configure it.
@Suite("Kajabi webhooks, end to end")
struct KajabiEndToEndTests {
    static let shapes = ["kajabi-outbound-purchase.json", "kajabi-api-form-submission.json", "kajabi-api-tag-added.json",
                         "kajabi-api-purchase.json", "kajabi-contact-tag.json", "kajabi-outbound-refund.json"]
    static let config = """
        [points]
        purchase_created = 10
        [kajabi.tags]
        "AI-Foundations-1-Completed" = "AI Foundations 1"
        "prompt-design-completed" = "Prompt Design"
        [kajabi.forms]
        "81" = "Prompt Design"
        """

    @Test("every shape, in arrival order: completions by form and tag, a purchase and its refund; rebuild agrees")
    func everyShape() throws {
        let w = try Workspace()
        try w.write("tally.toml", Self.config)
        for name in Self.shapes { try w.drop(sample: name) }
        let run = try w.tally("sync")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try w.xp() == ["grace@northwind.example": 0, "alan.turing@northwind.example": 20,
                               "katherine@northwind.example": 20, "mary.jackson@northwind.example": 10,
                               "dorothy@northwind.example": 20])
        let events = try w.ledger("events").map { "\($0["kind"] as? String ?? "") \($0["course"] as? String ?? "-")" }
        #expect(events == ["purchase_created -", "course_completed Prompt Design", "course_completed AI Foundations 1",
                           "purchase_created -", "course_completed Prompt Design", "purchase_refunded -"])
        let refund = try #require(try w.ledger("points").last)
        #expect(refund["points"] as? Int == -10 && refund["change"] as? String == "revoke"
                && refund["event"] as? String == "purchase-txn_7f3a9c21" && refund["reason"] as? String == "refunded Data Literacy Bundle")
        #expect(try w.tally("verify").status == 0)
        #expect(try w.tally("rebuild").stdout.contains("it matched the previous state.json byte for byte"))
    }

    @Test("a form's date field is read in the source's date_order; one that cannot be read falls back to the delivery's time")
    func formDates() throws {
        func form(_ id: String, _ email: String, _ date: String) -> String {
            "{\"event_type\": \"form.submitted\", \"event_id\": \"\(id)\", \"created_at\": \"2024-01-31T15:32:10Z\", "
                + "\"data\": {\"form\": {\"id\": \"77\", \"title\": \"Course done\"}, \"submission\": {\"id\": \"s-\(id)\", "
                + "\"fields\": {\"email\": \"\(email)\", \"course_name\": \"AI 1\", \"completion_date\": \"\(date)\"}}}}"
        }
        let w = try Workspace()
        try w.write("tally.toml", "[[sources]]\nfiles = \"kajabi-eu-*\"\ndate_order = \"DMY\"\n")
        try w.write("inbox/kajabi-eu-1.json", form("e1", "ada@example.com", "05/01/2024"))
        try w.write("inbox/kajabi-eu-2.json", form("e2", "bob@example.com", "31/02/2024"))
        try w.write("inbox/kajabi-us.json", form("e3", "cy@example.com", "05/01/2024"))
        try w.write("inbox/kajabi-eu-3.jsonl", "{\"email\": \"dee@example.com\", \"course\": \"AI 1\", \"at\": \"05/01/2024\"}\n")
        #expect(try w.tally("sync").status == 0)
        let at = Dictionary(uniqueKeysWithValues: try w.ledger("events").map { ($0["email"] as? String ?? "", $0["at"] as? String ?? "") })
        #expect(at == ["ada@example.com": "2024-01-05T00:00:00Z", "bob@example.com": "2024-01-31T15:32:10Z",
                       "cy@example.com": "2024-05-01T00:00:00Z", "dee@example.com": "2024-01-05T00:00:00Z"])
    }

    @Test("an email change under one Kajabi contact id: the later completion goes to the same student; rebuild agrees")
    func contactKeepsStudent() throws {
        let w = try Workspace()
        try w.write("tally.toml", Self.config)
        try w.write("inbox/1.json", #"{"event_id": "e1", "created_at": "2026-11-20T10:00:00Z", "contact": {"id": "5520990", "email": "dorothy@northwind.example"}, "tag": {"name": "AI-Foundations-1-Completed"}}"#)
        try w.write("inbox/2.json", #"{"event_id": "e2", "created_at": "2026-11-22T10:00:00Z", "contact": {"id": "5520990", "email": "dorothy.vaughan@newmail.example"}, "tag": {"name": "prompt-design-completed"}}"#)
        #expect(try w.tally("sync").status == 0)
        #expect(try w.xp() == ["dorothy@northwind.example": 40])
        #expect(try w.ledger("events").map { $0["student"] as? String } == ["dorothy@northwind.example", "dorothy@northwind.example"])
        #expect(try w.tally("verify").status == 0)
        try FileManager.default.removeItem(at: w.root.appendingPathComponent("data/index.bin"))
        #expect(try w.tally("rebuild").stdout.contains("it matched the previous state.json byte for byte"))
        try w.write("inbox/3.json", #"{"event_id": "e3", "contact": {"id": "5520990", "email": "dorothy.vaughan@newmail.example"}, "tag": {"name": "prompt-design-completed"}}"#)
        #expect(try w.tally("sync").status == 0)
        #expect(try w.xp() == ["dorothy@northwind.example": 40])
    }

    @Test("a refund before its purchase is recorded and changes nothing; files are taken oldest first, so order holds")
    func refundFirst() throws {
        let w = try Workspace()
        try w.write("tally.toml", Self.config)
        try w.drop(sample: "kajabi-outbound-refund.json")
        try w.drop(sample: "kajabi-outbound-purchase.json")
        #expect(try w.tally("sync").status == 0)
        #expect(try w.xp() == ["grace@northwind.example": 10])
    }

    @Test("with require_signature, unsigned raw payloads of every shape are refused and nothing counts")
    func unsigned() throws {
        let w = try Workspace()
        try w.write("tally.toml", """
            [points]
            purchase_created = 10
            [kajabi]
            secret = "s"
            require_signature = true
            [kajabi.tags]
            "prompt-design-completed" = "Prompt Design"
            """)
        for name in Self.shapes { try w.drop(sample: name) }
        #expect(try w.tally("sync").status == 1)
        #expect(try w.ledger("events").isEmpty)
        #expect(try w.ledger("rejected").count + w.list("data/failed").filter { $0.hasSuffix(".error.txt") }.count == Self.shapes.count)
    }
}
