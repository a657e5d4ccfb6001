import Foundation
import Glibc
import Testing

/// The escape suite (docs/security.md): each program in tests/escape tries one way out of a
/// default sandbox, run by the unprivileged test user, and prints "name: expected X, got Y".
/// The suite stops at the first surprise.
@Suite(.serialized) struct EscapeTests {
    /// The attempts, compiled static (some run in an empty new root), in a world-readable dir.
    static let programs: String = {
        let dir = TestEnvironment.makeSharedDirectory() + "/escape"
        let src = TestEnvironment.packageRoot.appendingPathComponent("tests/escape").path
        let rc = system("mkdir -p \(dir) && chmod 755 \(dir) && for f in \(src)/*.c; do "
            + "gcc -static -O1 -Wall -Werror -o \(dir)/$(basename $f .c) $f || exit 1; done")
        precondition(rc == 0, "cannot compile tests/escape (gcc and libc6-dev: scripts/install-deps)")
        return dir
    }()

    struct Attempt: CustomStringConvertible {
        var name: String
        /// rsandbox run flags before `--`.
        var flags: [String] = []
        /// Arguments of the program.
        var args: [String] = []
        /// The program as the sandbox sees it; nil: its host path (the default view shows the host).
        var path: String? = nil
        /// A shell line run as the test user; $RUN is the rsandbox command line (arguments after
        /// it go to the program).
        var wrap: String? = nil
        var description: String { name }
    }

    /// An abstract unix socket the test (root, on the host) listens on.
    final class AbstractListener {
        let fd: Int32
        let name = "rsandbox-escape-" + uniqueToken()

        init() {
            fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var a = sockaddr_un()
            a.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(name.utf8)
            withUnsafeMutableBytes(of: &a.sun_path) { p in
                for (i, b) in bytes.enumerated() { p[i + 1] = b }
            }
            let len = socklen_t(MemoryLayout<sa_family_t>.size + 1 + bytes.count)
            let bound = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
            precondition(bound == 0 && listen(fd, 8) == 0, "cannot listen on @\(name)")
        }

        deinit { close(fd) }
    }

    static func run(_ a: Attempt) throws -> CLIResult {
        let program = a.path ?? (Self.programs + "/" + a.name)
        let words = [TestEnvironment.binary, "run"] + a.flags + ["--", program] + a.args
        if let wrap = a.wrap {
            let line = words.map { "'\($0)'" }.joined(separator: " ")
            return try shell(wrap.replacingOccurrences(of: "$RUN", with: line), as: .testUser)
        }
        return try rsandbox(Array(words.dropFirst()), as: .testUser)
    }

    /// Runs `body` on a thread of its own: the suite blocks for seconds (gcc, 38 sandboxes), and
    /// on a 2-core machine that would starve the async tests sharing the cooperative pool.
    func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { c in
            Thread { c.resume(with: Result { try body() }) }.start()
        }
    }

    struct Report: Sendable {
        var lines: [String] = []
        /// The first surprise, or nil.
        var surprise: String? = nil
        var attempts = 0
        var outsideAlive = false
        var victim: String? = nil
        var deviceMade = false
    }

    @Test func everyEscapeAttemptFails() async throws {
        let report = try await offPool { try Self.attemptAll() }
        for line in report.lines { print("escape: " + line) }
        #expect(report.surprise == nil, "\(report.surprise ?? "")")
        #expect(report.attempts >= 25)
        #expect(report.outsideAlive, "the process outside survived kill(-1) and kill(pid)")
        #expect(report.victim == "untouched\n")
        #expect(!report.deviceMade)
    }

    static func attemptAll() throws -> Report {
        let p = Self.programs
        let user = TestUser.current
        // A process of the same user outside the sandbox: it must survive and stay unreachable.
        let outside = try Running(["/bin/sleep", "600"], runner: .testUser)
        defer { kill(outside.pid, SIGKILL); _ = outside.finish() }
        let host = String(outside.pid)
        let listener = AbstractListener()

        let scratch = userDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let victim = scratch + "/victim"
        writeUserFile(victim, "untouched\n")
        // symlink-dest: a host dir with a secret, a source with a marker; inside, a dir of the same
        // path and a symlink to it as the bind destination: the bind must land in the new root.
        let hostDir = scratch + "/hostdir", source = scratch + "/source"
        makeUserDirs(hostDir)
        makeUserDirs(source)
        writeUserFile(hostDir + "/secret", "host\n")
        writeUserFile(source + "/marker", "bound\n")
        // setuid-nnp: a setuid copy owned by the caller, who is root inside with --map auto.
        let suid = scratch + "/print-euid"
        try FileManager.default.copyItem(atPath: p + "/print-euid", toPath: suid)
        chown(suid, user.uid, user.gid)
        chmod(suid, 0o4755)
        var vfs = statvfs()
        guard statvfs(scratch, &vfs) == 0 && vfs.f_flag & UInt(ST_NOSUID) == 0 else {
            return Report(surprise: "setuid-nnp needs a scratch dir without nosuid, or it proves nothing")
        }
        let roRoot = ["--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev"]
        let emptyRoot = ["--ro-bind", p, "/e"]

        let attempts: [Attempt] = [
            Attempt(name: "tiocsti", wrap: "script -qec \"$RUN\" /dev/null"),
            Attempt(name: "tioclinux", wrap: "script -qec \"$RUN\" /dev/null"),
            Attempt(name: "controlling-tty", wrap: "script -qec \"$RUN\" /dev/null"),
            Attempt(name: "proc1-root"),
            Attempt(name: "host-proc-root", args: [host]),
            Attempt(name: "setns-host", args: [host]),
            Attempt(name: "mount-over-ro", flags: roRoot),
            Attempt(name: "remount-rw", flags: roRoot),
            Attempt(name: "mount-setattr-rw", flags: roRoot),
            Attempt(name: "fsopen"),
            Attempt(name: "write-ro-bind", flags: roRoot, args: [victim]),
            Attempt(name: "uid-map"),
            Attempt(name: "ptrace-reaper"),
            // $$ is the shell that execs rsandbox: the supervisor's own pid.
            Attempt(name: "ptrace-supervisor", wrap: "exec $RUN $$"),
            Attempt(name: "kill-all"),
            Attempt(name: "kill-host", args: [host]),
            Attempt(name: "keyctl"),
            Attempt(name: "add-key"),
            Attempt(name: "compat-keyctl"),
            Attempt(name: "x32-abi"),
            Attempt(name: "bpf"),
            Attempt(name: "perf-event-open"),
            Attempt(name: "userfaultfd"),
            Attempt(name: "shocker"),
            Attempt(name: "abstract-socket", args: [listener.name, "ECONNREFUSED"]), // run's default: --net none
            Attempt(name: "symlink-dest", flags: emptyRoot + ["--dir", hostDir, "--symlink", hostDir, "/link", "--bind", source, "/link"],
                    args: [hostDir], path: "/e/symlink-dest"),
            Attempt(name: "mknod", args: [scratch]),
            Attempt(name: "fchdir-fd", flags: emptyRoot, path: "/e/fchdir-fd", wrap: "exec 7</; $RUN"),
            Attempt(name: "chroot"),
            Attempt(name: "setuid-nnp", flags: ["--map", "auto", "--uid", "1000", "--gid", "1000"], args: [suid]),
            Attempt(name: "proc-sys-write", flags: ["--uid", "0", "--unshare-net", "--cap-add", "NET_ADMIN"]),
            Attempt(name: "proc-readonly"),
            Attempt(name: "proc-masked"),
            Attempt(name: "module"),
            Attempt(name: "clock"),
            Attempt(name: "reboot"),
            Attempt(name: "unshare-userns"),
            Attempt(name: "clone3-userns"),
            Attempt(name: "capabilities", flags: ["--uid", "0"]),
        ]
        var report = Report()
        report.attempts = attempts.count
        for a in attempts {
            let r = try run(a)
            let out = r.stdout.replacingOccurrences(of: "\r", with: "")
            let line = out.split(separator: "\n").first { $0.hasPrefix(a.name + ": ") }.map(String.init)
            report.lines.append(line ?? "\(a.name): no report (exit \(r.code)) \(r.stderr)")
            guard r.code == 0, line != nil else {
                report.surprise = "escape attempt \(a.name): \(line ?? "no report"); exit \(r.code); \(r.stderr)"
                break
            }
        }
        report.outsideAlive = kill(outside.pid, 0) == 0
        report.victim = try? String(contentsOfFile: victim, encoding: .utf8)
        report.deviceMade = FileManager.default.fileExists(atPath: scratch + "/mem")
        return report
    }


    /// The control for abstract-socket: the listener is real, and a sandbox sharing the host's
    /// network (asked for: --net host) does reach it (the threat model says so).
    @Test func abstractSocketIsReachableOnlyWithTheHostsNetwork() throws {
        let listener = AbstractListener()
        let r = try Self.run(Attempt(name: "abstract-socket", flags: ["--net", "host"], args: [listener.name, "success"]))
        #expect(r.code == 0, "\(r.stdout) \(r.stderr)")
    }

    /// The suite can fail: with the defaults relaxed, the same programs report the surprise
    /// (and exit 1). Each relaxation is the one its attempt's default stands for.
    @Test(arguments: [
        ("keyctl", ["--seccomp=unconfined"]),
        ("compat-keyctl", ["--seccomp=unconfined"]),
        ("x32-abi", ["--seccomp=unconfined"]),
        ("unshare-userns", ["--nested-userns"]),
        ("clone3-userns", ["--nested-userns"]),
        ("fsopen", ["--nested-userns", "--cap-add", "SYS_ADMIN"]),
        ("proc-masked", ["--nested-userns"]),
        ("capabilities", ["--uid", "0", "--cap-add", "ALL"]),
    ])
    func relaxedDefaultsAreCaught(_ name: String, _ flags: [String]) throws {
        let r = try Self.run(Attempt(name: name, flags: flags))
        #expect(r.code == 1, "\(r.stdout) \(r.stderr)")
        #expect(r.stdout.hasPrefix(name + ": expected "))
        #expect(!r.stdout.contains(", got EPERM"), "\(r.stdout)")
    }
}
