import CRSandbox
import Foundation
import Testing
@testable import RSandbox
@testable import rsandbox

/// Capabilities, seccomp and the nested-namespace policy: flags to spec, refusals, the filter's
/// contents, and what a user sees (the escape suite covers the attempts themselves).
@Suite struct HardeningTests {
    @Test func theDefaultProgramIsBuiltOncePerProcess() throws {
        let a = try #require(try SeccompFilter.program(.default, nestedUserNamespaces: false, capabilities: []))
        let b = try #require(try SeccompFilter.program(.default, nestedUserNamespaces: false, capabilities: []))
        #expect(a == b)
        #expect(SeccompFilter.defaultPrograms.withLock { $0[.init(nestedUserNamespaces: false, admin: false)] } == a)
        // Each variant is its own program: the nested policy changes the rules.
        let nested = try #require(try SeccompFilter.program(.default, nestedUserNamespaces: true, capabilities: []))
        #expect(nested != a)
        #expect(try SeccompFilter.defaultProgram(nestedUserNamespaces: true, admin: false) == nested)
    }

    @Test func capAddThenCapDropGiveTheKeptList() throws {
        var o = RunOptions(command: ["true"])
        o.capAdd = ["net_admin,CAP_SYS_TIME", "chown"]
        o.capDrop = ["sys_time"]
        #expect(try o.capabilities() == ["CAP_NET_ADMIN", "CAP_CHOWN"])
        o.capAdd = ["ALL"]
        o.capDrop = ["SYS_ADMIN"]
        let all = try o.capabilities()
        #expect(all.count == Int(Capabilities.last))
        #expect(!all.contains("CAP_SYS_ADMIN") && all.contains("CAP_NET_RAW"))
        o.capDrop = ["ALL"]
        #expect(try o.capabilities() == [])
        #expect(try RunOptions(command: ["true"]).buildSpec().capabilities == [], "none by default")
    }

    @Test func unknownCapabilitiesAreRefused() throws {
        var o = RunOptions(command: ["true"])
        o.capAdd = ["net_admin", "cap_fly"]
        #expect(throws: SandboxError.self) { try o.capabilities() }
        do {
            _ = try o.capabilities()
        } catch {
            #expect(error.description.hasPrefix("spec: cap-add \"cap_fly\": is not a capability this kernel knows"))
        }
        let spec = SandboxSpec(argv: ["true"], capabilities: ["CAP_NET_ADMIN; rm"])
        #expect(throws: SandboxError.self) { try spec.validate(caller: Caller(uid: 1000, gid: 1000)) }
    }

    @Test func capabilityNamesComeFromLibcap() {
        #expect(Capabilities.number("CAP_SYS_ADMIN") == 21)
        #expect(Capabilities.number("net_admin") == 12)
        #expect(Capabilities.number("cap_nope") == nil)
        #expect(Capabilities.all.first == "CAP_CHOWN")
        #expect(Capabilities.name(12) == "CAP_NET_ADMIN")
    }

    @Test func defaultFilterNamesOnlySyscallsLibseccompKnows() {
        // open_tree_attr (Linux 6.15) is newer than Debian 12's libseccomp 2.5.4: docs/security.md.
        let unknown = (SeccompFilter.denied + SeccompFilter.mountCalls).filter { rs_seccomp_known($0) == 0 }
        #expect(unknown == ["open_tree_attr"])
    }

    @Test func filtersCompileToWholeInstructions() throws {
        let def = try #require(try SeccompFilter.program(.default, nestedUserNamespaces: false, capabilities: []))
        #expect(def.count % 8 == 0 && def.count > 8 * 40)
        let nested = try #require(try SeccompFilter.program(.default, nestedUserNamespaces: true, capabilities: []))
        #expect(nested.count < def.count, "nested sandboxes drop the mount and user namespace rules")
        #expect(try SeccompFilter.program(.unconfined, nestedUserNamespaces: false, capabilities: []) == nil)
        // Too long for the kernel: refused in the parent, not truncated.
        let rules = (0..<4500).map { i in
            SeccompProfile.Rule(names: ["ioctl"], action: "SCMP_ACT_ERRNO", args: [.init(index: 1, value: UInt64(i) + 1, op: "SCMP_CMP_EQ")])
        }
        do {
            let p = try SeccompFilter.compile(SeccompProfile(defaultAction: "SCMP_ACT_ALLOW", syscalls: rules), capabilities: [])
            Issue.record("compiled to \(p.count / 8) instructions")
        } catch {
            #expect(error.errno == E2BIG && error.reason.hasSuffix("the kernel takes at most 4096"), "\(error)")
        }
    }

    @Test func profileRefusalsNameTheRule() throws {
        func refusal(_ p: SeccompProfile) -> String? {
            do {
                try SandboxSpec(argv: ["true"], seccomp: .profile(p)).validate(caller: Caller(uid: 1000, gid: 1000))
                return nil
            } catch { return error.description }
        }
        #expect(refusal(SeccompProfile(defaultAction: "SCMP_ACT_NOTIFY"))?.hasPrefix("spec: seccomp defaultAction \"SCMP_ACT_NOTIFY\": expected") == true)
        let badAction = SeccompProfile(defaultAction: "SCMP_ACT_ALLOW", syscalls: [.init(names: ["mkdir"], action: "SCMP_ACT_DENY")])
        #expect(refusal(badAction)?.hasPrefix("spec: seccomp syscalls[0] action \"SCMP_ACT_DENY\"") == true)
        let badArg = SeccompProfile(defaultAction: "SCMP_ACT_ALLOW", syscalls: [
            .init(names: ["mkdir"], action: "SCMP_ACT_ERRNO", args: [.init(index: 6, value: 0, op: "SCMP_CMP_EQ")])])
        #expect(refusal(badArg)?.hasPrefix("spec: seccomp syscalls[0] argument 6") == true)
        #expect(refusal(SeccompProfile(defaultAction: "SCMP_ACT_ALLOW", syscalls: [.init(names: [], action: "SCMP_ACT_LOG")]))
                == "spec: seccomp syscalls[0]: names no syscall")
        let fine = SeccompProfile(defaultAction: "SCMP_ACT_ERRNO", syscalls: [.init(names: ["read", "no_such_call_xyz"], action: "SCMP_ACT_ALLOW")])
        #expect(refusal(fine) == nil)
        #expect(try SeccompFilter.compile(fine, capabilities: []).count > 0, "unknown names are skipped, like crun")
    }

    /// docker's conditions: includes need all of them, excludes any one.
    @Test func dockerConditionsFollowDockersRules() {
        typealias C = SeccompProfile.Condition
        let admin: Set<Int32> = [21]
        #expect(!SeccompFilter.includes(C(caps: ["CAP_SYS_ADMIN"]), kept: []))
        #expect(SeccompFilter.includes(C(caps: ["CAP_SYS_ADMIN"]), kept: admin))
        #expect(!SeccompFilter.includes(C(caps: ["CAP_SYS_ADMIN", "CAP_BPF"]), kept: admin))
        #expect(SeccompFilter.includes(C(arches: ["amd64", "x32"]), kept: []) == SeccompFilter.nativeArchWords.contains("amd64"))
        #expect(SeccompFilter.includes(C(minKernel: "4.8"), kept: []))
        #expect(!SeccompFilter.includes(C(minKernel: "99.0"), kept: []))
        let cloneRule = C(caps: ["CAP_SYS_ADMIN"], arches: ["s390", "s390x"])
        #expect(!SeccompFilter.excludes(cloneRule, kept: []), "applies without CAP_SYS_ADMIN off s390")
        #expect(SeccompFilter.excludes(cloneRule, kept: admin))
        #expect(!SeccompFilter.excludes(C(), kept: admin), "an empty excludes excludes nothing")
    }

    /// A profile file through the CLI: its rule takes effect, and bad files are one clear line.
    @Test func seccompProfileFileIsLoaded() throws {
        let dir = userDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // docker's form: archMap, and a rule that applies only when CAP_SYS_ADMIN is kept.
        writeUserFile(dir + "/deny-mkdir.json", """
            {"defaultAction": "SCMP_ACT_ALLOW",
             "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]}],
             "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
                          {"names": ["rmdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1, "includes": {"caps": ["CAP_SYS_ADMIN"]}}]}
            """)
        let script = "mkdir /tmp/\(uniqueToken()) 2>&1; mkdir -p \(dir)/d && rmdir \(dir)/d && echo rmdir-ok"
        let r = try rsandbox(["run", "--seccomp", dir + "/deny-mkdir.json", "--", "sh", "-c", script], as: .testUser)
        #expect(r.lines.first?.hasSuffix("Permission denied") == true, "\(r.stdout) \(r.stderr)")
        #expect(!r.stdout.contains("rmdir-ok"), "mkdir -p failed too")
        let control = try rsandbox(["run", "--seccomp=unconfined", "--", "sh", "-c", script], as: .testUser)
        #expect(control.lines.last == "rmdir-ok", "\(control.stderr)")

        writeUserFile(dir + "/bad.json", "{\"syscalls\": []}")
        let bad = try rsandbox(["run", "--seccomp", dir + "/bad.json", "--", "true"], as: .testUser)
        #expect(bad.code == 125)
        #expect(bad.stderr == "rsandbox: spec: seccomp \"\(dir)/bad.json\": not an OCI seccomp profile: defaultAction: missing\n")
        // Built after the clone (overlapping the child's set-up): a failure there ends the child.
        let token = uniqueToken()
        writeUserFile(dir + "/arch.json", "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"SCMP_ARCH_NOPE\"]}")
        let arch = try rsandbox(["run", "--seccomp", dir + "/arch.json", "--", "sleep", token], as: .testUser)
        #expect(arch.code == 125)
        #expect(arch.stderr == "rsandbox: seccomp: seccomp architecture \"nope\": Invalid argument\n")
        #expect(processes(containing: token).isEmpty)
        let missing = try rsandbox(["run", "--seccomp", dir + "/none.json", "--", "true"], as: .testUser)
        #expect(missing.stderr == "rsandbox: spec: seccomp \"\(dir)/none.json\": cannot open: No such file or directory\n")
    }

    @Test func rootInsideHasNoCapabilitiesUnlessAsked() throws {
        let dir = userDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = "touch /mnt/f; chown 100 /mnt/f 2>&1; grep CapEff /proc/self/status"
        let plain = try rsandbox(["run", "--map", "auto", "--bind", dir, "/mnt", "--ro-bind", "/usr", "/usr",
                                  "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
                                  "--proc", "/proc", "--", "sh", "-c", script], as: .testUser)
        #expect(plain.stdout.contains("Operation not permitted"), "\(plain.stdout) \(plain.stderr)")
        #expect(plain.lines.last == "CapEff:\t0000000000000000")
        let asked = try rsandbox(["run", "--uid", "0", "--cap-add", "CHOWN,NET_ADMIN", "--", "grep", "CapEff", "/proc/self/status"], as: .testUser)
        #expect(asked.lines == ["CapEff:\t0000000000001001"], "\(asked.stderr)")
        // A non-root command keeps what it was given too (ambient set).
        let user = try rsandbox(["run", "--cap-add", "NET_RAW", "--", "grep", "CapEff", "/proc/self/status"], as: .testUser)
        #expect(user.lines == ["CapEff:\t0000000000002000"], "\(user.stderr)")
        // And across the switch to another inside uid under a range map (keep-caps, then capset).
        let switched = try rsandbox(["run", "--map", "auto", "--uid", "1000", "--gid", "1000", "--cap-add", "NET_RAW",
                                     "--", "sh", "-c", "id -u; grep CapEff /proc/self/status"], as: .testUser)
        #expect(switched.lines == ["1000", "CapEff:\t0000000000002000"], "\(switched.stderr)")
    }

    @Test func nestedUserNamespacesAreRefusedInRunAndAllowedInShell() throws {
        let run = try rsandbox(["run", "--", "unshare", "-U", "true"], as: .testUser)
        #expect(run.code != 0 && run.stderr.contains("Operation not permitted"), "\(run.stderr)")
        #expect(try rsandbox(["run", "--nested-userns", "--", "unshare", "-U", "true"], as: .testUser).code == 0)
        let project = userDirectory()
        defer { try? FileManager.default.removeItem(atPath: project) }
        let inShell = try shell("cd \(project) && \"$RSANDBOX\" shell -- sh -c 'unshare -U true && echo nested-ok'", as: .testUser)
        #expect(inShell.lines == ["nested-ok"], "\(inShell.stderr)")
        let refused = try shell("cd \(project) && \"$RSANDBOX\" shell --no-nested-userns -- unshare -U true", as: .testUser)
        #expect(refused.code != 0)
        // A nested rsandbox inside the shell: its own user, pid and mount namespaces and a fresh /proc.
        let bin = (TestEnvironment.binary as NSString).deletingLastPathComponent
        let inner = try shell("cd \(project) && \"$RSANDBOX\" shell --ro-bind \(bin) \(bin) -- \"$RSANDBOX\" run -- sh -c 'echo $$'", as: .testUser)
        #expect(inner.lines == ["2"], "\(inner.stderr)")
    }

    @Test func printSpecShowsTheHardening() throws {
        let r = try shell("cd /tmp && \"$RSANDBOX\" shell --print-spec --cap-add net_raw", as: .testUser)
        let spec = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(spec["nestedUserNamespaces"] as? Bool == true)
        #expect(spec["capabilities"] as? [String] == ["CAP_NET_RAW"])
        #expect(try RunOptions(command: ["true"]).buildSpec().nestedUserNamespaces == false)
    }
}
