import Foundation
import Testing

/// The filesystem plan, as the unprivileged test user (and as root where it matters).
@Suite struct FilesystemTests {
    static let runners = Runner.allCases

    @Test(arguments: runners)
    func readOnlyBindIsReadOnlyOnEverySubmount(_ runner: Runner) throws {
        // The host's /dev has submounts (/dev/shm, /dev/pts); a read-only bind covers them too.
        let r = try rsandbox(["run", "--ro-bind", "/", "/", "--ro-bind", "/dev", "/mnt", "--",
                              "sh", "-c", "touch /etc/rsx 2>&1; touch /mnt/shm/rsx 2>&1; grep ' /mnt/shm ' /proc/self/mountinfo"], as: runner)
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.lines.filter { $0.contains("Read-only file system") }.count == 2, "\(r.stdout)")
        let shm = try #require(r.lines.last)
        #expect(shm.contains(" ro,") && shm.contains("nosuid") && shm.contains("nodev"), "\(shm)")
        #expect(!FileManager.default.fileExists(atPath: "/dev/shm/rsx"))
    }

    @Test(arguments: runners)
    func bindIsWritableAndNosuid(_ runner: Runner) throws {
        let dir = userDirectory(runner)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try rsandbox(["run", "--ro-bind", "/", "/", "--bind", dir, "/mnt", "--",
                              "sh", "-c", "echo data > /mnt/written && grep ' /mnt ' /proc/self/mountinfo"], as: runner)
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stdout.contains("nosuid") && r.stdout.contains("nodev"))
        #expect((try? String(contentsOfFile: dir + "/written", encoding: .utf8)) == "data\n")
    }

    @Test(arguments: runners)
    func missingBindSourceIsAnErrorUnlessTry(_ runner: Runner) throws {
        let r = try rsandbox(["run", "--ro-bind", "/", "/", "--bind", "/no/such/src", "/mnt/x", "--", "true"], as: runner)
        #expect(r.code == 125)
        #expect(r.stderr == "rsandbox: mount: bind \"/no/such/src\" -> \"/mnt/x\": source: No such file or directory\n")
        let t = try rsandbox(["run", "--ro-bind", "/", "/", "--bind-try", "/no/such/src", "/mnt/x", "--", "sh", "-c", "test ! -e /mnt/x && echo skipped"], as: runner)
        #expect(t.code == 0, "\(t.stderr)")
        #expect(t.lines == ["skipped"])
    }

    @Test(arguments: runners)
    func tmpfsTakesSizeAndPerms(_ runner: Runner) throws {
        let r = try rsandbox(["run", "--ro-bind", "/", "/", "--size", "1M", "--perms", "0700", "--tmpfs", "/mnt", "--",
                              "sh", "-c", "stat -c %a /mnt; grep ' /mnt ' /proc/self/mountinfo"], as: runner)
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.lines.first == "700")
        #expect(r.lines.last?.contains("size=1024k") == true, "\(r.stdout)")
    }

    @Test(arguments: runners)
    func minimalDevHasOnlyTheHarmlessNodes(_ runner: Runner) throws {
        let r = try rsandbox(["run", "--ro-bind", "/", "/", "--dev", "/dev", "--",
                              "sh", "-c", "ls /dev; echo x > /dev/null && head -c 4 /dev/urandom | wc -c; readlink /dev/ptmx /dev/stdout"], as: runner)
        #expect(r.code == 0, "\(r.stderr)")
        let listing = Array(r.lines.prefix(13))
        #expect(listing == ["fd", "full", "null", "ptmx", "pts", "random", "shm", "stderr", "stdin", "stdout", "tty", "urandom", "zero"])
        #expect(r.lines.suffix(3) == ["4", "pts/ptmx", "/proc/self/fd/1"])
    }

    @Test(arguments: runners)
    func dirSymlinkFileAndChmodSteps(_ runner: Runner) throws {
        let dir = userDirectory(runner)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        writeUserFile(dir + "/content", "file-data\n", runner)
        // Mount points must exist under a read-only root: /mnt does; everything else is made in the tmpfs.
        let script = "exec 3<\(dir)/content; exec \"$RSANDBOX\" run --ro-bind / / --tmpfs /mnt --perms 0750 --dir /mnt/d/e "
            + "--symlink /mnt/d/e /mnt/l --perms 0600 --file 3 /mnt/d/f --chmod 0711 /mnt/d -- "
            + "sh -c 'stat -c \"%a %n\" /mnt/d /mnt/d/e /mnt/d/f; readlink /mnt/l; cat /mnt/d/f'"
        let r = try shell(script, as: runner)
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.lines == ["711 /mnt/d", "750 /mnt/d/e", "600 /mnt/d/f", "/mnt/d/e", "file-data"])
    }

    @Test(arguments: runners)
    func aMountThroughASymlinkCoversWhatLaterStepsSee(_ runner: Runner) throws {
        // /mnt/d/self -> /mnt/d: the tmpfs mounted "at" the link covers /mnt/d itself. The next
        // bind into /mnt/d must land in that tmpfs, not in the directory it covers.
        let dir = userDirectory(runner)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try rsandbox(["run", "--ro-bind", "/", "/", "--tmpfs", "/mnt", "--dir", "/mnt/d", "--bind", dir, "/mnt/d/a",
                              "--symlink", "/mnt/d", "/mnt/d/self", "--tmpfs", "/mnt/d/self", "--bind", dir, "/mnt/d/b",
                              "--chmod", "0700", "/mnt/d", "--", "sh", "-c", "ls /mnt/d; stat -c %a /mnt/d"], as: runner)
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.lines == ["b", "700"])
    }

    @Test(arguments: runners)
    func mqueueNeedsItsOwnIpcNamespace(_ runner: Runner) throws {
        let r = try rsandbox(["run", "--unshare-ipc", "--ro-bind", "/", "/", "--dev", "/dev", "--mqueue", "/dev/mqueue", "--",
                              "sh", "-c", "grep -c ' /dev/mqueue .* - mqueue ' /proc/self/mountinfo"], as: runner)
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.lines == ["1"])
        let shared = try rsandbox(["run", "--ro-bind", "/", "/", "--dev", "/dev", "--mqueue", "/dev/mqueue", "--", "true"], as: runner)
        #expect(shared.code == 125)
        #expect(shared.stderr.hasPrefix("rsandbox: mount: mqueue \"/dev/mqueue\": "))
    }

    @Test(arguments: runners)
    func remountReadOnlyMakesATmpfsReadOnly(_ runner: Runner) throws {
        let r = try rsandbox(["run", "--ro-bind", "/", "/", "--tmpfs", "/mnt", "--remount-ro", "/mnt", "--", "sh", "-c", "touch /mnt/x 2>&1"], as: runner)
        #expect(r.stdout.contains("Read-only file system"))
    }

    @Test(arguments: runners)
    func rootfsBecomesTheRootAndTheHostIsGone(_ runner: Runner) throws {
        let root = try makeBusyboxRootfs(runner)
        defer { try? FileManager.default.removeItem(atPath: (root as NSString).deletingLastPathComponent) }
        let r = try rsandbox(["run", "--rootfs", root, "--", "/bin/sh", "-c",
                              "echo $$; cat /etc/marker; ls /; test -e /oldroot || echo no-oldroot; grep -c . /proc/self/mountinfo; test -e /etc/passwd || echo no-host-passwd"], as: runner)
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.lines.first == "2")
        #expect(r.lines.contains("inside the rootfs"))
        #expect(r.lines.contains("no-oldroot"))
        #expect(r.lines.contains("no-host-passwd"))
        #expect(r.lines.contains("proc"), "a new pid namespace gets its /proc")
    }

    @Test(arguments: runners)
    func bindThroughASymlinkToSlashStaysInsideTheRootfs(_ runner: Runner) throws {
        let root = try makeBusyboxRootfs(runner)
        defer { try? FileManager.default.removeItem(atPath: (root as NSString).deletingLastPathComponent) }
        try FileManager.default.createSymbolicLink(atPath: root + "/evil", withDestinationPath: "/")
        lchown(root + "/evil", runner.ids.uid, runner.ids.gid)
        let src = userDirectory(runner)
        defer { try? FileManager.default.removeItem(atPath: src) }
        writeUserFile(src + "/payload", "payload\n", mode: 0o644, runner)
        let unique = "rsandbox-escape-\(uniqueToken())"
        let r = try rsandbox(["run", "--rootfs", root, "--bind", src, "/evil/tmp/\(unique)/x", "--",
                              "/bin/cat", "/tmp/\(unique)/x/payload"], as: runner)
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.lines == ["payload"])
        #expect(FileManager.default.fileExists(atPath: "\(root)/tmp/\(unique)/x"), "the mount point was made in the rootfs")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/\(unique)"), "the host is untouched")
    }

    @Test(arguments: runners)
    func destinationsWithDotDotAreRefused(_ runner: Runner) throws {
        let r = try rsandbox(["run", "--ro-bind", "/", "/", "--tmpfs", "/a/../etc", "--", "true"], as: runner)
        #expect(r.code == 125)
        #expect(r.stderr.contains("destination \"/a/../etc\" cannot contain . or .. components"))
    }

    @Test(arguments: runners)
    func missingRootfsNamesIt(_ runner: Runner) throws {
        let r = try rsandbox(["run", "--rootfs", "/no/such/root", "--", "/bin/sh"], as: runner)
        #expect(r.code == 125)
        #expect(r.stderr.hasPrefix("rsandbox: new-root: rootfs \"/no/such/root\": No such file or directory"))
    }

    @Test func runPutsTheCommandInASessionWithoutTheCallersTerminal() throws {
        // `script` gives rsandbox a terminal; inside, there must be no controlling terminal to
        // open or to push input into (TIOCSTI).
        let dir = userDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        writeUserFile(dir + "/probe.py", """
            import fcntl, termios
            try:
                fcntl.ioctl(0, termios.TIOCSTI, b"x")
                print("injected")
            except OSError as e:
                print("tiocsti", e.errno)
            """)
        let r = try shell("script -qec \"$RSANDBOX run -- sh -c '(exec 3</dev/tty) 2>/dev/null && echo has-tty || echo no-tty; python3 \(dir)/probe.py'\" /dev/null", as: .testUser)
        #expect(r.code == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("no-tty"), "\(r.stdout)")
        #expect(!r.stdout.contains("injected"), "\(r.stdout)")
        #expect(r.stdout.contains("tiocsti 1") || r.stdout.contains("tiocsti 5"), "EPERM or EIO: \(r.stdout)")
    }
}
