import Foundation
import Testing
@testable import TallyKit

/// Kajabi's webhook shapes, from the realistic samples in samples/, into exact events; and
/// what purchases and refunds do to the points.
@Suite("Kajabi webhook shapes")
struct KajabiWebhookTests {
    static let samples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("samples")
    static let source = EventSource(file: "f.json", sha256: "", row: 1)
    static let fallback = Timestamp(milliseconds: 1_700_000_000_000)
    static let settings = KajabiPayload.Settings(forms: ["81": "Prompt Design"],
                                                 tags: ["ai-foundations-1-completed": "AI Foundations 1",
                                                        "prompt-design-completed": "Prompt Design"])

    static func sample(_ sample: String, settings: KajabiPayload.Settings = settings) throws -> [Event] {
        let json = try JSONParser.parse(try FileSystem.readFile(samples.appendingPathComponent(sample).path))
        return try KajabiPayload.events(in: json, source: source, settings: settings, fallbackTime: fallback)
    }

    static func payload(_ text: String) throws -> [Event] {
        try KajabiPayload.events(in: try JSONParser.parse(text), source: source, settings: settings, fallbackTime: fallback)
    }

    @Test("outbound purchase.created, flat member_* and offer_* fields")
    func outboundPurchase() throws {
        let event = try #require(try Self.sample("kajabi-outbound-purchase.json").first)
        #expect(event.id == "purchase-txn_7f3a9c21" && event.kind == .purchaseCreated)
        #expect(event.email?.value == "grace@northwind.example" && event.name == "Grace Hopper")
        #expect(event.contact == "4100231" && event.purchase == "txn_7f3a9c21" && event.offer == "Data Literacy Bundle")
        #expect(event.at == Timestamp(year: 2026, month: 11, day: 20, hour: 9, minute: 41, second: 7))
    }

    @Test("outbound purchase.refunded with nested member and offer names its purchase")
    func outboundRefund() throws {
        let event = try #require(try Self.sample("kajabi-outbound-refund.json").first)
        #expect(event.id == "kajabi-purchase.refunded-rfd_19b2e0aa" && event.kind == .purchaseRefunded)
        #expect(event.purchase == "txn_7f3a9c21" && event.offer == "Data Literacy Bundle" && event.contact == "4100231")
        // payment.succeeded, nested first and last name only.
        let payment = try #require(try Self.payload(#"""
            {"id": "pay_1", "event": "payment.succeeded", "payload": {"member": {"id": 7, "email": "a@b.example",
             "first_name": "Ada", "last_name": "Lovelace"}, "offer": {"id": 5}, "purchase_id": "txn_9"}}
            """#).first)
        #expect(payment.kind == .paymentSucceeded && payment.name == "Ada Lovelace" && payment.offer == "5" && payment.purchase == "txn_9")
    }

    @Test("API order_created (a cart purchase): one purchase_created for the order, its offers named, its customer's contact kept")
    func cartOrder() throws {
        let events = try Self.payload(#"""
            {"id":"hk_ord","event":"order_created","payload":[
             {"id":"9001","type":"transactions","attributes":{"action":"charge","state":"succeeded","amount_in_cents":1000},
              "relationships":{"customer":{"data":{"id":"77","type":"customers"}}}},
             {"id":"77","type":"customers","attributes":{"name":"Carol Cart","email":"Carol@School.example"},
              "relationships":{"contact":{"data":{"id":"88","type":"contacts"}}}},
             {"id":"5001","type":"orders","attributes":{"order_number":1001,"created_at":"2026-11-21T17:13:05.207Z"},
              "relationships":{"customer":{"data":{"id":"77","type":"customers"}},
                               "order_items":{"data":[{"id":"6001","type":"order_items"},{"id":"6002","type":"order_items"}]}}},
             {"id":"6001","type":"order_items","attributes":{"quantity":1,"title":"Cart Offer"}},
             {"id":"6002","type":"order_items","attributes":{"quantity":1,"title":"Bonus Pack"}}]}
            """#)
        #expect(events.count == 1)
        let event = try #require(events.first)
        #expect(event.kind == .purchaseCreated && event.id == "purchase-order-5001" && event.purchase == "order-5001")
        #expect(event.email?.value == "carol@school.example" && event.name == "Carol Cart" && event.contact == "88")
        #expect(event.offer == "Cart Offer, Bonus Pack")
        #expect(event.at == Timestamp(milliseconds: 1_795_281_185_207))
    }

    @Test("API form_submission: the course from [kajabi.forms], else the form's title")
    func apiFormSubmission() throws {
        let mapped = try #require(try Self.sample("kajabi-api-form-submission.json").first)
        #expect(mapped.id == "submission-908412" && mapped.kind == .courseCompleted && mapped.course == "Prompt Design")
        #expect(mapped.email?.value == "alan.turing@northwind.example" && mapped.name == "Alan Turing")
        let titled = try #require(try Self.sample("kajabi-api-form-submission.json", settings: .init()).first)
        #expect(titled.course == "Prompt Design — Course completion")
    }

    @Test("API tag_added: a mapped tag is a completion; another tag and a removal are recorded, worth nothing")
    func apiTags() throws {
        let event = try #require(try Self.sample("kajabi-api-tag-added.json").first)
        #expect(event.kind == .courseCompleted && event.course == "AI Foundations 1")
        #expect(event.tag == "ai-foundations-1-completed" && event.contact == "5520981" && event.id == "kajabi-tag_added-hk_77d1e0b3c4")
        let other = try #require(try Self.sample("kajabi-api-tag-added.json", settings: .init()).first)
        #expect(other.kind == .tagAdded && other.course == nil)
        let text = try String(contentsOf: Self.samples.appendingPathComponent("kajabi-api-tag-added.json"), encoding: .utf8)
        let removed = try #require(try Self.payload(text.replacingOccurrences(of: "\"tag_added\"", with: "\"tag_removed\"")).first)
        #expect(removed.kind == .tagRemoved && removed.course == nil)
    }

    @Test("API purchase: purchases, offers and customers linked by relationships; the contact from the customer")
    func apiPurchase() throws {
        let event = try #require(try Self.sample("kajabi-api-purchase.json").first)
        #expect(event.id == "purchase-77120" && event.kind == .purchaseCreated)
        #expect(event.email?.value == "mary.jackson@northwind.example" && event.name == "Mary Jackson")
        #expect(event.offer == "Prompt Design Masterclass" && event.contact == "5520977" && event.purchase == "77120")
    }

    @Test("the simple contact-tag form: trimmed and lowercased, mapped by [kajabi.tags]")
    func contactTag() throws {
        let event = try #require(try Self.sample("kajabi-contact-tag.json").first)
        #expect(event.id == "evt_tag_01JD8K2M5N" && event.kind == .courseCompleted && event.course == "Prompt Design")
        #expect(event.tag == "prompt-design-completed" && event.email?.value == "dorothy@northwind.example")
    }

    @Test("unknown webhook events are an unknown shape, naming what Tally reads")
    func unknown() {
        for text in [#"{"id": "1", "event": "subscription.cancelled", "payload": {}}"#,
                     #"{"id": "1", "event": "subscription_created", "payload": []}"#] {
            #expect(throws: RowRejection.self) { _ = try Self.payload(text) }
            do { _ = try Self.payload(text) } catch let error as RowRejection { #expect(error.reason.hasPrefix("unknown payload shape")) } catch {}
        }
    }

    // MARK: Scoring

    static func purchase(_ id: String, offer: String, email: String = "grace@northwind.example") -> Event {
        var event = Event(id: KajabiPayload.purchaseEventID(id), kind: .purchaseCreated, email: try! Email(normalising: email),
                          at: fallback, source: source)
        event.purchase = id
        event.offer = offer
        return event
    }

    static func refund(_ id: String, purchase: String?, offer: String, email: String = "grace@northwind.example") -> Event {
        var event = Event(id: id, kind: .purchaseRefunded, email: try! Email(normalising: email), at: fallback, source: source)
        event.purchase = purchase
        event.offer = offer
        return event
    }

    @Test("a purchase awards purchase_created PURCHASE points; its refund takes them back, once")
    func purchaseAndRefund() {
        var rules = Rules()
        rules.purchaseCreated = 15
        let (state, outcome) = ScoringTests.run([
            Self.purchase("p1", offer: "Bundle"), Self.purchase("p2", offer: "Masterclass"),
            Self.refund("r1", purchase: "p1", offer: "Bundle"),
            Self.refund("r1", purchase: "p1", offer: "Bundle"),           // retried: a duplicate
            Self.refund("r2", purchase: "p1", offer: "Bundle"),           // a second refund: nothing left
            Self.refund("r3", purchase: nil, offer: "Masterclass"),       // by member and offer
            Self.refund("r4", purchase: "never-seen", offer: "Bundle"),   // unknown: recorded, changes nothing
        ], rules: rules)
        #expect(outcome.events.map(\.status) == [.applied, .applied, .applied, .duplicate, .applied, .applied, .applied])
        #expect(outcome.points.map(\.points) == [15, 15, -15, -15])
        #expect(outcome.points.map(\.event) == ["purchase-p1", "purchase-p2", "purchase-p1", "purchase-p2"])
        #expect(outcome.points.map(\.reason) == ["purchased Bundle", "purchased Masterclass", "refunded Bundle", "refunded Masterclass"])
        #expect(outcome.points.allSatisfy { $0.activity == "PURCHASE" })
        #expect(state.students(rules: rules)["grace@northwind.example"]?.xp == 0)
    }

    @Test("with purchase_created at 0 (the default) a purchase is recorded and awards nothing; tags award nothing")
    func recordedOnly() throws {
        var tag = Event(id: "t1", kind: .tagAdded, email: try Email(normalising: "a@b.example"), at: Self.fallback, source: Self.source)
        tag.tag = "newsletter"
        let (_, outcome) = ScoringTests.run([Self.purchase("p1", offer: "Bundle", email: "a@b.example"), tag,
                                             Self.refund("r1", purchase: "p1", offer: "Bundle", email: "a@b.example")])
        #expect(outcome.events.map(\.status) == [.applied, .applied, .applied])
        #expect(outcome.points.isEmpty)
    }

    static func tagged(_ id: String, contact: String, email: String, course: String) -> Event {
        var event = Event(id: id, kind: .courseCompleted, email: try! Email(normalising: email), course: course,
                          at: fallback, source: source)
        event.contact = contact
        return event
    }

    @Test("a Kajabi contact's later events count under its first email, with its owner, under a new address too")
    func contactBinding() throws {
        let (state, outcome) = ScoringTests.run([
            Self.tagged("t1", contact: "C1", email: "kat@old.example", course: "AI 1"),
            Self.tagged("t2", contact: "C1", email: "kat@new.example", course: "AI 2"),   // email changed
            Self.tagged("t3", contact: "C1", email: "kat@new.example", course: "AI 1"),   // already hers
            Self.tagged("t4", contact: "C2", email: "kat@new.example", course: "AI 3"),   // another contact: by email
        ])
        #expect(outcome.events.map(\.student) == ["kat@old.example", "kat@old.example", "kat@old.example", "kat@new.example"])
        #expect(outcome.events.map(\.status) == [.applied, .applied, .duplicate, .applied])
        #expect(state.contacts == ["C1": try Email(normalising: "kat@old.example"), "C2": try Email(normalising: "kat@new.example")])
        let students = state.students(rules: Rules())
        #expect(students["kat@old.example"]?.xp == 40 && students["kat@new.example"]?.xp == 20)
        // A roster naming the first email takes the contact's events with it, the ones that
        // came under the new address too.
        let (moved, _) = ScoringTests.run([
            Self.tagged("t1", contact: "C1", email: "kat@old.example", course: "AI 1"),
            Self.tagged("t2", contact: "C1", email: "kat@new.example", course: "AI 2"),
            ScoringTests.rosterEntry("kat@old.example", "S1"),
        ])
        let roster = moved.students(rules: Rules())
        #expect(roster["S1"]?.xp == 40 && roster["S1"]?.courses.sorted() == ["AI 1", "AI 2"])
        // The binding is in the index, and a fold of the lines finds it again.
        #expect(try Snapshot.decodeIndex(Snapshot.encodeIndex(state)) == state)
        var replayed = State()
        for line in outcome.events { replayed.apply(line) }
        #expect(replayed.contacts == state.contacts)
    }

    @Test("the new fields survive a ledger line and back")
    func roundTrip() throws {
        var event = Self.purchase("p1", offer: "Bundle")
        event.contact = "4100231"
        event.tag = "x"
        let record = EventRecord(seq: 1, event: event, student: "grace@northwind.example", status: .applied)
        #expect(try EventRecord(json: JSONParser.parse(record.encoded())) == record)
    }
}
