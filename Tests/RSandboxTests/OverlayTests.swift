import Foundation
import Testing

/// Native overlayfs in the user namespace, as the unprivileged test user.
@Suite struct OverlayTests {
    struct Layers {
        let base: String
        var lower: String { base + "/lower" }
        var upper: String { base + "/upper" }
        var work: String { base + "/work" }

        init() {
            base = userDirectory()
            for d in [lower, upper, work] { makeUserDirs(d) }
            writeUserFile(lower + "/kept", "lower\n")
            writeUserFile(lower + "/doomed", "lower\n")
        }

        func listing(_ dir: String) -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
        }

        func remove() { try? FileManager.default.removeItem(atPath: base) }
    }

    func persistent(_ l: Layers, _ script: String) throws -> CLIResult {
        try rsandbox(["run", "--ro-bind", "/", "/", "--overlay-src", l.lower, "--overlay", l.upper, l.work, "/mnt",
                      "--", "sh", "-c", script], as: .testUser)
    }

    @Test func writesLandInUpperAndLowerIsUnchanged() throws {
        let l = Layers()
        defer { l.remove() }
        let r = try persistent(l, "echo changed > /mnt/kept; echo new > /mnt/added; cat /mnt/kept")
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.lines == ["changed"])
        #expect((try? String(contentsOfFile: l.upper + "/kept", encoding: .utf8)) == "changed\n")
        #expect((try? String(contentsOfFile: l.upper + "/added", encoding: .utf8)) == "new\n")
        #expect((try? String(contentsOfFile: l.lower + "/kept", encoding: .utf8)) == "lower\n")
        #expect(l.listing(l.lower) == ["doomed", "kept"])
    }

    @Test func deletingALowerFileLeavesAWhiteout() throws {
        let l = Layers()
        defer { l.remove() }
        let r = try persistent(l, "rm /mnt/doomed && ls /mnt")
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.lines == ["kept"])
        var st = stat()
        #expect(lstat(l.upper + "/doomed", &st) == 0)
        #expect(st.st_mode & S_IFMT == S_IFCHR && st.st_rdev == 0, "a 0/0 character device is overlayfs's whiteout")
        #expect(FileManager.default.fileExists(atPath: l.lower + "/doomed"))
    }

    @Test func persistentOverlayKeepsChangesForTheNextRun() throws {
        let l = Layers()
        defer { l.remove() }
        #expect(try persistent(l, "echo one > /mnt/state").code == 0)
        let second = try persistent(l, "cat /mnt/state")
        #expect(second.lines == ["one"])
    }

    @Test func temporaryOverlayLeavesNothingBehind() throws {
        let l = Layers()
        defer { l.remove() }
        let before = l.listing(l.base)
        let r = try rsandbox(["run", "--ro-bind", "/", "/", "--overlay-src", l.lower, "--tmp-overlay", "/mnt", "--",
                              "sh", "-c", "echo scratch > /mnt/tmpfile; rm /mnt/doomed; echo x > /mnt/kept; ls /mnt"], as: .testUser)
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.lines == ["kept", "tmpfile"])
        #expect(l.listing(l.lower) == ["doomed", "kept"])
        #expect((try? String(contentsOfFile: l.lower + "/kept", encoding: .utf8)) == "lower\n")
        #expect(l.listing(l.upper).isEmpty && l.listing(l.base) == before)
        let again = try rsandbox(["run", "--ro-bind", "/", "/", "--overlay-src", l.lower, "--tmp-overlay", "/mnt", "--", "ls", "/mnt"], as: .testUser)
        #expect(again.lines == ["doomed", "kept"])
    }

    @Test func twoSandboxesOnOneLowerDoNotSeeEachOthersWrites() throws {
        let l = Layers()
        defer { l.remove() }
        let sync = userDirectory()
        defer { try? FileManager.default.removeItem(atPath: sync) }
        func overlayRun(_ script: String) throws -> Running {
            try Running([TestEnvironment.binary, "run", "--ro-bind", "/", "/", "--bind", sync, sync,
                         "--overlay-src", l.lower, "--tmp-overlay", "/mnt", "--", "sh", "-c", script], runner: .testUser)
        }
        let a = try overlayRun("echo a > /mnt/from-a; touch \(sync)/a-wrote; while [ ! -e \(sync)/b-done ]; do sleep 0.05; done; ls /mnt")
        #expect(eventually(within: 10) { FileManager.default.fileExists(atPath: sync + "/a-wrote") })
        let b = try overlayRun("ls /mnt; echo b > /mnt/from-b; touch \(sync)/b-done")
        let rb = b.finish()
        let ra = a.finish()
        #expect(rb.lines == ["doomed", "kept"], "b does not see a's file: \(rb.stdout)")
        #expect(ra.lines == ["doomed", "from-a", "kept"], "a does not see b's file: \(ra.stdout)")
        #expect(l.listing(l.lower) == ["doomed", "kept"])
    }

    @Test func readOnlyOverlayMergesLayersAndRefusesWrites() throws {
        let l = Layers()
        defer { l.remove() }
        let second = l.base + "/second"
        makeUserDirs(second)
        writeUserFile(second + "/top", "top\n")
        writeUserFile(second + "/kept", "shadowed\n")
        let r = try rsandbox(["run", "--ro-bind", "/", "/", "--overlay-src", l.lower, "--overlay-src", second, "--ro-overlay", "/mnt", "--",
                              "sh", "-c", "ls /mnt; cat /mnt/kept; touch /mnt/new 2>&1; true"], as: .testUser)
        #expect(r.code == 0, "\(r.stderr)")
        #expect(Array(r.lines.prefix(4)) == ["doomed", "kept", "top", "shadowed"], "the later layer is on top")
        #expect(r.lines.last?.contains("Read-only file system") == true)
        let one = try rsandbox(["run", "--ro-bind", "/", "/", "--overlay-src", l.lower, "--ro-overlay", "/mnt", "--", "true"], as: .testUser)
        #expect(one.code == 125)
        #expect(one.stderr.contains("a read-only overlay needs at least two lower directories"))
    }
}
