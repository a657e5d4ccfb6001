import Foundation
import Testing
@testable import RSandbox

/// Resource limits on this host (no usable cgroup2 controllers: a clear set-up error) and the
/// parts that need no cgroup. The limits themselves are tested in the VM lane (scripts/vm-test
/// scripts/vm/limits.sh).
@Suite struct LimitsTests {
    @Test(arguments: Runner.allCases)
    func aLimitWithoutAUsableSubtreeIsASetupError(_ runner: Runner) throws {
        let r = try rsandbox(["run", "--memory", "64M", "--", "true"], as: runner)
        #expect(r.code == 125)
        #expect(r.stderr.hasPrefix("rsandbox: cgroup: "), "\(r.stderr)")
        #expect(r.stderr.contains("rsandbox: hint: run under `systemd-run --user --scope -p Delegate=yes"))
        // This host: root's cgroup2 has no memory controller; the test user's is not delegated.
        #expect(r.stderr.contains(runner == .root ? "controller memory not available" : "not delegated to you"), "\(r.stderr)")
    }

    @Test func badLimitValuesAreRefused() throws {
        let cases: [([String], String)] = [
            (["--memory", "0"], "memory \"0\": expected a size such as 512M or 2G greater than zero"),
            (["--memory", "lots"], "memory \"lots\": expected a size"),
            (["--memory", "512"], "spec: memory 512: must be at least 1M"),
            (["--memory-swap", "x"], "memory-swap \"x\": expected a size such as 512M or 2G (or 0)"),
            (["--cpus", "0"], "cpus \"0\": expected a number of CPUs greater than zero"),
            (["--cpus", "half"], "cpus \"half\": expected a number of CPUs"),
            (["--cpu-weight", "0"], "cpu-weight \"0\": expected a whole number greater than zero"),
            (["--cpu-weight", "20000"], "cpu-weight 20000: must be between 1 and 10000"),
            (["--pids", "0"], "pids \"0\": expected a whole number greater than zero"),
            (["--io-weight", "0"], "io-weight \"0\": expected a whole number greater than zero"),
            (["--io-weight", "10001"], "io-weight 10001: must be between 1 and 10000"),
            (["--io-max", "/dev/null"], "io-max \"/dev/null\": expected DEVICE:KEY=VALUE"),
            (["--io-max", "/dev/null:wbps=1M"], "io-max /dev/null: not a block device"),
            (["--io-max", "/nonexistent:wbps=1M"], "io-max /nonexistent: No such file or directory"),
            (["--io-max", "/dev/null:speed=1"], "io-max \"/dev/null:speed=1\": \"speed=1\" is not KEY=VALUE with KEY one of rbps, wbps, riops, wiops"),
            (["--io-max", "/dev/null:wbps=0"], "wbps \"0\": expected a size such as 10M greater than zero"),
            (["--io-max", "/dev/null:riops=1M"], "riops \"1M\": expected a whole number greater than zero"),
            (["--io-max", "/dev/null:wbps=1M,wbps=2M"], "wbps is given twice"),
        ]
        for (flags, message) in cases {
            let r = try rsandbox(["run"] + flags + ["--", "true"], as: .testUser)
            #expect(r.code == 125, "\(flags)")
            #expect(r.stderr.contains(message), "\(flags): \(r.stderr)")
        }
    }

    @Test func limitsBecomeCgroupFiles() {
        let l = CgroupLimits(memory: 64 << 20, memorySwap: 0, cpus: 0.5, cpuWeight: 200, pids: 16)
        #expect(l.files.map { "\($0.0)=\($0.1)" } == ["memory.max=67108864", "memory.swap.max=0", "cpu.max=50000 100000",
                                                    "cpu.weight=200", "pids.max=16"])
        #expect(l.controllers == ["memory", "cpu", "pids"])
        #expect(CgroupLimits(cpus: 0.001).files.first?.1 == "1000 100000", "the kernel's smallest quota")
        #expect(CgroupLimits().isEmpty && CgroupLimits(pids: 1).controllers == ["pids"])
    }

    @Test func ioLimitsBecomeCgroupFiles() throws {
        let disk = IOMax(device: "/dev/vda", major: 254, minor: 0, writeBytesPerSecond: 1 << 20, readIOPS: 100)
        let l = CgroupLimits(ioWeight: 300, ioMax: [disk, IOMax(device: "/dev/vdb", major: 254, minor: 16, readBytesPerSecond: 4096)])
        #expect(l.files.map { "\($0.0)=\($0.1)" } == ["io.weight=default 300", "io.max=254:0 wbps=1048576 riops=100",
                                                    "io.max=254:16 rbps=4096"])
        #expect(l.controllers == ["io"])
        #expect(throws: SandboxError.self) { try CgroupLimits(ioMax: [disk, disk]).validate() }
        #expect(throws: SandboxError.self) { try CgroupLimits(ioMax: [IOMax(device: "/dev/vda", major: 254, minor: 0)]).validate() }
        // A spec written before the io limits existed still decodes.
        let old = try JSONDecoder().decode(CgroupLimits.self, from: Data(#"{"pids": 5}"#.utf8))
        #expect(old == CgroupLimits(pids: 5))
    }

    @Test func ioMaxNamesABlockDeviceByItsNumber() throws {
        // A loop device node stands in for a disk: any block device has a number to look up.
        guard let dev = ["/dev/loop0", "/dev/sda", "/dev/vda", "/dev/nvme0n1"].first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            Issue.record("no block device node here to look up"); return
        }
        let m = try IOMax(device: dev, writeBytesPerSecond: 1)
        // sysfs spells the number too: /sys/dev/block/MAJ:MIN is the device's own directory.
        let name = dev.split(separator: "/").last.map(String.init) ?? ""
        let number = try String(contentsOfFile: "/sys/class/block/\(name)/dev", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(m.line == "\(number) wbps=1")
        #expect(IOMax.split(0x1001_0000_3402) == (0x1034, 0x100002), "the split of a number over 32 bits")
    }

    @Test func usageIsReadFromTheLeafFiles() throws {
        let dir = TestEnvironment.makeSharedDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n".write(toFile: dir + "/memory.events", atomically: false, encoding: .utf8)
        try "67108864\n".write(toFile: dir + "/memory.peak", atomically: false, encoding: .utf8)
        try "usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\n".write(toFile: dir + "/cpu.stat", atomically: false, encoding: .utf8)
        let u = Cgroup2.Leaf(path: dir).usage()
        #expect(u.oomKills == 1 && u.memoryPeak == 64 << 20)
        #expect(u.cpuUser == .seconds(1) && u.cpuSystem == .milliseconds(500))
        var status = RSandbox.ExitStatus(waitStatus: 9)
        status.usage = u
        #expect(status.oomKilled && status.shellCode == 137)
    }
}
