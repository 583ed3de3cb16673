import ArgumentParser
import TallyKit

struct Render: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Rebuild the site from the snapshot (data/state.json).")

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        try await reportingAsync {
            let settings = try options.settings()
            var students: [String: StudentState] = [:]
            if FileSystem.exists(settings.paths.state) {
                students = try Snapshot.decodeStudents(try FileSystem.readFile(settings.paths.state, limit: Int.max))
            }
            try Engine.render(students: students, settings: settings)
            print("tally: site written to \(settings.paths.site)/index.html")
            await options.publish(settings)
        }
    }
}
