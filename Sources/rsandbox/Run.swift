import ArgumentParser
import Glibc
import RSandbox

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a command in a sandbox and exit with its status.",
        discussion: """
        Exit status: the command's own code; 128+N when it died of signal N; 124 on timeout; \
        125 when the sandbox could not be set up; 126 when the command cannot be executed; \
        127 when it is not found.
        By default the sandbox has new user, mount, pid and network namespaces: no network but \
        its own lo (--net none); --net host keeps the host's, --net user or --net bridge give it a NIC.
        """
    )

    @OptionGroup var flags: SandboxFlags

    @Argument(parsing: .remaining, help: ArgumentHelp("The command and its arguments. Put -- before it when it has options of its own.", valueName: "CMD"))
    var command: [String] = []

    func run() throws {
        // ArgumentParser accepted what the ordered parser did not: they disagree.
        writeStderr("rsandbox: run: these arguments could not be read in order; see rsandbox run --help\n")
        throw ExitCode(ExitCodes.setup)
    }
}
/// "30", "1.5", "500ms", "2m", "1h" → Duration.
enum DurationParser {
    static func parse(_ s: String) -> Duration? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        var number = Substring(s)
        var scale = 1.0
        for (suffix, factor) in units where s.hasSuffix(suffix) {
            number = s.dropLast(suffix.count)
            scale = factor
            break
        }
        guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
              let v = Double(number), v > 0, v * scale < 1e9 else { return nil }
        return .nanoseconds(Int64((v * scale * 1e9).rounded()))
    }
}
