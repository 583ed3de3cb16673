// libFuzzer entry for email messages: any bytes must parse or fail with a MailError, never
// crash or hang, keep to the part limit, and never put a part outside its directory.
// Built by scripts/fuzz (swiftc -sanitize=fuzzer,address).
import Foundation

private let directory: String = {
    let path = NSTemporaryDirectory() + "tally-fuzz-mail-\(getpid())"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMail(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var limits = MailLimits()
    limits.maxParts = 40
    limits.maxDepth = 6
    limits.maxLineBytes = 1024
    limits.maxPartBytes = 1 << 16
    defer {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            try? FileManager.default.removeItem(atPath: directory + "/" + name)
        }
    }
    guard let message = try? MIMEReader(source: ArrayByteSource(bytes), directory: directory, limits: limits).read() else {
        return 0
    }
    precondition(message.attachments.count + message.skipped.count <= limits.maxParts)
    precondition(Set(message.attachments.map(\.number)).count == message.attachments.count, "two parts with one number")
    for attachment in message.attachments {
        precondition(attachment.path.hasPrefix(directory + "/part-"))
        precondition(attachment.bytes <= limits.maxPartBytes)
        _ = attachment.name
    }
    _ = message.headers.fromAddress
    _ = message.headers.messageID
    _ = MailPolicy(allowFrom: ["@school.example"], requireAuth: "mx.school.example").refusal(for: message.headers)
    return 0
}
