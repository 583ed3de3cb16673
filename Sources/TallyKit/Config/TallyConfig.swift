import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Everything `tally.toml` can say, typed, with every default in one place: the property
/// initialisers of this type and of its sections.
///
/// Every key of the file is optional, so ``defaults`` is a complete, working configuration
/// and the decoder only overwrites what the file sets. Sections are value types, `Sendable`,
/// so the daemon can hand one configuration to every stage without copying worries.
///
/// An optional string written as `""` (the contract's example has `publish = ""`,
/// `listen = ""`, `require_auth = ""`) means "not set", the same as leaving the key out.
public struct TallyConfig: Sendable, Equatable {
    public var paths = Paths()
    public var roster = Roster()
    public var points = Points()
    /// Sorted by ``Level/xp``, lowest first; a student's level is the last one reached.
    public var levels: [Level] = []
    public var badges: [Badge] = []
    public var unlocks: [Unlock] = []
    /// In file order; several may name one activity (e.g. 40 a week and 200 ever).
    public var caps: [Cap] = []
    public var kajabi = Kajabi()
    public var email = Mail()
    public var receive = Receive()
    /// In file order: the first entry whose glob matches a file's name applies to it.
    public var sources: [SourceConfig] = []
    public var site = Site()
    public var limits = Limits()

    public init() {}

    /// The configuration of a working directory without `tally.toml`.
    public static let defaults = TallyConfig()

    /// The environment variable that holds the main Kajabi webhook secret.
    public static let secretVariable = "KAJABI_WEBHOOK_SECRET"

    /// Reads and decodes the file at `path`, then applies `environment` (see
    /// ``load(contentsOf:environment:)``).
    ///
    /// A missing file throws ``ConfigError/notFound(path:)``: the caller decides whether that
    /// is an error (`--config` named it) or means ``defaults`` (the implicit `tally.toml`).
    /// Errors of any file but `./tally.toml` are wrapped in ``ConfigError/inFile(path:error:)``
    /// so that their message names the file the user chose.
    public static func load(
        path: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigError) -> TallyConfig {
        let text = try readText(path)
        do {
            return try load(contentsOf: text, environment: environment)
        } catch {
            throw path == "tally.toml" || path == "./tally.toml" ? error : .inFile(path: path, error: error)
        }
    }

    /// Decodes `text` as `tally.toml`, then applies `environment`.
    ///
    /// `KAJABI_WEBHOOK_SECRET`, when set and not empty, **overrides** `[kajabi] secret`. The
    /// environment wins, as in a twelve-factor app, because it is where deployments put
    /// secrets: a secret rotated in the service's environment must take effect without
    /// editing a file that may be checked into version control, and a file's `secret` is best
    /// left as a development value. Per-site secrets (`[kajabi.sites]`) have no variable and
    /// come from the file only.
    public static func load(
        contentsOf text: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigError) -> TallyConfig {
        var config = try ConfigDecoder(text: text).decode()
        if let secret = environment[secretVariable], !secret.isEmpty {
            config.kajabi.secret = secret
        }
        try config.checkSignatureSecret(text: text)
        try config.checkTokenSecrets(text: text)
        return config
    }

    /// The first `[[sources]]` entry whose `files` glob matches `fileName`, if any.
    public func source(for fileName: String) -> SourceConfig? {
        sources.first { $0.files.matches(fileName) }
    }

    /// The secret that signs deliveries for `site`: its `[kajabi.sites]` entry, else the main
    /// secret (which the environment may have set). Nil when no secret is configured.
    public func secret(forSite site: String?) -> String? {
        kajabi.secret(forSite: site)
    }

    /// `require_signature = true` with no secret anywhere would refuse every payload in
    /// silence; saying so at start-up is kinder.
    private func checkSignatureSecret(text: String) throws(ConfigError) {
        guard kajabi.requireSignature, kajabi.secret == nil, kajabi.sites.isEmpty else { return }
        let path = ConfigKeyPath.root.appending("kajabi").appending("require_signature")
        throw .badValue(
            key: path.display, line: KeyLocator(text).line(of: path),
            reason: "is true, but no secret is set: set kajabi.secret or \(TallyConfig.secretVariable)")
    }

    /// A path token stands for a site whose secret signs what it lets in: without that
    /// secret, the front door would have to write unsigned requests it vouched for.
    private func checkTokenSecrets(text: String) throws(ConfigError) {
        for site in receive.tokens.keys.sorted() {
            let path = ConfigKeyPath.root.appending("receive").appending("tokens").appending(site)
            if site == TallyConfig.Receive.defaultSite {
                guard kajabi.secret == nil else { continue }
                throw .badValue(
                    key: path.display, line: KeyLocator(text).line(of: path),
                    reason: "needs a secret to sign what it lets in: set kajabi.secret or \(TallyConfig.secretVariable)")
            }
            guard kajabi.sites[site] == nil else { continue }
            throw .badValue(
                key: path.display, line: KeyLocator(text).line(of: path),
                reason: "names no site of kajabi.sites, whose secret would sign what it lets in "
                    + "(the name \"default\" signs with kajabi.secret)")
        }
    }

    /// The whole file as UTF-8 text, refusing anything over 1 MiB (no configuration is that
    /// long; a wrong `--config` pointing at a data file is).
    private static func readText(_ path: String) throws(ConfigError) -> String {
        guard let file = fopen(path, "rb") else {
            let code = errno
            if code == ENOENT { throw .notFound(path: path) }
            throw .unreadable(path: path, reason: String(cString: strerror(code)))
        }
        defer { fclose(file) }
        let limit = 1 << 20
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if count > 0 { bytes.append(contentsOf: chunk[..<count]) }
            if bytes.count > limit { throw .unreadable(path: path, reason: "larger than 1 MiB") }
            if count < chunk.count {
                if ferror(file) != 0 {
                    throw .unreadable(path: path, reason: String(cString: strerror(errno)))
                }
                break
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .unreadable(path: path, reason: "not UTF-8 text")
        }
        return text
    }
}
