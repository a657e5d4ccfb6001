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
        By default the sandbox has new user, mount and pid namespaces.
        """
    )

    @Flag(help: "Create all seven namespaces: user, pid, mount, net, ipc, uts, cgroup.")
    var unshareAll = false
    @Flag(help: "Create a new network namespace (only lo, up).")
    var unshareNet = false
    @Flag(help: "Create a new IPC namespace.")
    var unshareIpc = false
    @Flag(help: "Create a new UTS namespace (own hostname).")
    var unshareUts = false
    @Flag(help: "Create a new cgroup namespace.")
    var unshareCgroup = false
    @Flag(help: "Keep the host's network (no new network namespace), also with --unshare-all.")
    var shareNet = false
    @Flag(help: "Keep the host's pid namespace (no reaper; a timeout kills only the command).")
    var sharePid = false
    @Flag(help: "Do not create a user namespace (root only).")
    var shareUser = false
    @Flag(name: .customLong("as-pid-1"), help: "Exec the command as pid 1 instead of under the reaper.")
    var asPid1 = false

    @Option(help: ArgumentHelp("The uid inside: your own (default) or 0. --uid 0 also maps your gid to 0 unless --gid is given.", valueName: "UID"))
    var uid: UInt32?
    @Option(help: ArgumentHelp("The gid inside: your own (default) or 0.", valueName: "GID"))
    var gid: UInt32?
    @Option(help: ArgumentHelp("Hostname inside (implies --unshare-uts).", valueName: "NAME"))
    var hostname: String?
    @Option(help: ArgumentHelp("Working directory inside (absolute).", valueName: "DIR"))
    var chdir: String?
    @Option(help: ArgumentHelp("Set an environment variable (repeatable).", valueName: "NAME=VALUE"))
    var setenv: [String] = []
    @Option(help: ArgumentHelp("Remove an environment variable (repeatable).", valueName: "NAME"))
    var unsetenv: [String] = []
    @Flag(help: "Start from an empty environment (then --setenv applies).")
    var clearenv = false
    @Option(help: ArgumentHelp("Pass descriptor FD to the command, as FD or as TARGET (repeatable).", valueName: "FD[:TARGET]"))
    var passFd: [String] = []
    @Option(help: ArgumentHelp("Kill the whole sandbox after this long and exit 124 (e.g. 30, 1.5, 500ms, 2m).", valueName: "DURATION"))
    var timeout: String?
    @Option(help: ArgumentHelp("Write the outcome as one JSON object to FILE.", valueName: "FILE"))
    var jsonStatus: String?
    @Flag(inversion: .prefixedNo, help: "Kill the sandbox when rsandbox dies.")
    var dieWithParent = true

    @Argument(parsing: .remaining, help: ArgumentHelp("The command and its arguments. Put -- before it when it has options of its own.", valueName: "CMD"))
    var command: [String] = []

    /// The parsed flags as plain values (the fast path builds the same without ArgumentParser).
    var options: RunOptions {
        RunOptions(
            unshareAll: unshareAll, unshareNet: unshareNet, unshareIpc: unshareIpc, unshareUts: unshareUts,
            unshareCgroup: unshareCgroup, shareNet: shareNet, sharePid: sharePid, shareUser: shareUser,
            asPid1: asPid1, uid: uid, gid: gid, hostname: hostname, chdir: chdir, setenv: setenv,
            unsetenv: unsetenv, clearenv: clearenv, passFd: passFd, timeout: timeout, jsonStatus: jsonStatus,
            dieWithParent: dieWithParent, command: command)
    }

    func run() throws {
        throw ExitCode(options.execute())
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
