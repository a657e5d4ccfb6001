import Foundation
import Testing
@testable import RSandbox

/// The parsing behind `rsandbox doctor`, on fixture text and fixture trees.
@Suite struct HostProbeTests {
    @Test func findsTheCgroup2MountInMountinfo() {
        let mountinfo = """
        24 29 0:22 / /sys rw,nosuid shared:7 - sysfs sysfs rw
        30 24 0:26 / /sys/fs/cgroup ro,nosuid shared:9 - tmpfs tmpfs ro,mode=755
        31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw,nsdelegate
        32 30 0:28 / /sys/fs/cgroup/memory rw shared:11 - cgroup cgroup rw,memory
        """
        #expect(HostProbe.cgroup2Mount(mountinfo: mountinfo) == "/sys/fs/cgroup/unified")
        #expect(HostProbe.cgroup2Mount(mountinfo: "24 29 0:22 / /sys rw - sysfs sysfs rw") == nil)
        let escaped = "40 1 0:30 / /mnt/my\\040cg rw - cgroup2 cgroup2 rw"
        #expect(HostProbe.cgroup2Mount(mountinfo: escaped) == "/mnt/my cg")
    }

    @Test func readsOurCgroupFromProcSelfCgroup() {
        #expect(HostProbe.cgroup2Path(procSelfCgroup: "12:memory:/x\n0::/user.slice/app.scope\n") == "/user.slice/app.scope")
        #expect(HostProbe.cgroup2Path(procSelfCgroup: "4:pids:/\n") == nil)
    }

    @Test func subordinateRangesMatchByNameOrUid() {
        let text = "alice:100000:65536\n1001:200000:1000\nbob:300000:65536\nbroken:x:1\nalice:500000:0\n"
        let alice = HostProbe.subordinateRanges(text, user: "alice", uid: 1000)
        #expect(alice.map(\.start) == [100000])
        let byUid = HostProbe.subordinateRanges(text, user: "carol", uid: 1001)
        #expect(byUid.map(\.start) == [200000] && byUid.map(\.count) == [1000])
        #expect(HostProbe.subordinateRanges(text, user: nil, uid: 42).isEmpty)
    }

    @Test func kernelVersionParses() {
        #expect(HostProbe.kernelVersion("6.18.44-fc-v595")! == (6, 18))
        #expect(HostProbe.kernelVersion("5.4.0-150-generic")! == (5, 4))
        #expect(HostProbe.kernelVersion("garbage") == nil)
    }

    /// A fixture tree standing in for /proc and /etc.
    func fixture(_ files: [String: String]) throws -> String {
        let root = TestEnvironment.makeSharedDirectory()
        for (path, text) in files {
            let full = root + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: full, atomically: false, encoding: .utf8)
        }
        return root
    }

    func check(_ name: String, _ checks: [HostCheck]) -> HostCheck? {
        checks.first { $0.name == name }
    }

    @Test func restrictedHostsGetAFix() throws {
        let root = try fixture([
            "/proc/sys/kernel/osrelease": "5.4.0-150-generic\n",
            "/proc/sys/user/max_user_namespaces": "0\n",
            "/proc/sys/kernel/unprivileged_userns_clone": "0\n",
            "/proc/sys/kernel/apparmor_restrict_unprivileged_userns": "1\n",
            "/proc/self/mountinfo": "1 0 0:1 / / rw - ext4 /dev/vda rw\n",
            "/etc/subuid": "someone:100000:65536\n",
            "/etc/subgid": "",
        ])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let checks = HostProbe(root: root, caller: Caller(uid: 4242, gid: 4242)).run(live: false)
        let kernel = try #require(check("kernel", checks))
        #expect(!kernel.ok && kernel.fix == "upgrade to Linux 5.12 or newer")
        let max = try #require(check("user namespaces", checks))
        #expect(!max.ok && max.fix?.contains("user.max_user_namespaces") == true)
        #expect(check("unprivileged user namespaces", checks)?.ok == false)
        let aa = try #require(check("AppArmor user namespace restriction", checks))
        #expect(!aa.ok && aa.fix?.contains("AppArmor") == true)
        #expect(check("cgroup2", checks)?.ok == false)
        #expect(check("subuid", checks)?.ok == false)
        #expect(check("subuid", checks)?.fix?.hasPrefix("usermod --add-subuids") == true)
        let hardening = try #require(check("hardening", checks))
        #expect(!hardening.ok && hardening.required && hardening.fix?.contains("CONFIG_SECCOMP_FILTER") == true,
                "no Seccomp: line in the fixture's /proc/self/status")
    }

    @Test func openHostsPass() throws {
        let root = try fixture([
            "/proc/sys/kernel/osrelease": "6.8.0\n",
            "/proc/sys/user/max_user_namespaces": "15000\n",
            "/proc/self/mountinfo": "31 30 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
            "/proc/self/cgroup": "0::/user.slice\n",
            "/etc/subuid": "4242:100000:65536\n",
            "/etc/subgid": "4242:100000:65536\n",
            "/proc/self/status": "Name:\tx\nSeccomp:\t0\nSeccomp_filters:\t0\n",
        ])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let checks = HostProbe(root: root, caller: Caller(uid: 4242, gid: 4242)).run(live: false)
        #expect(check("kernel", checks)?.ok == true)
        #expect(check("user namespaces", checks)?.ok == true)
        #expect(check("unprivileged user namespaces", checks) == nil, "no such sysctl, nothing to say")
        #expect(check("cgroup2", checks)?.detail == "mounted at /sys/fs/cgroup; this process is in /user.slice")
        #expect(check("subuid", checks)?.detail.hasSuffix("100000-165535 (65536)") == true)
        #expect(check("hardening", checks)?.ok == true)
    }

    @Test func fileCapabilitiesAreRead() throws {
        let dir = TestEnvironment.makeSharedDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/helper"
        FileManager.default.createFile(atPath: path, contents: Data([0]), attributes: [.posixPermissions: 0o755])
        #expect(HostProbe.fileCapabilities(path) == nil)
        let setcap = Process()
        setcap.executableURL = URL(fileURLWithPath: "/sbin/setcap")
        setcap.arguments = ["cap_setuid,cap_setgid+ep", path]
        try setcap.run()
        setcap.waitUntilExit()
        try #require(setcap.terminationStatus == 0, "setcap (libcap2-bin) is needed; /tmp must keep xattrs")
        let caps = try #require(HostProbe.fileCapabilities(path))
        #expect(caps.permitted == (1 << 6) | (1 << 7))
        #expect(caps.effective)
    }
}
