import ArgumentParser
import Glibc

/// `rsandbox`: thin over the library. Usage errors exit 125 like every other set-up failure.
@main
enum Entry {
    static func main() {
        let args = CommandLine.arguments
        if args.count > 1, args[1] == "run" || args[1] == "shell" {
            let shell = args[1] == "shell"
            switch RunArgumentParser.parse(args[2...], shell: shell) {
            case .options(let options):
                exit(shell ? ShellSession(options: options).execute() : options.execute())
            case .invalid(let message):
                writeStderr("rsandbox: \(args[1]): \(message)\n")
                exit(ExitCodes.setup)
            case .deferred:
                break
            }
        }
        do {
            var command = try RSandboxCommand.parseAsRoot()
            try command.run()
        } catch let code as ExitCode {
            exit(code.rawValue)
        } catch {
            let code = RSandboxCommand.exitCode(for: error)
            if code == .success {
                RSandboxCommand.exit(withError: error)
            }
            let message = RSandboxCommand.fullMessage(for: error)
            if !message.isEmpty {
                writeStderr("rsandbox: " + message + "\n")
            }
            exit(ExitCodes.setup)
        }
    }
}

struct RSandboxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rsandbox",
        abstract: "Rootless Linux sandboxes: namespaces, mounts and limits without root.",
        subcommands: [Shell.self, Run.self, Doctor.self]
    )
}

/// Exit codes of `rsandbox run`, after podman and timeout(1).
enum ExitCodes {
    static let timedOut: Int32 = 124
    static let setup: Int32 = 125
    static let cannotExecute: Int32 = 126
    static let notFound: Int32 = 127
}

func writeStderr(_ s: String) {
    writeAll(2, s)
}

func writeStdout(_ s: String) {
    writeAll(1, s)
}

/// Writes all of `s` to `fd`, across short writes and EINTR.
func writeAll(_ fd: Int32, _ s: String) {
    var s = s
    s.withUTF8 { buf in
        var off = 0
        while off < buf.count {
            let n = write(fd, buf.baseAddress! + off, buf.count - off)
            if n <= 0 { if errno == EINTR { continue }; return }
            off += n
        }
    }
}
