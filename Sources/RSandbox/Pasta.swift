import CRSandbox
import Glibc

/// User-mode networking: pasta (Debian `passt`) joins the sandbox's user and network
/// namespaces, gives it a tap eth0 with an address, route and DNS of the host's, and carries its
/// traffic through the host's sockets. No helper, no root; outbound only.
enum Pasta {
    /// Where pasta is looked for (it is never run from the caller's PATH by surprise).
    static let candidates = ["/usr/bin/pasta", "/usr/local/bin/pasta", "/bin/pasta"]

    /// Starts pasta for the (still parked) child `pid`; returns once eth0 is configured (pasta
    /// forks into the background then). The caller stops it with `stop`.
    static func attach(pid: pid_t) throws(SandboxError) -> pid_t {
        guard let path = candidates.first(where: { access($0, X_OK) == 0 }) else {
            throw SandboxError(stage: .network, item: "net user", reason: "pasta is not installed",
                               hint: "install passt (Debian: apt install passt), or use --net bridge")
        }
        var template = Array("/tmp/rsandbox-pasta.XXXXXX".utf8CString)
        guard let dir = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }).map({ String(cString: $0) }) else {
            throw .system(.network, errno, item: "net user (pid file directory)")
        }
        let pidFile = dir + "/pasta.pid"
        defer { unlink(pidFile); rmdir(dir) }
        let args = [path, "--config-net", "--quiet", "--netns", "/proc/\(pid)/ns/net", "--userns", "/proc/\(pid)/ns/user",
                    "--pid", pidFile]
        var cArgs = args.map { strdup($0) }
        cArgs.append(nil)
        defer { for p in cArgs { free(p) } }
        var err = [CChar](repeating: 0, count: 1024)
        let status = rs_run_helper(path, &cArgs, &err, UInt(err.count))
        if status < 0 {
            throw .system(.network, -status, item: "net user (running \(path))")
        }
        if status != 0 {
            let lines = String(cString: err).split(separator: "\n").map(String.init)
                .filter { !$0.hasPrefix("Failed to send") } // pasta's syslog noise
            throw SandboxError(stage: .network, item: "net user",
                               reason: "pasta failed: " + (lines.first ?? "status \(status)"),
                               hint: lines.contains { $0.contains("tun") } ? "pasta needs /dev/net/tun to be usable by you (mode 0666)" : nil)
        }
        guard let text = SystemFile.read(pidFile), let daemon = pid_t(text.trimmingNewline), daemon > 0 else {
            throw SandboxError(stage: .network, item: "net user", reason: "pasta started but wrote no pid to \(pidFile)")
        }
        return daemon
    }

    /// Stops pasta; it would outlive the namespace otherwise (its tap holds the namespace).
    /// SIGKILL: pasta inherits the supervisor's blocked signals, SIGTERM among them, and has
    /// nothing to flush.
    static func stop(_ pid: pid_t) {
        kill(pid, SIGKILL)
    }
}
