import ArgumentParser
import RSandbox

struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what this host allows and how to fix what it doesn't.",
        discussion: "Exits 1 when a check that every sandbox needs fails, 0 otherwise."
    )

    @Flag(help: "Print the checks as a JSON array.")
    var json = false

    func run() throws {
        var probe = HostProbe()
        if let sock = RunOptions.netdSocketOverride() { probe.netdSocket = sock }
        let checks = probe.run()
        if json {
            let items: [JSON] = checks.map {
                .object([
                    ("name", .string($0.name)), ("ok", .bool($0.ok)), ("required", .bool($0.required)),
                    ("detail", .string($0.detail)), ("fix", $0.fix.map(JSON.string) ?? .null),
                ])
            }
            writeStdout(JSON.array(items).encoded + "\n")
        } else {
            for c in checks {
                writeStdout("\(c.ok ? "✓" : "✗") \(c.name): \(c.detail)\n")
                if !c.ok, let fix = c.fix {
                    writeStdout("    fix: \(fix)\n")
                }
            }
        }
        if checks.contains(where: { $0.required && !$0.ok }) {
            throw ExitCode(1)
        }
    }
}
