import CRSandbox
import Glibc

/// User-mode networking: pasta (Debian `passt`) joins the sandbox's user and network
/// namespaces, gives it a tap eth0 with an address, route and DNS of the host's, and carries its
/// traffic through the host's sockets. No helper, no root; outbound only unless ports are
/// forwarded.
///
/// Its lifetime is the supervisor's: pasta runs in the foreground (`--foreground`) as a child
/// the kernel kills when the supervisor dies (PR_SET_PDEATHSIG, `rs_spawn_bound`), and `stop`
/// kills it when the sandbox ends. Left to itself it would run on: this pasta does not notice
/// that a namespace given as /proc/PID/ns/net is gone (its netns-quit watch works only for
/// namespaces bound in the filesystem, by inotify, which /proc does not serve), and its tap
/// holds the namespace alive. The price: a sandbox that outlives its supervisor
/// (`dieWithParent` off) loses its user-mode network with it.
struct Pasta: Sendable {
    let pid: pid_t
    let pidfd: Int32

    /// Where pasta is looked for (it is never run from the caller's PATH by surprise).
    static let candidates = ["/usr/bin/pasta", "/usr/local/bin/pasta", "/bin/pasta"]

    /// How long pasta may take to configure eth0 before the spawn fails.
    static let startLimitMilliseconds: Int32 = 10_000

    /// pasta's arguments. Every forwarding direction is explicit: pasta's default, `auto`,
    /// would bind on the host every port a sandboxed program listens on (-t/-u), and bind in
    /// the sandbox every port the host listens on (-T/-U), so a sandboxed server could not
    /// use a port the host uses. Only `forwards` reach inside; the host's loopback stays
    /// reachable through the gateway address.
    static func arguments(path: String, pid: pid_t, pidFile: String, forwards: [PortForward]) -> [String] {
        var args = [path, "--foreground", "--config-net", "--quiet", "--netns", "/proc/\(pid)/ns/net",
                    "--userns", "/proc/\(pid)/ns/user", "--pid", pidFile]
        for (flag, transport) in [("-t", PortForward.Transport.tcp), ("-u", .udp)] {
            let specs = forwards.filter { $0.transport == transport }.map(\.pastaSpec)
            if specs.isEmpty {
                args += [flag, "none"]
            } else {
                for s in specs { args += [flag, s] }
            }
        }
        return args + ["-T", "none", "-U", "none"]
    }

    /// Starts pasta for the (still parked) child `pid`; returns once eth0 is configured, which
    /// pasta tells by writing its pid to `--pid` (a FIFO here, so the wait needs no polling).
    static func attach(pid: pid_t, forwards: [PortForward]) throws(SandboxError) -> Pasta {
        guard let path = candidates.first(where: { access($0, X_OK) == 0 }) else {
            throw SandboxError(stage: .network, item: "net user", reason: "pasta is not installed",
                               hint: "install passt (Debian: apt install passt), or use --net bridge")
        }
        var template = Array("/tmp/rsandbox-pasta.XXXXXX".utf8CString)
        guard let dir = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }).map({ String(cString: $0) }) else {
            throw .system(.network, errno, item: "net user (pid file directory)")
        }
        let fifo = dir + "/pasta.pid", log = dir + "/pasta.err"
        defer { unlink(fifo); unlink(log); rmdir(dir) }
        guard mkfifo(fifo, 0o600) == 0 else { throw .system(.network, errno, item: "net user (\(fifo))") }
        // Opened before pasta starts; non-blocking, so the open needs no writer yet.
        let ready = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        if ready < 0 { throw .system(.network, errno, item: "net user (\(fifo))") }
        defer { close(ready) }
        // pasta's stderr: a file, read on failure (a pipe nobody reads later could block it).
        let err = open(log, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if err < 0 { throw .system(.network, errno, item: "net user (\(log))") }
        defer { close(err) }

        var cArgs = arguments(path: path, pid: pid, pidFile: fifo, forwards: forwards).map { strdup($0) }
        cArgs.append(nil)
        defer { for p in cArgs { free(p) } }
        var child: pid_t = 0, pidfd: Int32 = -1
        let r = rs_spawn_bound(path, &cArgs, err, &child, &pidfd)
        if r < 0 { throw .system(.network, -r, item: "net user (running \(path))") }
        let pasta = Pasta(pid: child, pidfd: pidfd)

        let deadline = MonotonicClock.now() + .milliseconds(startLimitMilliseconds)
        var written: [UInt8] = []
        while true {
            var fds = [pollfd(fd: ready, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)]
            let left = (deadline - MonotonicClock.now()).milliseconds
            if left <= 0 {
                pasta.stop()
                throw SandboxError(stage: .network, item: "net user",
                                   reason: "pasta did not configure eth0 within \(startLimitMilliseconds / 1000) s")
            }
            let n = poll(&fds, 2, Int32(clamping: left))
            if n < 0 {
                if errno == EINTR { continue }
                let e = errno
                pasta.stop()
                throw .system(.network, e, item: "net user (waiting for pasta)")
            }
            if fds[0].revents != 0 {
                var buf = [UInt8](repeating: 0, count: 32)
                let got = buf.withUnsafeMutableBytes { read(ready, $0.baseAddress, $0.count) }
                if got > 0 {
                    written += buf[0..<got]
                    if written.last == UInt8(ascii: "\n") { return pasta }
                    continue
                }
                // The writer closed: after its pid, it is ready; before, it failed.
                if got == 0 && !written.isEmpty { return pasta }
            }
            // pasta exited, or closed the FIFO without writing its pid: it failed; its stderr says why.
            if fds[1].revents != 0 || fds[0].revents != 0 {
                let status = pasta.stop()
                throw failure(status: status, log: log)
            }
        }
    }

    private static func failure(status: Int32, log: String) -> SandboxError {
        let lines = (SystemFile.read(log) ?? "").split(separator: "\n").map(String.init)
            .filter { !$0.hasPrefix("Failed to send") } // pasta's syslog noise
            .map { line -> String in
                // "1795459662.2494: Couldn't …": pasta stamps some lines with the time.
                if let colon = line.firstIndex(of: ":"), line[..<colon].allSatisfy({ $0.isNumber || $0 == "." }), colon != line.startIndex {
                    return String(line[line.index(after: colon)...].drop { $0 == " " })
                }
                return line
            }
        return SandboxError(stage: .network, item: "net user",
                            reason: "pasta failed: " + (lines.first ?? "wait status \(status)"),
                            hint: lines.contains { $0.contains("tun") } ? "pasta needs /dev/net/tun to be usable by you (mode 0666)" : nil)
    }

    /// Kills pasta and reaps it (it is this process's child); returns its wait status. SIGKILL:
    /// it has nothing to flush, and a port it forwarded is free again once it is reaped.
    @discardableResult
    func stop() -> Int32 {
        _ = rs_pidfd_send_signal(pidfd, SIGKILL)
        var status: Int32 = 0
        _ = rs_pidfd_wait(pidfd, WEXITED, &status)
        close(pidfd)
        return status
    }
}
