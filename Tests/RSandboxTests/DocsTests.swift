import Foundation
import Testing
@testable import rsandbox
import RSandbox

/// The docs stay in sync with the code: the library example runs, every flag is documented.
@Suite struct DocsTests {
    func read(_ path: String) throws -> String {
        try String(contentsOf: TestEnvironment.packageRoot.appendingPathComponent(path), encoding: .utf8)
    }

    @Test func libraryExampleRuns() async throws {
        let status = try await runExample()
        #expect(status == RSandbox.ExitStatus(termination: .exited(3)))
    }

    @Test func libraryDocHoldsTheTestedExample() throws {
        let source = try read("Tests/RSandboxTests/LibraryExample.swift")
        let start = try #require(source.range(of: "// example:begin\n"))
        let end = try #require(source.range(of: "// example:end"))
        let example = String(source[start.upperBound..<end.lowerBound])
        #expect(try read("docs/library.md").contains(example), "docs/library.md must quote LibraryExample.swift verbatim")
    }

    @Test func everyFlagInHelpIsInTheCLIDoc() throws {
        let doc = try read("docs/cli.md")
        for help in [Run.helpMessage(columns: 200), Shell.helpMessage(columns: 200), Doctor.helpMessage(columns: 200)] {
            for word in help.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "/" }) {
                let flag = String(word.prefix { $0.isLetter || $0.isNumber || $0 == "-" })
                guard flag.hasPrefix("--"), flag.count > 2, flag != "--help" else { continue }
                #expect(doc.contains("`\(flag)"), "docs/cli.md lacks \(flag)")
            }
        }
    }
}
