import Foundation
import Testing

/// rsandbox-idmap's every refusal (shared/HELPER-SECURITY.md), run as the unprivileged test user
/// against real processes. Fixture files go over /etc/subuid only inside a private mount namespace.
@Suite struct IDMapHelperTests {
    let user = TestUser.current
    var start: UInt32 { 2_000_000 } // scripts/setup-test-user's range, 65536 long

    /// A process of the test user's, by default in a new user namespace (no maps yet). Every
    /// command here execs its way to `sleep`, so the pid we start is the target's.
    final class Target {
        let process: Running
        var pid: Int32 { process.pid }

        init(_ argv: [String] = ["/usr/bin/unshare", "-U", "sleep", "60"]) throws {
            process = try Running(argv, runner: .testUser)
            let pid = process.pid
            _ = eventually(within: 5) {
                (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) == "sleep\n"
            }
        }

        /// The whole file: procfs reports size 0, so read to the end rather than by size.
        func file(_ name: String) -> String {
            guard let h = FileHandle(forReadingAtPath: "/proc/\(pid)/\(name)") else { return "" }
            defer { try? h.close() }
            return String(decoding: (try? h.readToEnd()) ?? Data(), as: UTF8.self)
        }

        deinit {
            kill(process.pid, SIGKILL)
            _ = process.finish()
        }
    }

    func helper(_ args: [String], shellPrefix: String = "") throws -> CLIResult {
        if shellPrefix.isEmpty {
            return try Running([TestEnvironment.helper] + args, runner: .testUser).finish()
        }
        let quoted = args.map { "'\($0)'" }.joined(separator: " ")
        return try shell("\(shellPrefix) \(TestEnvironment.helper) \(quoted)", as: .testUser)
    }

    func mapLine(_ text: String) -> [[String]] {
        text.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
    }

    @Test func writesRangesTheCallerOwns() throws {
        let t = try Target()
        let u = try helper(["uid", "\(t.pid)", "0", "\(user.uid)", "1", "1", "\(start)", "65536"])
        #expect(u.code == 0, "\(u.stderr)")
        let g = try helper(["gid", "\(t.pid)", "0", "\(user.gid)", "1", "1", "\(start)", "1000"])
        #expect(g.code == 0, "\(g.stderr)")
        #expect(mapLine(t.file("uid_map")) == [["0", "\(user.uid)", "1"], ["1", "\(start)", "65536"]])
        #expect(mapLine(t.file("gid_map")) == [["0", "\(user.gid)", "1"], ["1", "\(start)", "1000"]])
        #expect(t.file("setgroups") == "allow\n", "with a subordinate gid range setgroups stays usable")
        let again = try helper(["uid", "\(t.pid)", "0", "\(user.uid)", "1"])
        #expect(again.code == 1 && again.stderr.contains("cannot write uid_map"), "a map is written once")
    }

    @Test func ownGidOnlyDeniesSetgroupsFirst() throws {
        let t = try Target()
        #expect(try helper(["uid", "\(t.pid)", "0", "\(user.uid)", "1"]).code == 0)
        let g = try helper(["gid", "\(t.pid)", "0", "\(user.gid)", "1"])
        #expect(g.code == 0, "\(g.stderr)")
        #expect(t.file("setgroups") == "deny\n")
    }

    @Test func refusesAnotherUsersProcess() throws {
        let r = try helper(["uid", "1", "0", "\(user.uid)", "1"])
        #expect(r.code == 1)
        #expect(r.stderr == "rsandbox-idmap: process 1 is not yours\n")
    }

    @Test func refusesTheCallersOwnNamespace() throws {
        let t = try Target(["/bin/sleep", "60"])
        let r = try helper(["uid", "\(t.pid)", "0", "\(user.uid)", "1"])
        #expect(r.stderr == "rsandbox-idmap: process \(t.pid) is in your own user namespace, not a new one\n")
    }

    @Test func refusesANestedNamespace() throws {
        let t = try Target(["/usr/bin/unshare", "-Ur", "unshare", "-U", "sleep", "60"])
        let r = try helper(["uid", "\(t.pid)", "0", "\(user.uid)", "1"])
        #expect(r.code == 1)
        #expect(r.stderr.contains("not a child of yours") || r.stderr.contains("not owned by you"), "\(r.stderr)")
    }

    @Test func refusesANonDumpableProcess() throws {
        let t = try Target(["/usr/bin/unshare", "-U", "python3", "-c",
                                "import ctypes, time\nopen('/proc/self/comm', 'w').write('sleep')\nctypes.CDLL(None).prctl(4, 0, 0, 0, 0)\ntime.sleep(60)"])
        let r = try helper(["uid", "\(t.pid)", "0", "\(user.uid)", "1"])
        // Refused by our ownership check or, when procfs still shows the caller as owner, by
        // the kernel when the helper opens uid_map: either way nothing is written.
        #expect(r.code == 1)
        #expect(r.stderr.contains("is not yours") || r.stderr.contains("cannot open uid_map of the target: Permission denied"), "\(r.stderr)")
        #expect(t.file("uid_map").isEmpty)
    }

    @Test func refusesAProcessThatIsGone() throws {
        var pid: Int32 = 0
        do {
            let t = try Target()
            pid = t.pid
        }
        _ = eventually(within: 5) { !FileManager.default.fileExists(atPath: "/proc/\(pid)") }
        let r = try helper(["uid", "\(pid)", "0", "\(user.uid)", "1"])
        #expect(r.code == 1)
        #expect(r.stderr.hasPrefix("rsandbox-idmap: process \(pid): "))
    }

    @Test func refusesAFakeProc() throws {
        // Root makes a private mount namespace with a tmpfs over /proc holding a fake process
        // directory and a uid_map symlink, then runs the helper as the test user in it.
        let script = "mount -t tmpfs none /proc && mkdir /proc/4242 && ln -s /tmp/victim /proc/4242/uid_map && "
            + "chown -R \(user.uid):\(user.gid) /proc/4242 && "
            + TestEnvironment.prefix(.testUser).joined(separator: " ") + " \(TestEnvironment.helper) uid 4242 0 \(user.uid) 1"
        let r = try Running(["/usr/bin/unshare", "-m", "/bin/sh", "-c", script], runner: .root).finish()
        #expect(r.code == 1)
        #expect(r.stderr == "rsandbox-idmap: /proc/4242 is not on procfs\n")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/victim"))
    }

    static let badNumbers: [String] = ["", " 1", "1 ", "+1", "-1", "0x10", "01", "1a", "4294967296", "99999999999", "١"]

    @Test(arguments: badNumbers)
    func refusesMalformedNumbers(_ bad: String) throws {
        let t = try Target()
        for args in [["uid", "\(t.pid)", bad, "\(user.uid)", "1"], ["uid", "\(t.pid)", "0", bad, "1"], ["uid", "\(t.pid)", "0", "\(user.uid)", bad]] {
            let r = try helper(args)
            #expect(r.code == 1, "\(args)")
            #expect(r.stderr.contains("ids and counts are decimal numbers below 2^32"), "\(args): \(r.stderr)")
        }
        let p = try helper(["uid", bad, "0", "\(user.uid)", "1"])
        #expect(p.code == 1 && p.stderr.contains("is not a process id"), "\(bad): \(p.stderr)")
        #expect(t.file("uid_map").isEmpty, "nothing written")
    }

    @Test func refusesBadUsage() throws {
        for args in [[], ["uid"], ["uid", "1"], ["uid", "1", "0", "1"], ["pid", "1", "0", "1", "1"], ["uid", "1", "0", "1", "1", "2"]] {
            let r = try helper(args)
            #expect(r.code == 2, "\(args)")
            #expect(r.stderr.hasPrefix("usage: rsandbox-idmap"))
        }
        #expect(try helper(["uid", "0", "0", "\(user.uid)", "1"]).stderr.contains("pid \"0\" is not a process id"))
    }

    @Test func refusesBadRanges() throws {
        let t = try Target()
        let cases: [([String], String)] = [
            (["0", "\(user.uid)", "0"], "line 1: count must be at least 1"),
            (["4294967295", "\(start)", "1"], "line 1: the range passes the largest id, 4294967294"),
            (["4294967290", "\(start)", "10"], "line 1: the range passes the largest id, 4294967294"),
            (["0", "\(user.uid)", "1", "0", "\(start)", "1"], "line 2: inside ids overlap line 1"),
            (["0", "\(start)", "10", "20", "\(start + 5)", "10"], "line 2: outside ids overlap line 1"),
            (["0", "0", "1"], "line 1: outside uid 0 (host root) is never mapped"),
            (["0", "\(start)", "65537"], "line 1: outside uids \(start)-\(start + 65536) are not yours (see /etc/subuid)"),
            (["0", "100000", "10"], "line 1: outside uids 100000-100009 are not yours (see /etc/subuid)"),
            (["0", "\(user.uid)", "2"], "line 1: outside uids \(user.uid)-\(user.uid + 1) are not yours (see /etc/subuid)"),
        ]
        for (lines, message) in cases {
            let r = try helper(["uid", "\(t.pid)"] + lines)
            #expect(r.code == 1, "\(lines)")
            #expect(r.stderr == "rsandbox-idmap: \(message)\n", "\(lines)")
        }
        var many: [String] = []
        for i in 0..<341 { many += ["\(i)", "\(start + UInt32(i))", "1"] }
        #expect(try helper(["uid", "\(t.pid)"] + many).stderr == "rsandbox-idmap: 341 map lines; the kernel takes at most 340\n")
        // 340 lines of these ids take more than a page, which the kernel refuses: so does the helper.
        let long = Array(many.prefix(340 * 3))
        #expect(try helper(["uid", "\(t.pid)"] + long).stderr == "rsandbox-idmap: the map does not fit in one page\n")
        #expect(t.file("uid_map").isEmpty)
        let fits = Array(many.prefix(280 * 3))
        let r = try helper(["uid", "\(t.pid)"] + fits)
        #expect(r.code == 0, "280 lines fit a page: \(r.stderr)")
        #expect(t.file("uid_map").split(separator: "\n").count == 280)
    }

    /// Runs the helper with `fixture` bound over /etc/subuid in a private mount namespace.
    func withSubuid(_ fixture: String, mode: mode_t, owner: uid_t = 0, _ args: (Int32) -> [String]) throws -> CLIResult {
        let t = try Target()
        let dir = userDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/subuid"
        FileManager.default.createFile(atPath: file, contents: Data(fixture.utf8))
        chmod(file, mode)
        chown(file, owner, 0)
        let quoted = args(t.pid).map { "'\($0)'" }.joined(separator: " ")
        let script = "mount --bind \(file) /etc/subuid && " + TestEnvironment.prefix(.testUser).joined(separator: " ")
            + " \(TestEnvironment.helper) \(quoted)"
        return try Running(["/usr/bin/unshare", "-m", "/bin/sh", "-c", script], runner: .root).finish()
    }

    @Test func refusesAWritableOrForeignSubuidFile() throws {
        let line = "\(user.name):\(start):65536\n"
        let args = { (pid: Int32) in ["uid", "\(pid)", "1", "\(self.start)", "10"] }
        let writable = try withSubuid(line, mode: 0o666, args)
        #expect(writable.stderr == "rsandbox-idmap: /etc/subuid must be a regular file owned by root and writable only by it\n")
        let foreign = try withSubuid(line, mode: 0o644, owner: user.uid, args)
        #expect(foreign.code == 1 && foreign.stderr.contains("must be a regular file owned by root"))
        let fine = try withSubuid(line, mode: 0o644, args)
        #expect(fine.code == 0, "\(fine.stderr)")
    }

    @Test func skipsHostileSubuidLines() throws {
        // The last one: a line too long for any real entry, whose tail looks like an entry.
        let hostile = "\(user.name):0:0\n\(user.name):0:100\n\(user.name):4294967290:100\n\(user.name):100:0\n"
            + "\(user.name)::\n\(user.name):5:5:5\n \(user.name):300:10\n"
            + String(repeating: "x", count: 600) + "\n" + String(repeating: "y", count: 511) + "\(user.name):400:10\n"
        for (lines, desc) in [(["1", "100", "1"], "count 0 once matched every id"), (["1", "1", "1"], "start 0"),
                              (["1", "4294967290", "1"], "past 2^32"), (["1", "300", "1"], "name with a space"),
                              (["1", "400", "1"], "the tail of an overlong line")] {
            let r = try withSubuid(hostile, mode: 0o644) { pid in ["uid", "\(pid)"] + lines }
            #expect(r.code == 1, "\(desc)")
            #expect(r.stderr.contains("are not yours"), "\(desc): \(r.stderr)")
        }
    }

    @Test func matchesByNameOrDecimalUidAndJoinsAdjacentEntries() throws {
        let fixture = "\(user.uid):5000000:100\nsomeone:5000100:100\n\(user.name):6000000:100\n\(user.uid):6000100:50\n"
        let byUid = try withSubuid(fixture, mode: 0o644) { pid in ["uid", "\(pid)", "1", "5000000", "100"] }
        #expect(byUid.code == 0, "\(byUid.stderr)")
        let joined = try withSubuid(fixture, mode: 0o644) { pid in ["uid", "\(pid)", "1", "6000050", "100"] }
        #expect(joined.code == 0, "two touching entries of one caller: \(joined.stderr)")
        let other = try withSubuid(fixture, mode: 0o644) { pid in ["uid", "\(pid)", "1", "5000100", "1"] }
        #expect(other.stderr.contains("are not yours"), "someone else's entry")
    }

    @Test func survivesClosedStdioPreloadAndFewDescriptors() throws {
        let t = try Target()
        // fds 0-2 closed: nothing it opens may land on them; the map is still written.
        let closed = try helper(["uid", "\(t.pid)", "0", "\(user.uid)", "1"], shellPrefix: "exec 0<&- 1>&- 2>&-;")
        #expect(closed.code == 0)
        #expect(mapLine(t.file("uid_map")) == [["0", "\(user.uid)", "1"]])
        // LD_PRELOAD is ignored for a binary with file capabilities (secure mode).
        let t2 = try Target()
        let preload = try helper(["uid", "\(t2.pid)", "0", "\(user.uid)", "1"], shellPrefix: "LD_PRELOAD=/tmp/no-such-evil.so")
        #expect(preload.code == 0, "\(preload.stderr)")
        #expect(!preload.stderr.contains("evil"))
        // RLIMIT_NOFILE=3: the dynamic loader cannot even open libc; =4: the helper runs out of
        // descriptors and says so. Neither writes anything.
        let t3 = try Target()
        let three = try helper(["uid", "\(t3.pid)", "0", "\(user.uid)", "1"], shellPrefix: "ulimit -n 3;")
        #expect(three.code != 0)
        let four = try helper(["uid", "\(t3.pid)", "0", "\(user.uid)", "1"], shellPrefix: "ulimit -n 4;")
        #expect(four.code == 1, "\(four.stderr)")
        #expect(four.stderr.hasPrefix("rsandbox-idmap: ") && four.stderr.contains("Too many open files"), "\(four.stderr)")
        #expect(t3.file("uid_map").isEmpty)
    }
}

extension IDMapHelperTests {
    /// [1] The target is pinned by a directory fd: if it is reaped while the helper runs and its
    /// pid goes to a new process (of the same user, in a fresh user namespace), the helper fails
    /// with ESRCH and the newcomer gets no map. Root slows the helper down with strace (a delay on
    /// its ioctls, after /proc/PID is open) and steers the pid with ns_last_pid.
    @Test func aReusedPidIsNotMapped() throws {
        var first: Target? = try Target()
        let pid = first!.pid
        let slow = try Running(["/usr/bin/strace", "-f", "-qq", "-o", "/dev/null", "-u", user.name,
                                "-e", "trace=ioctl", "-e", "inject=ioctl:delay_enter=1500000",
                                TestEnvironment.helper, "uid", "\(pid)", "0", "\(user.uid)", "1"], runner: .root)
        usleep(500_000)
        first = nil // killed and reaped
        var second: Target? = nil
        for _ in 0..<50 {
            try? "\(pid - 1)".write(toFile: "/proc/sys/kernel/ns_last_pid", atomically: false, encoding: .utf8)
            let t = try Target()
            if t.pid == pid { second = t; break }
        }
        let r = slow.finish()
        let newcomer = try #require(second, "could not get pid \(pid) again (a busy machine); the race is unproven this run")
        #expect(r.code == 1)
        #expect(r.stderr == "rsandbox-idmap: cannot open uid_map of the target: No such process\n", "\(r.stderr)")
        #expect(newcomer.file("uid_map").isEmpty, "the process that got the pid was not mapped")
    }
}

extension IDMapHelperTests {
    /// [8] An all-digit user name: entries match its name or its own decimal uid, never the
    /// entry of a user whose uid happens to equal the name.
    @Test func allDigitUserNamesMatchByNameOrOwnUid() throws {
        guard let pw = getpwnam("424242") else {
            Issue.record("scripts/setup-test-user creates the all-digit user 424242")
            return
        }
        let uid = pw.pointee.pw_uid
        let dir = userDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // 424242:… is its entry by name; \(uid):… by uid; "2742:…" is the test user's uid, not its name.
        let fixture = "424242:5000000:10\n\(uid):6000000:10\n2742:7000000:10\n"
        FileManager.default.createFile(atPath: dir + "/subuid", contents: Data(fixture.utf8))
        chmod(dir + "/subuid", 0o644)
        chown(dir + "/subuid", 0, 0)
        let asUser = "setpriv --reuid=\(uid) --regid=\(pw.pointee.pw_gid) --clear-groups --"
        func attempt(_ outside: String) throws -> CLIResult {
            let script = "mount --bind \(dir)/subuid /etc/subuid && (\(asUser) unshare -U sleep 30 & ) && sleep 0.3 && "
                + "P=$(pgrep -u \(uid) -n sleep) && \(asUser) \(TestEnvironment.helper) uid $P 1 \(outside) 10; rc=$?; pkill -u \(uid) sleep; exit $rc"
            return try Running(["/usr/bin/unshare", "-m", "/bin/sh", "-c", script], runner: .root).finish()
        }
        #expect(try attempt("5000000").code == 0, "by name")
        #expect(try attempt("6000000").code == 0, "by its own uid")
        let other = try attempt("7000000")
        #expect(other.code == 1 && other.stderr.contains("are not yours"), "another user's uid entry: \(other.stderr)")
    }
}
