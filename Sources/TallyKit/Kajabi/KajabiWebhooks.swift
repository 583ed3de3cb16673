/// Kajabi's other webhook shapes, as Kajabi's own samples show them: outbound webhooks
/// (`purchase.created`, `payment.succeeded`, `purchase.refunded`, with the member and offer
/// flat or nested), API webhooks in JSON:API form (`form_submission`, `tag_added`,
/// `tag_removed`, `purchase`, `payment_succeeded`, and a cart's `order_created`) and the
/// simple contact-tag form of a Kajabi
/// automation.
extension KajabiPayload {
    // MARK: Outbound webhooks

    /// `{"id", "event", "payload": {member_*, offer_*, ...}}` or with `member` and `offer`
    /// objects. The purchase is the webhook's `id` (a refund may name it as `purchase_id`).
    static func outboundWebhook(_ json: JSONValue, event name: String, source: EventSource,
                                fallbackTime: Timestamp) throws(RowRejection) -> Event {
        let kind: EventKind
        switch name {
        case "purchase.created": kind = .purchaseCreated
        case "payment.succeeded": kind = .paymentSucceeded
        case "purchase.refunded", "purchase.refund", "refund.created": kind = .purchaseRefunded
        default: throw RowRejection("unknown payload shape: outbound webhook event \"\(name)\" (Tally reads purchase.created, payment.succeeded, purchase.refunded)")
        }
        let payload = json["payload"]
        func member(_ field: String) -> String? {
            (payload?["member"]?[field] ?? payload?["member_" + field])?.text.flatMap(nonEmpty)
        }
        func offer(_ field: String) -> String? {
            (payload?["offer"]?[field] ?? payload?["offer_" + field])?.text.flatMap(nonEmpty)
        }
        guard let rawEmail = member("email") else { throw RowRejection("no member email in the \(name) payload") }
        let email = try normalised(rawEmail)
        let id = json["id"]?.text.flatMap(nonEmpty)
        var purchase = (payload?["purchase_id"] ?? payload?["purchase"]?["id"])?.text.flatMap(nonEmpty)
        if kind == .purchaseCreated { purchase = purchase ?? id }
        let at = try time(payload?["created_at"] ?? json["created_at"], fallback: fallbackTime)
        let offerName = offer("title") ?? offer("id")
        let eventID: String
        switch kind {
        case .purchaseCreated:
            guard let purchase else { throw RowRejection("a purchase.created payload without an id") }
            eventID = purchaseEventID(purchase)
        default:
            eventID = id.map { "kajabi-\(name)-\($0)" }
                ?? Event.contentID(kind: kind, email: email, course: offerName, points: nil, at: at.explicit, reason: purchase)
        }
        var event = Event(id: eventID, kind: kind, email: email, name: personName(member("name"), member("first_name"), member("last_name")),
                          at: at.value, source: source)
        event.contact = member("id")
        event.purchase = purchase
        event.offer = offerName
        return event
    }

    // MARK: API webhooks (JSON:API)

    /// The resources of a JSON:API payload by type and id, and the links between them.
    struct Resources {
        var byKey: [String: JSONValue] = [:]
        var all: [JSONValue]

        init(_ list: [JSONValue]) {
            all = list
            for resource in list {
                if let type = resource["type"]?.string, let id = resource["id"]?.text { byKey[type + "/" + id] = resource }
            }
        }

        func first(_ type: String) -> JSONValue? { all.first { $0["type"]?.string == type } }

        /// The resource `relationship` of `resource` points at.
        func related(_ resource: JSONValue?, _ relationship: String) -> JSONValue? {
            guard let data = resource?["relationships"]?[relationship]?["data"],
                  let type = data["type"]?.string, let id = data["id"]?.text else { return nil }
            return byKey[type + "/" + id]
        }
    }

    /// `{"id", "event", "payload": [resources]}` for `form_submission`, `tag_added`,
    /// `tag_removed`, `purchase` and `payment_succeeded`.
    static func apiWebhook(_ json: JSONValue, event name: String, source: EventSource, settings: Settings,
                           fallbackTime: Timestamp) throws(RowRejection) -> [Event] {
        let resources = Resources(json["payload"]?.array ?? [])
        let delivery = json["id"]?.text.flatMap(nonEmpty)
        switch name {
        case "form_submission":
            guard let submission = resources.first("form_submissions") else { throw RowRejection("a form_submission payload without a form_submissions resource") }
            let attributes = submission["attributes"]
            guard let rawEmail = attributes?["email"]?.text.flatMap(nonEmpty) else { throw RowRejection("no email in the form submission") }
            let email = try normalised(rawEmail)
            let form = resources.related(submission, "form")
            let formID = submission["relationships"]?["form"]?["data"]?["id"]?.text
            let course = formID.flatMap { settings.forms[$0] } ?? form?["attributes"]?["title"]?.text.flatMap(nonEmpty)
            let at = try time(attributes?["created_at"] ?? json["created_at"], fallback: fallbackTime)
            let kind: EventKind = course == nil ? .formSubmitted : .courseCompleted
            let id = submission["id"]?.text.flatMap(nonEmpty).map { "submission-" + $0 } ?? delivery.map { "kajabi-" + $0 }
                ?? Event.contentID(kind: kind, email: email, course: course, points: nil, at: at.explicit)
            return [Event(id: id, kind: kind, email: email, name: attributes?["name"]?.text.flatMap(nonEmpty), course: course,
                          at: at.value, source: source)]
        case "tag_added", "tag_removed":
            guard let contact = resources.first("contacts") else { throw RowRejection("a \(name) payload without a contacts resource") }
            guard let tag = resources.first("contact_tags")?["attributes"]?["name"]?.text.flatMap(nonEmpty) else {
                throw RowRejection("a \(name) payload without a contact_tags resource naming the tag")
            }
            guard let rawEmail = contact["attributes"]?["email"]?.text.flatMap(nonEmpty) else { throw RowRejection("no email on the contact") }
            let at = try time(json["created_at"] ?? contact["attributes"]?["updated_at"], fallback: fallbackTime)
            return [try tagEvent(added: name == "tag_added", tag: tag, email: normalised(rawEmail),
                                 name: contact["attributes"]?["name"]?.text.flatMap(nonEmpty), contact: contact["id"]?.text,
                                 id: delivery.map { "kajabi-\(name)-\($0)" }, at: at, source: source, settings: settings)]
        case "purchase", "payment_succeeded":
            guard let sale = resources.first("purchases") ?? resources.first("transactions") else {
                throw RowRejection("a \(name) payload without a purchases or transactions resource")
            }
            let customer = resources.related(sale, "customer") ?? resources.first("customers")
            guard let rawEmail = customer?["attributes"]?["email"]?.text.flatMap(nonEmpty) else { throw RowRejection("no customer email") }
            let email = try normalised(rawEmail)
            let offer = resources.related(sale, "offer")
            let offerName = offer?["attributes"]?["title"]?.text.flatMap(nonEmpty) ?? offer?["id"]?.text
            let contact = customer?["relationships"]?["contact"]?["data"]?["id"]?.text
            let at = try time(sale["attributes"]?["created_at"] ?? json["created_at"], fallback: fallbackTime)
            let kind: EventKind = name == "purchase" ? .purchaseCreated : .paymentSucceeded
            let saleID = sale["id"]?.text.flatMap(nonEmpty)
            let purchase = sale["type"]?.string == "purchases" ? saleID : nil
            let id: String
            if kind == .purchaseCreated, let purchase {
                id = purchaseEventID(purchase)
            } else {
                id = (saleID ?? delivery).map { "kajabi-\(name)-\($0)" }
                    ?? Event.contentID(kind: kind, email: email, course: offerName, points: nil, at: at.explicit)
            }
            var event = Event(id: id, kind: kind, email: email, name: customer?["attributes"]?["name"]?.text.flatMap(nonEmpty),
                              at: at.value, source: source)
            event.contact = contact
            event.purchase = purchase
            event.offer = offerName
            return [event]
        case "order_created":
            // A cart purchase: an order of one or more offers, paid by one customer.
            guard let order = resources.first("orders") else { throw RowRejection("an order_created payload without an orders resource") }
            let customer = resources.related(order, "customer") ?? resources.first("customers")
            guard let rawEmail = customer?["attributes"]?["email"]?.text.flatMap(nonEmpty) else { throw RowRejection("no customer email") }
            let email = try normalised(rawEmail)
            let items = resources.all.filter { $0["type"]?.string == "order_items" }
                .compactMap { $0["attributes"]?["title"]?.text.flatMap(nonEmpty) }
            guard let orderID = order["id"]?.text.flatMap(nonEmpty) else { throw RowRejection("an order_created payload whose order has no id") }
            let at = try time(order["attributes"]?["created_at"] ?? json["created_at"], fallback: fallbackTime)
            var event = Event(id: purchaseEventID("order-" + orderID), kind: .purchaseCreated, email: email,
                              name: customer?["attributes"]?["name"]?.text.flatMap(nonEmpty), at: at.value, source: source)
            event.contact = customer?["relationships"]?["contact"]?["data"]?["id"]?.text
            event.purchase = "order-" + orderID
            event.offer = items.isEmpty ? nil : items.joined(separator: ", ")
            return [event]
        default:
            throw RowRejection("unknown payload shape: API webhook event \"\(name)\" (Tally reads form_submission, tag_added, tag_removed, purchase, payment_succeeded, order_created)")
        }
    }

    // MARK: Contact tags

    /// `{"event_id", "created_at", "contact": {"id", "email"}, "tag": {"name"}}`: a Kajabi
    /// automation tagging a contact, usually on course completion. `removed: true` (or
    /// `"event": "tag_removed"`) for a removal.
    static func contactTag(_ json: JSONValue, source: EventSource, settings: Settings,
                           fallbackTime: Timestamp) throws(RowRejection) -> Event {
        guard let tag = json["tag"]?["name"]?.text.flatMap(nonEmpty) else { throw RowRejection("a contact tag without tag.name") }
        guard let rawEmail = json["contact"]?["email"]?.text.flatMap(nonEmpty) else { throw RowRejection("a contact tag without contact.email") }
        let removed = json["removed"]?.bool == true || json["event"]?.string == "tag_removed"
        let at = try time(json["created_at"], fallback: fallbackTime)
        return try tagEvent(added: !removed, tag: tag, email: normalised(rawEmail), name: json["contact"]?["name"]?.text.flatMap(nonEmpty),
                            contact: json["contact"]?["id"]?.text, id: json["event_id"]?.text.flatMap(nonEmpty),
                            at: at, source: source, settings: settings)
    }

    /// A tag added whose `[kajabi.tags]` entry names a course is that course completed; any
    /// other tag, and any removal, is recorded and awards or takes back nothing.
    static func tagEvent(added: Bool, tag rawTag: String, email: Email, name: String?, contact: String?, id: String?,
                         at: (value: Timestamp, explicit: Timestamp?), source: EventSource, settings: Settings) throws(RowRejection) -> Event {
        let tag = KajabiPayload.normaliseTag(rawTag)
        let course = added ? settings.tags[tag] : nil
        let kind: EventKind = course != nil ? .courseCompleted : added ? .tagAdded : .tagRemoved
        let eventID = id ?? Event.contentID(kind: kind, email: email, course: course ?? tag, points: nil, at: at.explicit)
        var event = Event(id: eventID, kind: kind, email: email, name: name, course: course, at: at.value, source: source)
        event.tag = tag
        event.contact = contact
        return event
    }

    // MARK: Helpers

    static func normalised(_ raw: String) throws(RowRejection) -> Email {
        do { return try Email(normalising: raw) } catch { throw RowRejection(error.description) }
    }

    /// A payload's time, or the file's when it has none; `explicit` is nil in that case, so a
    /// content id does not depend on when the file arrived.
    static func time(_ value: JSONValue?, fallback: Timestamp) throws(RowRejection) -> (value: Timestamp, explicit: Timestamp?) {
        guard let text = value?.text.flatMap(nonEmpty) else { return (fallback, nil) }
        guard let parsed = DateParser.parse(text) else { throw RowRejection("unreadable date \"\(text)\"") }
        return (parsed, parsed)
    }

    static func personName(_ full: String?, _ first: String?, _ last: String?) -> String? {
        var name = full ?? [first, last].compactMap { $0 }.joined(separator: " ")
        if name.isEmpty || Email.looksLikeEmail(name) { name = "" }
        return name.isEmpty ? nil : name
    }
}
