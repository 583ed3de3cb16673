import ArgumentParser
import TallyKit

struct Sign: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Wrap a raw webhook body into a signed captured request {\"headers\", \"body\"}.",
        discussion: "The signature is the hex HMAC-SHA256 of the body under KAJABI_WEBHOOK_SECRET, [kajabi] secret, or a [kajabi.sites] secret with --site-name NAME (--site is the site folder, as for every command).")

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The file holding the raw body, exactly as delivered.")
    var file: String

    @Option(help: "Sign with this [kajabi.sites] secret, and name the site in the capture.")
    var siteName: String?

    @Option(name: .shortAndLong, help: "Write the capture here instead of standard output; e.g. inbox/NAME.json (a file is replaced atomically; a device, FIFO or /dev/stdout is written through).")
    var output: String?

    func run() throws {
        try reporting {
            let settings = try options.settings()
            let policy = settings.jsonIntake.policy
            let secret = siteName.map { policy.siteSecrets[$0] } ?? policy.secret
            guard let secret, !secret.isEmpty else {
                throw Failure.usage(siteName.map { "[kajabi.sites] has no secret for \"\($0)\"" }
                                    ?? "no secret: set KAJABI_WEBHOOK_SECRET or [kajabi] secret in tally.toml")
            }
            let bytes: [UInt8]
            do { bytes = try FileSystem.readFile(file) } catch { throw Failure.usage("\(error)") }
            guard let body = String(validating: bytes, as: UTF8.self) else {
                throw Failure.usage("\(file) is not UTF-8 text; a webhook body is JSON")
            }
            let capture = CapturedRequest(headers: [("Content-Type", "application/json"),
                                                    (CapturedRequest.signatureHeader, CapturedRequest.sign(body: body, secret: secret))],
                                          body: body, site: siteName)
            if let output {
                try FileSystem.writeOutput(capture.encoded(), to: output)
            } else {
                print(String(decoding: capture.encoded().dropLast(), as: UTF8.self))
            }
        }
    }
}
