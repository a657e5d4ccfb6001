import Foundation
import Testing
@testable import RSandbox

/// `--map auto` and explicit range maps through the CLI, as the unprivileged test user.
@Suite struct RangeMapTests {
    let user = TestUser.current
    let start: UInt32 = 2_000_000

    @Test func autoMapsTheCallerToRootAndTheRangeAbove() throws {
        let dir = userDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = "cat /proc/self/uid_map /proc/self/gid_map; id -u; touch /mnt/f && chown 100:100 /mnt/f && stat -c '%u %g' /mnt/f; "
            + "setpriv --reuid 100 --regid 100 --clear-groups id -u"
        // Root inside holds no capabilities unless asked (docs/security.md): chown and setpriv need these.
        let r = try rsandbox(["run", "--map", "auto", "--cap-add", "CHOWN,SETUID,SETGID", "--ro-bind", "/", "/", "--bind", dir, "/mnt",
                              "--", "sh", "-c", script], as: .testUser)
        #expect(r.code == 0, "\(r.stderr)")
        let lines = r.lines.map { $0.split(separator: " ").map(String.init) }
        #expect(Array(lines.prefix(4)) == [["0", "\(user.uid)", "1"], ["1", "\(start)", "65536"],
                                            ["0", "\(user.gid)", "1"], ["1", "\(start)", "65536"]])
        #expect(Array(r.lines.suffix(3)) == ["0", "100 100", "100"])
        var st = stat()
        #expect(stat(dir + "/f", &st) == 0)
        #expect(st.st_uid == start + 99 && st.st_gid == start + 99, "outside, the file belongs to the mapped subordinate id")
    }

    @Test func aTreeOwnedBySeveralUidsIsUsable() throws {
        // A debootstrap-style tree: files of root and of a service user, extracted with their owners.
        let dir = userDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let rc = system("cd \(dir) && mkdir -p t/etc t/var/lib/svc && echo r > t/etc/conf && echo s > t/var/lib/svc/data && "
            + "tar --numeric-owner --owner=0 --group=0 -cf root.tar -C t etc && tar --numeric-owner --owner=101 --group=102 -cf svc.tar -C t var && "
            + "chmod 644 *.tar && chown \(user.uid) root.tar svc.tar")
        try #require(rc == 0)
        let script = "cd /mnt && tar --same-owner -xf \(dir)/root.tar && tar --same-owner -xf \(dir)/svc.tar && stat -c '%u:%g %n' etc/conf var/lib/svc/data"
        // tar --same-owner chowns, and writes into directories it already gave to another owner.
        let r = try rsandbox(["run", "--map", "auto", "--cap-add", "CHOWN,DAC_OVERRIDE,FOWNER", "--ro-bind", "/", "/", "--tmpfs", "/mnt",
                              "--", "sh", "-c", script], as: .testUser)
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.lines == ["0:0 etc/conf", "101:102 var/lib/svc/data"])
    }

    @Test func autoCanStartAsAnotherMappedUser() throws {
        let r = try rsandbox(["run", "--map", "auto", "--uid", "1000", "--gid", "1000", "--", "sh", "-c", "id -u; id -g"], as: .testUser)
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.lines == ["1000", "1000"])
        let unmapped = try rsandbox(["run", "--map", "auto", "--uid", "70000", "--", "true"], as: .testUser)
        #expect(unmapped.code == 125)
        #expect(unmapped.stderr.contains("spec: uid 70000: is not mapped by the uid map"))
    }

    @Test func explicitMapsAreCheckedWithTheHelpersWords() throws {
        let ok = try rsandbox(["run", "--uid-map", "0:\(user.uid):1", "--uid-map", "1000:\(start + 1000):10",
                               "--gid-map", "0:\(user.gid):1", "--", "cat", "/proc/self/uid_map"], as: .testUser)
        #expect(ok.code == 0, "\(ok.stderr)")
        #expect(ok.lines.count == 2)
        let foreign = try rsandbox(["run", "--uid-map", "0:3000000:5", "--gid-map", "0:\(user.gid):1", "--", "true"], as: .testUser)
        #expect(foreign.code == 125)
        #expect(foreign.stderr.hasPrefix("rsandbox: spec: uid-map: line 1: outside uids 3000000-3000004 are not yours (see /etc/subuid)"))
        let root = try rsandbox(["run", "--uid-map", "0:0:1", "--gid-map", "0:\(user.gid):1", "--", "true"], as: .testUser)
        #expect(root.stderr.contains("line 1: outside uid 0 (host root) is never mapped"))
        let half = try rsandbox(["run", "--uid-map", "0:\(user.uid):1", "--", "true"], as: .testUser)
        #expect(half.stderr.contains("give both --uid-map and --gid-map"))
        let bad = try rsandbox(["run", "--uid-map", "0:x:1", "--gid-map", "0:1:1", "--", "true"], as: .testUser)
        #expect(bad.stderr.contains("uid-map \"0:x:1\": expected INSIDE:OUTSIDE:COUNT (decimal)"))
    }

    @Test func ownGidOnlyLeavesSetgroupsDeniedInside() throws {
        // A uid range with only your own gid: the helper denies setgroups (CVE-2018-7169), so
        // nothing inside can drop a group that restricts you outside.
        let r = try rsandbox(["run", "--uid-map", "0:\(user.uid):1", "--uid-map", "1:\(start):10", "--gid-map", "0:\(user.gid):1", "--",
                              "sh", "-c", "cat /proc/self/setgroups; python3 -c 'import os\ntry:\n os.setgroups([])\n print(\"dropped\")\nexcept OSError as e: print(\"setgroups\", e.errno)'"],
                             as: .testUser)
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.lines == ["deny", "setgroups 1"])
        let auto = try rsandbox(["run", "--map", "auto", "--", "cat", "/proc/self/setgroups"], as: .testUser)
        #expect(auto.lines == ["allow"], "with a gid range, setgroups stays usable")
    }

    @Test func installHelpersSetsTheFileCapabilities() throws {
        let dir = TestEnvironment.makeSharedDirectory() + "/libexec"
        defer { try? FileManager.default.removeItem(atPath: (dir as NSString).deletingLastPathComponent) }
        let r = try Running([TestEnvironment.packageRoot.appendingPathComponent("scripts/install-helpers").path, dir], runner: .root).finish()
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\(dir)/rsandbox-idmap cap_setgid,cap_setuid=ep"), "\(r.stdout)")
        let caps = try #require(HostProbe.fileCapabilities(dir + "/rsandbox-idmap"))
        #expect(caps.permitted == (1 << 6) | (1 << 7) && caps.effective, "only cap_setuid and cap_setgid, never cap_setfcap")
        var st = stat()
        #expect(stat(dir + "/rsandbox-idmap", &st) == 0 && st.st_mode & S_ISUID == 0, "never setuid")
    }

    @Test func aMissingHelperIsAnErrorNotAFallback() throws {
        let r = try Running([TestEnvironment.binary, "run", "--map", "auto", "--", "true"], runner: .testUser,
                            extraEnv: ["RSANDBOX_IDMAP": "/no/such/rsandbox-idmap"]).finish()
        #expect(r.code == 125)
        #expect(r.stderr.hasPrefix("rsandbox: idmap: uid_map of pid "), "\(r.stderr)")
        #expect(r.stderr.contains("running /no/such/rsandbox-idmap"))
    }

    @Test func aHelperWithoutItsCapabilitiesIsReported() throws {
        // A copy without file capabilities: the helper says so, doctor says so.
        let dir = userDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try #require(system("install -m 755 \(TestEnvironment.binary) \(TestEnvironment.helper) \(dir)/") == 0)
        let run = try rsandbox(["run", "--map", "auto", "--", "true"], as: .testUser)
        #expect(run.code == 0, "the installed one works: \(run.stderr)")
        let r = try Running(["\(dir)/rsandbox", "run", "--map", "auto", "--", "true"], runner: .testUser).finish()
        #expect(r.code == 125)
        #expect(r.stderr.contains("cannot hold cap_setuid"), "\(r.stderr)")
        let doctor = try Running(["\(dir)/rsandbox", "doctor"], runner: .testUser).finish()
        #expect(doctor.stdout.contains("✗ rsandbox-idmap: \(dir)/rsandbox-idmap lacks its file capabilities"), "\(doctor.stdout)")
        let good = try rsandbox(["doctor"], as: .testUser)
        #expect(good.stdout.contains("✓ rsandbox-idmap: "))
    }

    @Test func noRangeMeansAClearRefusal() throws {
        let spec = SandboxSpec(argv: ["true"], idMapping: .auto)
        do {
            try spec.validate(caller: Caller(uid: 4242, gid: 4242), subordinateIDs: SubordinateIDs(uids: [], gids: []))
            Issue.record("should refuse")
        } catch {
            #expect(error.item == "map auto")
            #expect(error.reason == "no range for uid 4242 in /etc/subuid")
        }
    }

    @Test func autoMapAndChecksAreTheHelpersRules() throws {
        let ranges = [IDMap(inside: 0, outside: 100000, count: 65536), IDMap(inside: 0, outside: 300000, count: 10)]
        #expect(SubordinateIDs.autoMap(own: 1000, ranges: ranges)
                == [IDMap(inside: 0, outside: 1000), IDMap(inside: 1, outside: 100000, count: 65536), IDMap(inside: 65537, outside: 300000, count: 10)])
        func refusal(_ lines: [IDMap], root: Bool = false) -> String? {
            do { try SubordinateIDs.check(lines, kind: .uid, own: 1000, entries: ranges, root: root); return nil }
            catch { return error.reason }
        }
        #expect(refusal([IDMap(inside: 0, outside: 1000)]) == nil)
        #expect(refusal([IDMap(inside: 0, outside: 100000, count: 65536)]) == nil)
        #expect(refusal([IDMap(inside: 0, outside: 165535, count: 2)]) == "line 1: outside uids 165535-165536 are not yours (see /etc/subuid)")
        #expect(refusal([IDMap(inside: 0, outside: 1000, count: 2)]) == "line 1: outside uids 1000-1001 are not yours (see /etc/subuid)")
        #expect(refusal([IDMap(inside: 0, outside: 0)]) == "line 1: outside uid 0 (host root) is never mapped")
        #expect(refusal([IDMap(inside: 0, outside: 0)], root: true) == nil, "root writes maps itself")
        #expect(refusal([IDMap(inside: 0, outside: 1000), IDMap(inside: 0, outside: 100000)]) == "line 2: inside ids overlap line 1")
        #expect(refusal([IDMap(inside: 4294967295, outside: 100000)]) == "line 1: the range passes the largest id, 4294967294")
        #expect(refusal([IDMap(inside: 0, outside: 100000, count: 0)]) == "line 1: count must be at least 1")
    }
}

extension RangeMapTests {
    @Test func rootMapShowsTheCallerAsZero() throws {
        let r = try rsandbox(["run", "--map", "root", "--", "sh", "-c", "id -u; id -g; cat /proc/self/uid_map"], as: .testUser)
        #expect(r.code == 0, "\(r.stderr)")
        #expect(Array(r.lines.prefix(2)) == ["0", "0"])
        #expect(r.lines.last?.split(separator: " ").map(String.init) == ["0", "\(user.uid)", "1"])
        let conflict = try rsandbox(["run", "--map", "root", "--uid", "5", "--", "true"], as: .testUser)
        #expect(conflict.stderr.contains("spec: uid 5: with the root map the uid inside is 0"))
        let bad = try rsandbox(["run", "--map", "everything", "--", "true"], as: .testUser)
        #expect(bad.stderr.contains("map \"everything\": expected current, root or auto"))
    }
}
