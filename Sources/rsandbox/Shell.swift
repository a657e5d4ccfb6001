import ArgumentParser
import Glibc
import RSandbox

/// `rsandbox shell`: ArgumentParser's side (help and error messages); the work is ShellSession.
struct Shell: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Open an interactive shell in a sandbox: the host read-only, your project writable.",
        discussion: """
        The default view: the host's root read-only; /home hidden behind an empty tmpfs except \
        the current directory, which is bound read-write; a fresh /tmp, /proc and minimal /dev; \
        hostname rsandbox; no network; your own uid (--uid 0 for root inside); $SHELL or /bin/sh. \
        With --rootfs DIR the root is DIR instead (with /tmp, /proc and /dev added, cwd /). \
        Every filesystem flag of `run` adds steps after the default view. With a terminal on \
        stdin the shell gets a pty of its own; without one it runs like `run`.
        """
    )

    @OptionGroup var flags: SandboxFlags
    @Flag(help: "Print the sandbox's spec as JSON and exit without running it.")
    var printSpec = false

    @Argument(parsing: .remaining, help: ArgumentHelp("The shell (default $SHELL or /bin/sh) and its arguments, after --.", valueName: "CMD"))
    var command: [String] = []

    func run() throws {
        writeStderr("rsandbox: shell: these arguments could not be read in order; see rsandbox shell --help\n")
        throw ExitCode(ExitCodes.setup)
    }
}
