import CRSandbox
import Testing
@testable import RSandbox

/// Plan building (spec → flat plan), map formatting and the C lowering.
@Suite struct PlanTests {
    let caller = Caller(uid: 1000, gid: 1001)

    @Test func namespacesBecomeCloneFlags() {
        let all = Plan(spec: SandboxSpec(argv: ["true"], namespaces: .all), caller: caller, inheritedEnvironment: [])
        #expect(all.cloneFlags == RS_CLONE_NEWUSER | RS_CLONE_NEWPID | RS_CLONE_NEWNS | RS_CLONE_NEWNET
                | RS_CLONE_NEWIPC | RS_CLONE_NEWUTS | RS_CLONE_NEWCGROUP)
        #expect(all.mountProc && all.loopbackUp && all.reaper && all.makeMountsPrivate)
        let some = Plan(spec: SandboxSpec(argv: ["true"], namespaces: Namespaces(user: true, mount: true)),
                        caller: caller, inheritedEnvironment: [])
        #expect(some.cloneFlags == RS_CLONE_NEWUSER | RS_CLONE_NEWNS)
        #expect(!some.mountProc && !some.loopbackUp && !some.reaper)
    }

    @Test func asPid1DropsTheReaper() {
        let p = Plan(spec: SandboxSpec(argv: ["true"], commandIsPid1: true), caller: caller, inheritedEnvironment: [])
        #expect(!p.reaper)
        #expect(p.mountProc)
    }

    @Test func mapsAreTheCallersSingleIds() {
        let own = Plan(spec: SandboxSpec(argv: ["true"]), caller: caller, inheritedEnvironment: [])
        #expect(own.uidMaps.map(\.line) == ["1000 1000 1\n"])
        #expect(own.gidMaps.map(\.line) == ["1001 1001 1\n"])
        let root = Plan(spec: SandboxSpec(argv: ["true"], uid: 0, gid: 0), caller: caller, inheritedEnvironment: [])
        #expect(root.uidMaps.map(\.line) == ["0 1000 1\n"])
        #expect(root.gidMaps.map(\.line) == ["0 1001 1\n"])
        let noUserns = Plan(spec: SandboxSpec(argv: ["true"], namespaces: .none), caller: caller, inheritedEnvironment: [])
        #expect(noUserns.uidMaps.isEmpty)
    }

    @Test func idMapLineFormat() {
        #expect(IDMap(inside: 0, outside: 100000, count: 65536).line == "0 100000 65536\n")
    }

    @Test func environmentIsInheritedThenUnsetThenSet() {
        let inherited = ["PATH=/bin", "HOME=/root", "A=old", "EMPTY="]
        let env = EnvironmentSpec(unset: ["HOME"], set: [EnvironmentVariable("A", "new"), EnvironmentVariable("B", "x=y")])
        let p = Plan(spec: SandboxSpec(argv: ["true"], environment: env), caller: caller, inheritedEnvironment: inherited)
        #expect(p.envp == ["PATH=/bin", "A=new", "EMPTY=", "B=x=y"])
        #expect(p.searchPath == "/bin")
    }

    @Test func clearedEnvironmentHasOnlyTheSetVariablesAndADefaultSearchPath() {
        let env = EnvironmentSpec(inherit: false, set: [EnvironmentVariable("X", "1")])
        let p = Plan(spec: SandboxSpec(argv: ["true"], environment: env), caller: caller, inheritedEnvironment: ["PATH=/x"])
        #expect(p.envp == ["X=1"])
        #expect(p.searchPath == Plan.defaultSearchPath)
    }

    @Test func fdsAreSortedByTarget() {
        let fds = [FileDescriptorMapping(source: 9, target: 7), FileDescriptorMapping(source: 4, target: 3)]
        let p = Plan(spec: SandboxSpec(argv: ["true"], fds: fds), caller: caller, inheritedEnvironment: [])
        #expect(p.fds.map(\.target) == [3, 7])
    }

    @Test func arenaHoldsTheSameStringsAndFlags() {
        let spec = SandboxSpec(argv: ["sh", "-c", "echo ü"], environment: EnvironmentSpec(inherit: false, set: [EnvironmentVariable("K", "v")]),
                               cwd: "/tmp", hostname: "box", namespaces: .all,
                               fds: [FileDescriptorMapping(source: 2, target: 9)])
        let plan = Plan(spec: spec, caller: caller, inheritedEnvironment: [])
        let arena = PlanArena(plan)
        let raw = arena.raw
        func strings(_ p: UnsafePointer<UnsafePointer<CChar>?>) -> [String] {
            var out: [String] = []
            var i = 0
            while let s = p[i] { out.append(String(cString: s)); i += 1 }
            return out
        }
        #expect(strings(raw.argv) == ["sh", "-c", "echo ü"])
        #expect(strings(raw.envp) == ["K=v"])
        #expect(String(cString: raw.cwd) == "/tmp")
        #expect(String(cString: raw.hostname) == "box")
        #expect(raw.hostname_len == 3)
        #expect(raw.nfds == 1 && raw.fds[0].source == 2 && raw.fds[0].target == 9)
        #expect(raw.fd_floor == 10)
        #expect(raw.clone_flags == plan.cloneFlags)
        #expect(raw.reaper == 1 && raw.mount_proc == 1 && raw.loopback_up == 1 && raw.die_with_parent == 1)
        withExtendedLifetime(arena) {}
    }
}
