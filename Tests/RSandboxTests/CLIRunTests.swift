import Foundation
import Testing

/// `rsandbox run` end to end, as root and as the unprivileged test user.
@Suite struct CLIRunTests {
    static let runners = Runner.allCases

    func ownUid(_ runner: Runner) -> String {
        runner == .root ? "0" : String(TestUser.current.uid)
    }

    @Test(arguments: runners)
    func insideUidIsTheCallers(_ runner: Runner) throws {
        let r = try rsandbox(["run", "--", "id", "-u"], as: runner)
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.lines == [ownUid(runner)])
    }

    @Test(arguments: runners)
    func uidZeroMapsTheCallerToRoot(_ runner: Runner) throws {
        let r = try rsandbox(["run", "--uid", "0", "--", "sh", "-c", "id -u; id -g; cat /proc/self/uid_map"], as: runner)
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.lines.prefix(2) == ["0", "0"])
        let map = r.lines.dropFirst(2).first?.split(separator: " ").map(String.init)
        #expect(map == ["0", ownUid(runner), "1"])
    }

    @Test(arguments: runners)
    func userNamespaceDiffersFromTheHosts(_ runner: Runner) throws {
        let host = try shell("readlink /proc/self/ns/user", as: runner)
        let inside = try rsandbox(["run", "--", "readlink", "/proc/self/ns/user"], as: runner)
        #expect(inside.code == 0, "\(inside.stderr)")
        #expect(inside.lines.first?.hasPrefix("user:[") == true)
        #expect(inside.lines != host.lines)
    }

    @Test(arguments: runners)
    func commandIsPid2UnderTheReaper(_ runner: Runner) throws {
        let r = try rsandbox(["run", "--", "sh", "-c", "echo $$; tr '\\0' ' ' </proc/1/cmdline"], as: runner)
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.lines.first == "2")
        #expect(r.lines.dropFirst().first?.contains("rsandbox") == true, "pid 1 is the reaper: \(r.stdout)")
    }

    @Test(arguments: runners)
    func asPid1ExecsTheCommandAsPid1(_ runner: Runner) throws {
        let r = try rsandbox(["run", "--as-pid-1", "--", "sh", "-c", "echo $$"], as: runner)
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.lines == ["1"])
    }

    @Test(arguments: runners)
    func onlyStdioReachesTheCommand(_ runner: Runner) throws {
        // fd 7 is open (not close-on-exec) in rsandbox; the sandbox must not see it.
        let r = try shell("exec 7</etc/hostname; exec \"$RSANDBOX\" run -- ls /proc/self/fd", as: runner)
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.lines == ["0", "1", "2", "3"], "3 is ls's own directory fd")
    }

    @Test(arguments: runners)
    func passedFdsReachTheCommand(_ runner: Runner) throws {
        let r = try shell(
            "exec 7</etc/hostname 8</etc/passwd; exec \"$RSANDBOX\" run --pass-fd 7 --pass-fd 8:9 -- sh -c 'ls /proc/self/fd; head -c 5 <&9'",
            as: runner)
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.lines.dropLast() == ["0", "1", "2", "3", "7", "9"])
        #expect(r.lines.last == "root:")
    }

    @Test(arguments: runners)
    func hostnameIsTheOneSet(_ runner: Runner) throws {
        let r = try rsandbox(["run", "--hostname", "sbx-box", "--", "sh", "-c", "hostname; cat /proc/sys/kernel/hostname"], as: runner)
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.lines == ["sbx-box", "sbx-box"])
        var buf = [CChar](repeating: 0, count: 256)
        gethostname(&buf, buf.count)
        #expect(String(cString: buf) != "sbx-box", "the host's hostname is untouched")
    }

    @Test(arguments: runners)
    func newNetNamespaceHasOnlyLoopbackAndItIsUp(_ runner: Runner) throws {
        let r = try rsandbox(["run", "--unshare-net", "--", "sh", "-c", "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; ip -o link show lo"], as: runner)
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.lines.first == "lo")
        #expect(r.lines.count == 2, "only lo: \(r.stdout)")
        #expect(r.lines.last?.contains(",UP") == true || r.lines.last?.contains("<UP") == true, "lo is up: \(r.stdout)")
    }

    @Test(arguments: runners)
    func unshareAllCreatesSevenNewNamespaces(_ runner: Runner) throws {
        let kinds = ["user", "pid", "mnt", "net", "ipc", "uts", "cgroup"]
        let script = kinds.map { "readlink /proc/self/ns/\($0)" }.joined(separator: "; ")
        let host = try shell(script, as: runner)
        let inside = try rsandbox(["run", "--unshare-all", "--", "sh", "-c", script], as: runner)
        #expect(inside.code == 0, "\(inside.stderr)")
        #expect(inside.lines.count == 7)
        for (h, i) in zip(host.lines, inside.lines) {
            #expect(h != i, "\(i) is new")
        }
    }

    @Test(arguments: runners)
    func shareNetKeepsTheHostNetwork(_ runner: Runner) throws {
        let host = try shell("readlink /proc/self/ns/net", as: runner)
        let inside = try rsandbox(["run", "--unshare-all", "--share-net", "--", "readlink", "/proc/self/ns/net"], as: runner)
        #expect(inside.code == 0, "\(inside.stderr)")
        #expect(inside.lines == host.lines)
    }

    @Test(arguments: runners)
    func exitCodeAndSignalAreReported(_ runner: Runner) throws {
        #expect(try rsandbox(["run", "--", "sh", "-c", "exit 7"], as: runner).code == 7)
        #expect(try rsandbox(["run", "--", "sh", "-c", "kill -TERM $$"], as: runner).code == 128 + 15)
        #expect(try rsandbox(["run", "--as-pid-1", "--", "sh", "-c", "exit 3"], as: runner).code == 3)
        #expect(try rsandbox(["run", "--share-pid", "--", "sh", "-c", "kill -KILL $$"], as: runner).code == 128 + 9)
    }

    @Test(arguments: runners)
    func missingCommandExits127(_ runner: Runner) throws {
        let r = try rsandbox(["run", "--", "no-such-command-xyz"], as: runner)
        #expect(r.code == 127)
        #expect(r.stderr.hasPrefix("rsandbox: exec: no-such-command-xyz: command not found in PATH="))
        let abs = try rsandbox(["run", "--", "/no/such/file"], as: runner)
        #expect(abs.code == 127)
        #expect(abs.stderr.hasPrefix("rsandbox: exec: /no/such/file: command not found"))
    }

    @Test(arguments: runners)
    func nonExecutableFileExits126(_ runner: Runner) throws {
        let dir = TestEnvironment.makeSharedDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        FileManager.default.createFile(atPath: dir + "/data", contents: Data("not a program\n".utf8),
                                       attributes: [.posixPermissions: 0o644])
        let r = try rsandbox(["run", "--", dir + "/data"], as: runner)
        #expect(r.code == 126)
        #expect(r.stderr.hasPrefix("rsandbox: exec: \(dir)/data: Permission denied\n"))
        #expect(r.stderr.contains("rsandbox: hint: "))
        // Executable bits but no binary format or #! line.
        FileManager.default.createFile(atPath: dir + "/junk", contents: Data([0x7f, 0x00, 0x01, 0x02]),
                                       attributes: [.posixPermissions: 0o755])
        let junk = try rsandbox(["run", "--", dir + "/junk"], as: runner)
        #expect(junk.code == 126)
        #expect(junk.stderr == "rsandbox: exec: \(dir)/junk: Exec format error\n")
    }

    @Test(arguments: runners)
    func badCwdExits125(_ runner: Runner) throws {
        let r = try rsandbox(["run", "--chdir", "/no/such/dir", "--", "true"], as: runner)
        #expect(r.code == 125)
        #expect(r.stderr == "rsandbox: chdir: cwd \"/no/such/dir\": No such file or directory\n")
        let rel = try rsandbox(["run", "--chdir", "relative", "--", "true"], as: runner)
        #expect(rel.code == 125)
        #expect(rel.stderr == "rsandbox: spec: cwd \"relative\": must be an absolute path\n")
    }

    @Test(arguments: runners)
    func badHostnameExits125(_ runner: Runner) throws {
        let long = String(repeating: "h", count: 65)
        let r = try rsandbox(["run", "--hostname", long, "--", "true"], as: runner)
        #expect(r.code == 125)
        #expect(r.stderr == "rsandbox: spec: hostname \"\(long)\": is 65 bytes long; the kernel takes at most 64\n")
    }

    @Test(arguments: runners)
    func badFlagValuesExit125(_ runner: Runner) throws {
        let t = try rsandbox(["run", "--timeout", "soon", "--", "true"], as: runner)
        #expect(t.code == 125)
        #expect(t.stderr.contains("timeout \"soon\": expected a duration"))
        let e = try rsandbox(["run", "--setenv", "NOEQUALS", "--", "true"], as: runner)
        #expect(e.code == 125)
        #expect(e.stderr.contains("setenv \"NOEQUALS\": expected NAME=VALUE"))
        let u = try rsandbox(["run", "--unsetenv", "A=B", "--", "true"], as: runner)
        #expect(u.code == 125)
        #expect(u.stderr.contains("unsetenv \"A=B\": an environment variable name cannot contain '='"))
        // Closed explicitly: descriptors of concurrent tests may leak into the CLI's process.
        let f = try shell("exec 9>&-; exec \"$RSANDBOX\" run --pass-fd 9 -- true", as: runner)
        #expect(f.code == 125)
        #expect(f.stderr.contains("fd 9->9: fd 9 is not open in this process"))
        let empty = try rsandbox(["run"], as: runner)
        #expect(empty.code == 125)
        #expect(empty.stderr.contains("argv: is empty"))
        let uid = try rsandbox(["run", "--uid", "4242", "--", "true"], as: runner)
        #expect(uid.code == 125)
        #expect(uid.stderr.contains("spec: uid 4242: only your own uid"))
        let flag = try rsandbox(["run", "--no-such-flag", "--", "true"], as: runner)
        #expect(flag.code == 125)
        #expect(flag.stderr.hasPrefix("rsandbox: Error: Unknown option '--no-such-flag'"))
    }

    @Test(arguments: runners)
    func environmentFlagsShapeTheEnvironment(_ runner: Runner) throws {
        let clear = try rsandbox(["run", "--clearenv", "--setenv", "A=1=2", "--", "/usr/bin/env"], as: runner)
        #expect(clear.code == 0, "\(clear.stderr)")
        #expect(clear.lines == ["A=1=2"])
        let unset = try rsandbox(["run", "--unsetenv", "HOME", "--setenv", "LANG=xx", "--", "/usr/bin/env"], as: runner)
        #expect(!unset.lines.contains { $0.hasPrefix("HOME=") })
        #expect(unset.lines.contains("LANG=xx"))
        #expect(unset.lines.contains("PATH=/usr/local/bin:/usr/bin:/bin"))
    }

    @Test(arguments: runners)
    func chdirSetsTheWorkingDirectory(_ runner: Runner) throws {
        let r = try rsandbox(["run", "--chdir", "/usr/share", "--", "pwd"], as: runner)
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.lines == ["/usr/share"])
    }

    @Test(arguments: runners)
    func sigtermToRsandboxReachesTheCommand(_ runner: Runner) throws {
        let dir = TestEnvironment.makeSharedDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = "trap 'echo got-term; exit 42' TERM; touch \(dir)/ready; while :; do sleep 0.05; done"
        let p = try Running([TestEnvironment.binary, "run", "--", "sh", "-c", script], runner: runner)
        #expect(eventually(within: 10) { FileManager.default.fileExists(atPath: dir + "/ready") })
        kill(p.pid, SIGTERM)
        let r = p.finish()
        #expect(r.code == 42, "\(r.stderr)")
        #expect(r.lines == ["got-term"])
    }

    @Test(arguments: runners)
    func sigkillToRsandboxKillsTheWholeSandbox(_ runner: Runner) throws {
        let dir = TestEnvironment.makeSharedDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let token = uniqueToken()
        let script = "sleep \(token) & (sleep \(token); :) & touch \(dir)/ready; wait"
        let p = try Running([TestEnvironment.binary, "run", "--", "sh", "-c", script], runner: runner)
        #expect(eventually(within: 10) { FileManager.default.fileExists(atPath: dir + "/ready") })
        #expect(processes(containing: token).count >= 3, "the sandbox is running")
        kill(p.pid, SIGKILL)
        _ = p.finish()
        #expect(eventually(within: 5) { processes(containing: token).isEmpty },
                "survivors: \(processes(containing: token))")
    }

    @Test func noDieWithParentLetsTheSandboxOutliveRsandbox() throws {
        let dir = TestEnvironment.makeSharedDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let token = uniqueToken()
        let p = try Running([TestEnvironment.binary, "run", "--no-die-with-parent", "--", "sh", "-c",
                             "touch \(dir)/ready; exec sleep \(token)"], runner: .testUser)
        #expect(eventually(within: 10) { FileManager.default.fileExists(atPath: dir + "/ready") })
        kill(p.pid, SIGKILL)
        #expect(eventually(within: 5) {
            // rsandbox is dead: a zombie, or already reaped by Foundation.
            guard let stat = try? String(contentsOfFile: "/proc/\(p.pid)/stat", encoding: .utf8) else { return true }
            return stat.contains(") Z ")
        })
        usleep(200_000)
        let survivors = processes(containing: token)
        #expect(!survivors.isEmpty, "asked not to die with its parent")
        // The survivors hold rsandbox's stdout open: end them before reading it to EOF.
        for pid in survivors { kill(pid, SIGKILL) }
        _ = p.finish()
    }

    @Test(arguments: runners)
    func timeoutKillsACommandThatIgnoresSigtermAndItsChildren(_ runner: Runner) throws {
        let token = uniqueToken()
        let started = Date()
        let r = try rsandbox(["run", "--timeout", "1", "--", "sh", "-c", "trap '' TERM; sleep \(token) & sleep \(token)"], as: runner)
        #expect(r.code == 124)
        #expect(Date().timeIntervalSince(started) < 20)
        #expect(eventually(within: 5) { processes(containing: token).isEmpty },
                "survivors: \(processes(containing: token))")
    }

    @Test(arguments: runners)
    func jsonStatusDescribesTheOutcome(_ runner: Runner) throws {
        let dir = TestEnvironment.makeSharedDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func status(_ name: String) throws -> [String: Any] {
            let data = try #require(FileManager.default.contents(atPath: "\(dir)/\(name)"))
            return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        }
        let ok = try rsandbox(["run", "--json-status", "\(dir)/ok.json", "--", "sh", "-c", "exit 3"], as: runner)
        #expect(ok.code == 3)
        let s = try status("ok.json")
        #expect(s["exit_code"] as? Int == 3)
        #expect(s["command_exit_code"] as? Int == 3)
        #expect(s["timed_out"] as? Bool == false)
        #expect((s["pid"] as? Int ?? 0) > 0)
        #expect(s["wall_seconds"] is Double)
        #expect(s["error"] is NSNull)

        let sig = try rsandbox(["run", "--json-status", "\(dir)/sig.json", "--", "sh", "-c", "kill -USR1 $$"], as: runner)
        #expect(sig.code == 128 + 10)
        #expect(try status("sig.json")["signal"] as? Int == 10)

        let slow = try rsandbox(["run", "--timeout", "300ms", "--json-status", "\(dir)/slow.json", "--", "sleep", "30"], as: runner)
        #expect(slow.code == 124)
        #expect(try status("slow.json")["timed_out"] as? Bool == true)

        let bad = try rsandbox(["run", "--json-status", "\(dir)/bad.json", "--", "no-such-command-xyz"], as: runner)
        #expect(bad.code == 127)
        let e = try #require(try status("bad.json")["error"] as? [String: Any])
        #expect(e["stage"] as? String == "exec")
        #expect(e["errno_name"] as? String == "ENOENT")
        #expect(e["item"] as? String == "no-such-command-xyz")
    }
}
