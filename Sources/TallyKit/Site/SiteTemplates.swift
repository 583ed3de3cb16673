import Foundation
import Mustache
import Synchronization

/// A site template that could not be used, with the file and what to do about it.
public enum SiteError: Error, CustomStringConvertible, Sendable {
    /// The override directory leaves no stylesheet (cannot happen with the built-in one).
    case missingBuiltInTemplates
    /// A `.mustache` file that does not parse.
    case badTemplate(file: String, reason: String)
    /// A template that `index.mustache` or `course.mustache` needs is not there.
    case missingTemplate(name: String)
    /// Partials that include each other (or a template itself): rendering would never end.
    case partialCycle(names: [String])

    public var description: String {
        switch self {
        case .missingBuiltInTemplates:
            return "the site templates have no style.css"
        case let .badTemplate(file, reason):
            return "\(file): not a valid Mustache template (\(reason)); fix it or remove it to use the built-in one"
        case let .missingTemplate(name):
            return "no template named \(name).mustache; add it to the templates directory or remove the partial that names it"
        case let .partialCycle(names):
            return "the site templates include each other in a circle (\(names.map { $0 + ".mustache" }.joined(separator: " → "))), "
                + "so a page would never end; remove the partial that closes the circle"
        }
    }
}

/// The templates and stylesheet of a site: the built-in ones, each replaced by a file of the
/// same name in the override directory when there is one.
///
/// Overriding file by file (rather than all or nothing) lets a school change its colours
/// with one `style.css`, or its header with one partial, and still get later fixes to the
/// other built-in files. A `.mustache` file in the override directory that has no built-in
/// twin is added, so an override can bring partials of its own.
struct SiteTemplates: Sendable {
    var library: MustacheLibrary
    var stylesheet: String
    /// A hash of every template's text: equal when nothing about the templates changed.
    var fingerprint: Int

    /// Loads the built-in templates, then the overrides found in `overrideDirectory`.
    ///
    /// The files are read each time (an override edited while `tally watch` runs is used at
    /// the next render), but parsed only when they differ from the last ones loaded: parsing
    /// every template again was 3 % of a drop's render.
    static func load(overrideDirectory: String?) throws -> SiteTemplates {
        var files: [String: File] = [:]
        for (name, text) in BuiltInTemplates.files { files[name] = File(path: "built-in " + name, text: text) }
        if let overrideDirectory, FileSystem.isDirectory(overrideDirectory) {
            files.merge(try textFiles(in: overrideDirectory)) { _, override in override }
        }
        if let loaded = lastLoaded.withLock({ $0 }), loaded.files == files { return loaded.templates }
        let templates = try parse(files)
        lastLoaded.withLock { $0 = (files, templates) }
        return templates
    }

    /// The files last loaded, and what they made.
    private static let lastLoaded = Mutex<(files: [String: File], templates: SiteTemplates)?>(nil)

    private static func parse(_ files: [String: File]) throws -> SiteTemplates {
        var library = MustacheLibrary()
        for (name, file) in files.sorted(by: { $0.key < $1.key }) where name.hasSuffix(".mustache") {
            do {
                try library.register(file.text, named: String(name.dropLast(".mustache".count)))
            } catch {
                throw SiteError.badTemplate(file: file.path, reason: String(describing: error))
            }
        }
        guard let css = files["style.css"]?.text else {
            throw SiteError.missingBuiltInTemplates
        }
        var partials: [String: [String]] = [:]
        for (name, file) in files where name.hasSuffix(".mustache") {
            partials[String(name.dropLast(".mustache".count))] = partialNames(in: file.text)
        }
        if let cycle = cycle(in: partials) { throw SiteError.partialCycle(names: cycle) }
        var hasher = Hasher()
        for (name, file) in files.sorted(by: { $0.key < $1.key }) {
            hasher.combine(name)
            var text = file.text
            hasher.combine(text.utf8.count)   // so that one file's bytes cannot run into the next's
            text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        }
        return SiteTemplates(library: library, stylesheet: css, fingerprint: hasher.finalize())
    }

    /// The partials and parents a template names (`{{> name}}`, `{{< name}}`), following any change of delimiters
    /// (`{{=<% %>=}}`) as Mustache does.
    static func partialNames(in text: String) -> [String] {
        var names: [String] = []
        var (open, close) = ("{{", "}}")
        var rest = Substring(text)
        while let start = rest.range(of: open) {
            var tag = rest[start.upperBound...]
            // A triple mustache ends with "}}}": its content is a variable, never a partial.
            let closing = open == "{{" && tag.hasPrefix("{") ? "}" + close : close
            guard let end = tag.range(of: closing) else { break }
            rest = tag[end.upperBound...]
            tag = tag[..<end.lowerBound]
            if tag.hasPrefix(">") || tag.hasPrefix("<") {   // a partial, or a parent it extends
                let name = tag.dropFirst().trimmingCharacters(in: .whitespaces)
                if !name.isEmpty { names.append(name) }
            } else if tag.hasPrefix("="), tag.hasSuffix("="), tag.count > 2 {
                let delimiters = tag.dropFirst().dropLast().split(separator: " ", omittingEmptySubsequences: true)
                if delimiters.count == 2 { (open, close) = (String(delimiters[0]), String(delimiters[1])) }
            }
        }
        return names
    }

    /// The first circle of partials found (a template named again at its end), in the order
    /// they include each other; nil when there is none.
    static func cycle(in partials: [String: [String]]) -> [String]? {
        var done: Set<String> = []
        var path: [String] = []
        func visit(_ name: String) -> [String]? {
            if let at = path.firstIndex(of: name) { return Array(path[at...]) + [name] }
            guard !done.contains(name) else { return nil }
            path.append(name)
            for next in partials[name] ?? [] {
                if let found = visit(next) { return found }
            }
            path.removeLast()
            done.insert(name)
            return nil
        }
        for name in partials.keys.sorted() {
            if let found = visit(name) { return found }
        }
        return nil
    }

    /// Renders the template `name` (without `.mustache`) with `context`.
    func render(_ name: String, _ context: [String: Any]) throws -> String {
        guard let html = library.render(context, withTemplate: name) else { throw SiteError.missingTemplate(name: name) }
        return html
    }

    /// The text of a template file; its path is kept for error messages.
    private struct File: Equatable, Sendable {
        var path: String
        var text: String

        /// Equal paths and equal bytes: `String`'s `==` would call a text re-saved in another
        /// Unicode normal form the same, and keep the templates parsed from the old one.
        static func == (a: File, b: File) -> Bool {
            a.path == b.path && a.text.utf8.elementsEqual(b.text.utf8)
        }
    }

    /// The `.mustache` files and `style.css` directly in `directory`, by file name; anything
    /// else there (images, notes, a backup) is left alone.
    private static func textFiles(in directory: String) throws -> [String: File] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
        var files: [String: File] = [:]
        for name in names where (name.hasSuffix(".mustache") || name == "style.css") && !name.hasPrefix(".") {
            let path = directory + "/" + name
            guard !FileSystem.isDirectory(path) else { continue }
            files[name] = File(path: path, text: String(decoding: try FileSystem.readFile(path, limit: 1 << 20), as: UTF8.self))
        }
        return files
    }
}
