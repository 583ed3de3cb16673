import Foundation

/// Email messages: a container whose attachments are read as if each had been dropped alone.
extension Engine {
    /// An email message: refused whole unless `[email]` allows its sender; read once per
    /// `Message-ID` and attachments; each attachment Tally can read (and a JSON body) read as
    /// if dropped alone.
    /// The decoded parts live in `data/tmp/` while they are read.
    func readMessage(_ file: InboxFile, sha: String, report: inout FileReport) throws {
        let scratch = settings.paths.data + "/tmp/message-\(Crypto.randomToken(bytes: 9))"
        try FileSystem.createDirectory(scratch)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let message: ParsedMessage
        do {
            message = try MIMEReader(path: file.path, directory: scratch, limits: settings.mailLimits).read()
        } catch .mailbox(let messages) {
            throw IntakeError.unreadable(file: file.name, reason: MailError.mailbox(messages: messages).description)
        } catch {
            throw IntakeError.unreadable(file: file.name, reason: "as an email message, \(error.description)")
        }
        if let refusal = settings.mailPolicy.refusal(for: message.headers) {
            throw IntakeError.refused(file: file.name, reason: refusal)
        }
        report.messageID = message.headers.messageID
        var readable: [(MailAttachment, String, FileKind)] = []
        var passed = message.skipped
        for attachment in message.attachments {
            let name = attachment.name ?? MIMEReader.defaultName(for: attachment)
            let kind = FileKind.detect(path: attachment.path, name: name)
            // A plain-text body counts only when it is JSON (a relayed webhook); rosters and
            // messages attached are not read from mail.
            let isBody = attachment.name == nil && attachment.contentType.essence == "text/plain"
            if (isBody && kind != .json && kind != .jsonLines) || kind == .roster || kind == .email {
                if !isBody { passed.append("\(attachment.number) (\(kind == .roster ? "a roster" : "a message") \(name))") }
                continue
            }
            readable.append((attachment, name, kind))
        }
        guard !readable.isEmpty else {
            let list = passed.isEmpty ? "" : " (passed over: \(passed.joined(separator: ", ")))"
            throw IntakeError.notATable(
                file: file.name, reason: "the message has no attachment Tally reads: CSV, TSV, XLSX, ODS, JSON or JSON lines\(list)")
        }
        // What it carries, for "the same message again": its attachments' bytes.
        var digest = SHA256Hasher()
        for (attachment, _, _) in readable { digest.update(Array(try hashFile(attachment.path).utf8)) }
        let key = State.messageKey(messageID: report.messageID, contentDigest: Crypto.hex(digest.finalize()))
        report.messageKey = key
        if state.files.contains(key) {
            report.outcome = .skipped
            return
        }
        for (attachment, name, kind) in readable {
            let part = InboxFile(name: name, path: attachment.path, modified: file.modified, size: attachment.bytes)
            try read(part, kind: kind, sha: sha, report: &report,
                     container: (file.name, report.messageID, attachment.number))
        }
    }
}
