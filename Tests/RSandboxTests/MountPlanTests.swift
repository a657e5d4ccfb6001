import CRSandbox
import Testing
@testable import RSandbox

/// Mount steps: validation refusals and their flat C form.
@Suite struct MountPlanTests {
    let caller = Caller(uid: 1000, gid: 1000)

    func refusal(_ spec: SandboxSpec) -> SandboxError? {
        do { try spec.validate(caller: caller); return nil } catch { return error }
    }

    func plan(_ mounts: [Mount], rootfs: String? = nil, namespaces: Namespaces = .default) -> Plan {
        Plan(spec: SandboxSpec(argv: ["true"], namespaces: namespaces, rootfs: rootfs, mounts: mounts),
             caller: caller, inheritedEnvironment: [], callerDirectory: "/work/p")
    }

    @Test func mountsNeedAMountNamespace() {
        let e = refusal(SandboxSpec(argv: ["true"], namespaces: Namespaces(user: true), mounts: [.tmpfs(destination: "/tmp")]))
        #expect(e?.item == "tmpfs \"/tmp\"")
        #expect(e?.reason == "a root of its own needs a new mount namespace")
    }

    @Test func relativePathsAndDotDotAreRefused() {
        #expect(refusal(SandboxSpec(argv: ["true"], mounts: [.bind(source: "src", destination: "/d")]))?.reason
                == "\"src\" must be an absolute path")
        #expect(refusal(SandboxSpec(argv: ["true"], mounts: [.tmpfs(destination: "tmp")]))?.item == "mount 1 (tmpfs \"tmp\")")
        #expect(refusal(SandboxSpec(argv: ["true"], mounts: [.dir(destination: "/a/./b")]))?.reason
                == "destination \"/a/./b\" cannot contain . or .. components")
        #expect(refusal(SandboxSpec(argv: ["true"], rootfs: "root"))?.item == "rootfs \"root\"")
    }

    @Test func badModesAndOverlaysAreRefused() {
        #expect(refusal(SandboxSpec(argv: ["true"], mounts: [.chmod(destination: "/x", mode: 0o17777)]))?.reason
                == "mode 017777 is not a file mode")
        #expect(refusal(SandboxSpec(argv: ["true"], mounts: [.tmpfs(destination: "/x", size: 0)]))?.reason
                == "a tmpfs size must be greater than zero")
        #expect(refusal(SandboxSpec(argv: ["true"], mounts: [.overlay(lowers: [], destination: "/o", mode: .temporary)]))?.reason
                == "an overlay needs at least one lower directory (--overlay-src)")
        let one = refusal(SandboxSpec(argv: ["true"], mounts: [.overlay(lowers: ["/a"], destination: "/o", mode: .readOnly)]))
        #expect(one?.reason == "a read-only overlay needs at least two lower directories (the kernel's rule)")
        #expect(refusal(SandboxSpec(argv: ["true"], mounts: [.overlay(lowers: ["/a"], destination: "/o", mode: .persistent(upper: "u", work: "/w"))])) != nil)
        #expect(refusal(SandboxSpec(argv: ["true"], mounts: [.symlink(target: "", destination: "/l")]))?.reason
                == "a symlink needs a target without NUL bytes")
    }

    @Test func aNewRootGetsProcAndTheCallersDirectory() {
        let p = plan([.bind(source: "/", destination: "/", options: .readOnly)])
        #expect(p.newRoot && !p.mountProc)
        #expect(p.sourceMounts.last == .proc(destination: "/proc"), "a new pid namespace needs its /proc")
        #expect(p.cwd == "/work/p" && p.cwdTry)
        let own = plan([.proc(destination: "/proc2")])
        #expect(own.sourceMounts == [.proc(destination: "/proc2")], "the user's proc is enough")
        let noPid = plan([.tmpfs(destination: "/t")], namespaces: Namespaces(user: true, mount: true))
        #expect(noPid.sourceMounts == [.tmpfs(destination: "/t")])
        let hostTree = plan([])
        #expect(!hostTree.newRoot && hostTree.mountProc && hostTree.cwd == nil)
    }

    @Test func hostPathsMoveUnderOldrootAndDestinationsBecomeRelative() {
        let p = plan([.bind(source: "/srv/data", destination: "//mnt//data/", options: [.readOnly, .optional])], rootfs: "/srv/root")
        let m = p.mounts[0]
        #expect(m.kind == RS_MOUNT_BIND.rawValue)
        #expect(m.source == "/oldroot/srv/data")
        #expect(m.dest == "mnt/data")
        #expect(m.flags == RS_MOUNT_F_READONLY | RS_MOUNT_F_TRY)
        #expect(p.rootfs == "/oldroot/srv/root")
        #expect(plan([.bind(source: "/", destination: "/")]).mounts[0].source == "/oldroot")
        #expect(plan([.bind(source: "/", destination: "/")]).mounts[0].dest == "")
    }

    @Test func tmpfsOptionsCarrySizeAndMode() {
        #expect(plan([.tmpfs(destination: "/t")]).mounts[0].options == "mode=0755")
        #expect(plan([.tmpfs(destination: "/t", size: 1 << 20, mode: 0o1777)]).mounts[0].options == "mode=01777,size=1048576")
    }

    @Test func overlayLayersAreListedTopFirstAndEscaped() {
        let m = plan([.overlay(lowers: ["/low", "/a:b", "/top\\x"], destination: "/o", mode: .persistent(upper: "/u", work: "/w"))]).mounts[0]
        #expect(m.lowerdir == "/oldroot/top\\\\x:/oldroot/a\\:b:/oldroot/low")
        #expect(m.upperdir == "/oldroot/u" && m.workdir == "/oldroot/w" && m.scratch == nil)
        let t = plan([.tmpfs(destination: "/x"), .overlay(lowers: ["/l"], destination: "/o", mode: .temporary)]).mounts[1]
        #expect(t.scratch == "/.rsandbox-overlay-1")
        #expect(t.upperdir == "/.rsandbox-overlay-1/upper" && t.workdir == "/.rsandbox-overlay-1/work")
        #expect(t.flags & RS_MOUNT_F_VOLATILE != 0)
    }

    @Test func summariesNameTheStep() {
        #expect(Mount.bind(source: "/a", destination: "/b", options: [.readOnly, .optional]).summary == "ro-bind-try \"/a\" -> \"/b\"")
        #expect(Mount.chmod(destination: "/x", mode: 0o700).summary == "chmod 0700 \"/x\"")
        #expect(Mount.overlay(lowers: ["/l1", "/l2"], destination: "/o", mode: .temporary).summary == "tmp-overlay \"/l1\":\"/l2\" -> \"/o\"")
    }

    @Test func mountErrorsNameTheStepAndWhichSideFailed() {
        let p = plan([.bind(source: "/nope", destination: "/x")])
        let e = SandboxError(report: rs_report(stage: Int32(RS_STAGE_MOUNT_SOURCE.rawValue), err: ENOENT, index: 0), plan: p)
        #expect(e.description == "mount: bind \"/nope\" -> \"/x\": source: No such file or directory")
        let t = SandboxError(report: rs_report(stage: Int32(RS_STAGE_MOUNT_TARGET.rawValue), err: EROFS, index: 0), plan: p)
        #expect(t.reason == "destination: Read-only file system" && t.hint != nil)
        let o = plan([.overlay(lowers: ["/l"], destination: "/o", mode: .temporary)])
        let oe = SandboxError(report: rs_report(stage: Int32(RS_STAGE_MOUNT.rawValue), err: EINVAL, index: 0), plan: o)
        #expect(oe.hint?.contains("rsandbox doctor") == true)
        let root = SandboxError(report: rs_report(stage: Int32(RS_STAGE_NEW_ROOT.rawValue), err: ENOENT, index: -1),
                                plan: plan([], rootfs: "/srv/r"))
        #expect(root.description == "new-root: rootfs \"/srv/r\": No such file or directory (the rootfs must be a directory)")
    }
}

import Glibc
