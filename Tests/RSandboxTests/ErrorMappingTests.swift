import CRSandbox
import Glibc
import Testing
@testable import RSandbox

/// A child's {stage, errno, index} report becomes an error naming the spec item.
@Suite struct ErrorMappingTests {
    let plan = Plan(spec: SandboxSpec(argv: ["mytool", "-x"], environment: EnvironmentSpec(inherit: false, set: [EnvironmentVariable("PATH", "/opt/bin")]),
                                      cwd: "/work", hostname: "box", namespaces: .all,
                                      fds: [FileDescriptorMapping(source: 5, target: 3), FileDescriptorMapping(source: 6, target: 8)]),
                    caller: Caller(uid: 1000, gid: 1000), inheritedEnvironment: [])

    func mapped(_ stage: rs_stage, _ err: Int32, _ index: Int32 = 0) -> SandboxError {
        SandboxError(report: rs_report(stage: Int32(stage.rawValue), err: err, index: index), plan: plan)
    }

    @Test func chdirNamesTheCwd() {
        let e = mapped(RS_STAGE_CHDIR, ENOENT)
        #expect(e.stage == .chdir)
        #expect(e.errno == ENOENT)
        #expect(e.description == "chdir: cwd \"/work\": No such file or directory")
    }

    @Test func hostnameNamesTheHostname() {
        #expect(mapped(RS_STAGE_HOSTNAME, EPERM).description == "hostname: hostname \"box\": Operation not permitted")
    }

    @Test func fdsNameTheMappingByIndex() {
        #expect(mapped(RS_STAGE_FDS, EBADF, 1).item == "fd 6->8")
        #expect(mapped(RS_STAGE_FDS, EMFILE, -1).item == "fds")
    }

    @Test func execNotFoundNamesTheCommandAndPath() {
        let e = mapped(RS_STAGE_EXEC, ENOENT)
        #expect(e.description == "exec: mytool: command not found in PATH=/opt/bin")
        let denied = mapped(RS_STAGE_EXEC, EACCES)
        #expect(denied.reason == "Permission denied")
        #expect(denied.hint != nil)
    }

    @Test func procMountHasAHint() {
        let e = mapped(RS_STAGE_MOUNT_PROC, EPERM)
        #expect(e.stage == .mountProc)
        #expect(e.item == "/proc")
        #expect(e.hint?.contains("doctor") == true)
    }

    @Test func everyStageNumberMapsToItsOwnStage() {
        let pairs: [(rs_stage, SandboxError.Stage)] = [
            (RS_STAGE_PDEATHSIG, .pdeathsig), (RS_STAGE_MOUNT_PRIVATE, .mountPrivate), (RS_STAGE_MOUNT_PROC, .mountProc),
            (RS_STAGE_HOSTNAME, .hostname), (RS_STAGE_LOOPBACK, .loopback), (RS_STAGE_CHDIR, .chdir),
            (RS_STAGE_REAPER, .reaper), (RS_STAGE_SIGNALS, .signals), (RS_STAGE_FDS, .fds), (RS_STAGE_EXEC, .exec),
            (RS_STAGE_NEW_ROOT, .newRoot), (RS_STAGE_MOUNT_SOURCE, .mount), (RS_STAGE_MOUNT_TARGET, .mount), (RS_STAGE_MOUNT, .mount),
            (RS_STAGE_PIVOT, .pivot), (RS_STAGE_SESSION, .session), (RS_STAGE_IDENTITY, .identity),
            (RS_STAGE_CAPS, .capabilities), (RS_STAGE_NO_NEW_PRIVS, .noNewPrivileges), (RS_STAGE_SECCOMP, .seccomp),
            (RS_STAGE_MASK, .mask),
        ]
        for (raw, stage) in pairs {
            #expect(SandboxError.Stage(report: Int32(raw.rawValue)) == stage)
        }
    }

    @Test func hardeningStagesNameWhatFailed() {
        #expect(mapped(RS_STAGE_CAPS, EPERM, 21).description == "capabilities: capability CAP_SYS_ADMIN: Operation not permitted")
        #expect(mapped(RS_STAGE_CAPS, EPERM, -1).description == "capabilities: capabilities: Operation not permitted")
        #expect(mapped(RS_STAGE_NO_NEW_PRIVS, EINVAL).description == "no-new-privs: no-new-privs: Invalid argument")
        let seccomp = mapped(RS_STAGE_SECCOMP, EINVAL)
        #expect(seccomp.description == "seccomp: seccomp filter: Invalid argument")
        #expect(seccomp.hint != nil)
        #expect(mapped(RS_STAGE_MASK, EPERM, 1).description == "mask: /proc/kcore: Operation not permitted")
        #expect(mapped(RS_STAGE_MASK, EPERM, 11).item == "/sys/devices/virtual/powercap")
        #expect(mapped(RS_STAGE_MASK, EPERM, 12).item == "/proc/asound", "read-only paths follow the masked ones")
        #expect(mapped(RS_STAGE_MASK, EPERM, 99).item == "masked paths")
    }

    @Test func exitStatusDecodesWaitStatusAndShellCodes() {
        #expect(RSandbox.ExitStatus(waitStatus: 3 << 8).termination == .exited(3))
        #expect(RSandbox.ExitStatus(waitStatus: 9).termination == .signaled(9))
        #expect(RSandbox.ExitStatus(waitStatus: 9).shellCode == 137)
        #expect(RSandbox.ExitStatus(waitStatus: 0x80 | 6).termination == .signaled(6), "core dumped")
        #expect(RSandbox.ExitStatus(waitStatus: 9, timedOut: true).shellCode == 124)
    }

    @Test func errnoNamesAreSymbolic() {
        #expect(errnoName(ENOENT) == "ENOENT")
        #expect(errorString(EACCES) == "Permission denied")
    }
}
