import Testing
@testable import RSandbox

/// Every refusal of `SandboxSpec.validate`, and the field and value each error names.
@Suite struct SpecValidationTests {
    let user = Caller(uid: 1000, gid: 1000)
    let root = Caller(uid: 0, gid: 0)

    func refusal(_ spec: SandboxSpec, caller: Caller? = nil) -> SandboxError? {
        do {
            try spec.validate(caller: caller ?? user)
            return nil
        } catch {
            return error
        }
    }

    @Test func aPlainSpecIsValid() throws {
        try SandboxSpec(argv: ["true"]).validate(caller: user)
        try SandboxSpec(argv: ["true"], hostname: "box", namespaces: .all, uid: 0, gid: 0,
                        timeout: .seconds(1)).validate(caller: user)
    }

    @Test func emptyArgvIsRefused() {
        let e = refusal(SandboxSpec(argv: []))
        #expect(e?.stage == .spec)
        #expect(e?.description == "spec: argv: is empty: give the command to run")
        #expect(refusal(SandboxSpec(argv: [""]))?.item == "argv[0] \"\"")
    }

    @Test func nulInAnArgumentIsRefused() {
        #expect(refusal(SandboxSpec(argv: ["echo", "a\u{0}b"]))?.item == "argv[1] \"a\\x0b\"")
    }

    @Test func envNamesWithEqualsOrNulAreRefused() {
        let eq = refusal(SandboxSpec(argv: ["true"], environment: EnvironmentSpec(set: [EnvironmentVariable("A=B", "1")])))
        #expect(eq?.description == "spec: setenv \"A=B\": an environment variable name cannot contain '='")
        let nul = refusal(SandboxSpec(argv: ["true"], environment: EnvironmentSpec(set: [EnvironmentVariable("A\u{0}", "1")])))
        #expect(nul?.reason == "an environment variable name cannot contain a NUL byte")
        let unset = refusal(SandboxSpec(argv: ["true"], environment: EnvironmentSpec(unset: ["X=Y"])))
        #expect(unset?.item == "unsetenv \"X=Y\"")
        let empty = refusal(SandboxSpec(argv: ["true"], environment: EnvironmentSpec(unset: [""])))
        #expect(empty?.reason == "an environment variable name cannot be empty")
        let value = refusal(SandboxSpec(argv: ["true"], environment: EnvironmentSpec(set: [EnvironmentVariable("A", "x\u{0}")])))
        #expect(value?.description == "spec: setenv A: value contains a NUL byte")
    }

    @Test func hostnameOver64BytesIsRefused() {
        let ok = String(repeating: "a", count: 64)
        #expect(refusal(SandboxSpec(argv: ["true"], hostname: ok, namespaces: .all)) == nil)
        let long = ok + "a"
        let e = refusal(SandboxSpec(argv: ["true"], hostname: long, namespaces: .all))
        #expect(e?.description == "spec: hostname \"\(long)\": is 65 bytes long; the kernel takes at most 64")
        #expect(refusal(SandboxSpec(argv: ["true"], hostname: "", namespaces: .all))?.reason == "cannot be empty")
    }

    @Test func hostnameWithoutUtsNamespaceIsRefused() {
        let e = refusal(SandboxSpec(argv: ["true"], hostname: "box"))
        #expect(e?.item == "hostname \"box\"")
        #expect(e?.reason.contains("uts namespace") == true)
    }

    @Test func relativeCwdIsRefused() {
        #expect(refusal(SandboxSpec(argv: ["true"], cwd: "tmp"))?.description == "spec: cwd \"tmp\": must be an absolute path")
    }

    @Test func foreignUidWithoutRangeMapIsRefused() {
        let e = refusal(SandboxSpec(argv: ["true"], uid: 5))
        #expect(e?.description == "spec: uid 5: only your own uid (1000) or 0 can be mapped without a subordinate range")
        #expect(refusal(SandboxSpec(argv: ["true"], gid: 7))?.item == "gid 7")
        #expect(refusal(SandboxSpec(argv: ["true"], uid: 1000, gid: 0)) == nil)
    }

    @Test func changingIdsWithoutAUserNamespaceIsRefused() {
        let e = refusal(SandboxSpec(argv: ["true"], namespaces: .none, uid: 0), caller: user)
        #expect(e?.item == "uid 0")
        #expect(e?.reason == "changing the uid needs a new user namespace")
    }

    @Test func otherNamespacesWithoutUserNamespaceNeedRoot() {
        let spec = SandboxSpec(argv: ["true"], namespaces: Namespaces(pid: true, mount: true, net: true))
        #expect(refusal(spec, caller: user)?.item == "namespaces pid,mount,net")
        #expect(refusal(spec, caller: root) == nil)
    }

    @Test func pidWithoutMountIsRefused() {
        let e = refusal(SandboxSpec(argv: ["true"], namespaces: Namespaces(user: true, pid: true)))
        #expect(e?.item == "namespaces pid without mount")
        #expect(e?.reason.contains("/proc") == true)
    }

    @Test func asPid1NeedsAPidNamespace() {
        let e = refusal(SandboxSpec(argv: ["true"], namespaces: Namespaces(user: true, mount: true), commandIsPid1: true))
        #expect(e?.item == "as-pid-1")
    }

    @Test func badFdMappingsAreRefused() {
        #expect(refusal(SandboxSpec(argv: ["true"], fds: [FileDescriptorMapping(source: -1, target: 3)]))?.reason
                == "descriptor numbers cannot be negative")
        let twice = refusal(SandboxSpec(argv: ["true"], fds: [FileDescriptorMapping(source: 0, target: 5),
                                                              FileDescriptorMapping(source: 1, target: 5)]))
        #expect(twice?.description == "spec: fd 1->5: fd 5 is the target of more than one mapping")
        let closed = refusal(SandboxSpec(argv: ["true"], fds: [FileDescriptorMapping(9999)]))
        #expect(closed?.item == "fd 9999->9999")
        #expect(closed?.reason.hasPrefix("fd 9999 is not open in this process") == true)
    }

    @Test func nonPositiveTimeoutIsRefused() {
        #expect(refusal(SandboxSpec(argv: ["true"], timeout: .zero))?.reason == "must be greater than zero")
    }

    @Test func specRoundTripsThroughCodable() throws {
        let spec = SandboxSpec(argv: ["sh", "-c", "x"], environment: EnvironmentSpec(inherit: false, set: [EnvironmentVariable("A", "1")]),
                               cwd: "/tmp", hostname: "h", namespaces: .all, uid: 0, fds: [FileDescriptorMapping(3)],
                               timeout: .milliseconds(1500))
        let json = try JSONEncoder().encode(spec)
        #expect(try JSONDecoder().decode(SandboxSpec.self, from: json) == spec)
    }
}

import Foundation

@Suite struct NetworkSpecValidationTests {
    @Test func aBridgeNeedsANetworkNamespaceOfItsOwn() {
        let spec = SandboxSpec(argv: ["true"], network: .bridge(name: "rsbr0"))
        #expect(throws: SandboxError(stage: .spec, item: "net bridge=rsbr0", reason: "a bridge NIC needs a network namespace of its own (not --share-net)")) {
            try spec.validate()
        }
        var own = spec
        own.namespaces.net = true
        #expect(throws: Never.self) { try own.validate() }
    }

    @Test func userModeNeedsOwnUserAndNetworkNamespaces() {
        var spec = SandboxSpec(argv: ["true"], network: .user())
        #expect(throws: SandboxError(stage: .spec, item: "net user", reason: "pasta needs a network namespace and a user namespace of the sandbox's own")) {
            try spec.validate()
        }
        spec.namespaces.net = true
        #expect(throws: Never.self) { try spec.validate() }
    }

    @Test func bridgeNamesAreNetdsInterfaceNames() {
        for bad in ["", "a/b", "abcdefghijklmnop", "br 0", "br%0"] {
            var spec = SandboxSpec(argv: ["true"], network: .bridge(name: bad))
            spec.namespaces.net = true
            #expect(throws: SandboxError.self, "\(bad)") { try spec.validate() }
        }
    }
}
