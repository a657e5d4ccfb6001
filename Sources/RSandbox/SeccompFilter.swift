import CRSandbox
import Glibc
import Synchronization

/// Compiles a SeccompPolicy to the BPF program the child loads last, just before execve. Built
/// in the parent with libseccomp; the child never parses anything.
enum SeccompFilter {
    // libseccomp's SCMP_ACT_* values (the kernel's SECCOMP_RET_* ABI).
    static let allow: UInt32 = 0x7fff_0000
    static let log: UInt32 = 0x7ffc_0000
    static let trap: UInt32 = 0x0003_0000
    static let killThread: UInt32 = 0x0000_0000
    static let killProcess: UInt32 = 0x8000_0000

    /// Kernel attack surface and calls that cross the sandbox's boundary: always refused (EPERM).
    static let denied = [
        "keyctl", "add_key", "request_key",                       // the kernel keyrings are not namespaced
        "bpf", "perf_event_open", "lookup_dcookie",               // kernel introspection, JIT
        "kexec_load", "kexec_file_load", "reboot",
        "init_module", "finit_module", "delete_module",
        "open_by_handle_at", "name_to_handle_at",                 // "shocker": open a host file by handle
        "swapon", "swapoff", "acct", "quotactl", "quotactl_fd", "nfsservctl",
        "settimeofday", "stime", "clock_settime", "clock_settime64", "clock_adjtime", "clock_adjtime64",
        "iopl", "ioperm", "vm86", "vm86old", "uselib", "_sysctl", "syslog",
        "io_uring_setup", "io_uring_enter", "io_uring_register", // a large, often-patched surface
    ]

    /// The mount API: refused unless nested sandboxes are allowed or CAP_SYS_ADMIN is kept.
    static let mountCalls = [
        "mount", "umount", "umount2", "pivot_root", "move_mount", "open_tree", "open_tree_attr",
        "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
    ]

    static let cloneNewUser: UInt64 = 0x1000_0000
    static let tiocsti: UInt64 = 0x5412
    static let tioclinux: UInt64 = 0x541C
    static let uffdUserModeOnly: UInt64 = 1
    // scmp_compare values.
    static let masked: UInt32 = 7

    /// The program's bytes (struct sock_filter[]), or nil for no filter.
    static func program(_ policy: SeccompPolicy, nestedUserNamespaces: Bool,
                        capabilities: [String]) throws(SandboxError) -> [UInt8]? {
        switch policy {
        case .unconfined:
            return nil
        case .default:
            let key = DefaultKey(nestedUserNamespaces: nestedUserNamespaces, capabilities: capabilities)
            if let cached = defaultPrograms.withLock({ $0[key] }) { return cached }
            let program = try defaultProgram(nestedUserNamespaces: nestedUserNamespaces, admin: key.admin)
            defaultPrograms.withLock { $0[key] = program }
            return program
        case .profile(let p):
            return try compile(p, capabilities: capabilities)
        }
    }

    /// Whether `program` would answer from what this process already built.
    static func isBuilt(_ policy: SeccompPolicy, nestedUserNamespaces: Bool, capabilities: [String]) -> Bool {
        guard case .default = policy else { return false }
        let key = DefaultKey(nestedUserNamespaces: nestedUserNamespaces, capabilities: capabilities)
        return defaultPrograms.withLock { $0[key] != nil }
    }

    /// What the default program depends on.
    struct DefaultKey: Hashable {
        var nestedUserNamespaces: Bool
        /// CAP_SYS_ADMIN kept: the mount API stays open.
        var admin: Bool

        init(nestedUserNamespaces: Bool, admin: Bool) {
            self.nestedUserNamespaces = nestedUserNamespaces
            self.admin = admin
        }

        init(nestedUserNamespaces: Bool, capabilities: [String]) {
            self.init(nestedUserNamespaces: nestedUserNamespaces,
                      admin: capabilities.contains { Capabilities.number($0) == 21 })
        }
    }

    /// Default programs built so far in this process: libseccomp takes a quarter of a
    /// millisecond or more per build, and a program spawning many sandboxes needs it once.
    static let defaultPrograms = Mutex<[DefaultKey: [UInt8]]>([:])

    static func defaultProgram(nestedUserNamespaces: Bool, admin: Bool) throws(SandboxError) -> [UInt8] {
        try build(defaultAction: allow, architectures: ["native-compat"]) { add throws(SandboxError) in
            let eperm = rs_seccomp_action_errno(UInt32(EPERM))
            for name in denied { try add(name, eperm, []) }
            if !nestedUserNamespaces && !admin {
                for name in mountCalls { try add(name, eperm, []) }
            }
            let ioctlArg = { (cmd: UInt64) in rs_seccomp_arg(index: 1, op: masked, value: 0xffff_ffff, value_two: cmd) }
            try add("ioctl", eperm, [ioctlArg(tiocsti)])
            try add("ioctl", eperm, [ioctlArg(tioclinux)])
            // userfaultfd stays usable for user-mode faults only (no kernel-fault stalls).
            try add("userfaultfd", eperm, [rs_seccomp_arg(index: 0, op: masked, value: uffdUserModeOnly, value_two: 0)])
            if !nestedUserNamespaces {
                let newUser = rs_seccomp_arg(index: 0, op: masked, value: cloneNewUser, value_two: cloneNewUser)
                try add("unshare", eperm, [newUser])
                try add("clone", eperm, [newUser])
                // clone3 passes its flags in memory a filter cannot read: ENOSYS makes libc
                // fall back to clone, whose flags it can.
                try add("clone3", rs_seccomp_action_errno(UInt32(ENOSYS)), [])
            }
        }
    }

    typealias AddRule = (String, UInt32, [rs_seccomp_arg]) throws(SandboxError) -> Void

    /// A libseccomp context with these architectures, filled by `rules`, exported.
    static func build(defaultAction: UInt32, architectures: [String],
                      skipUnknown: Bool = false,
                      _ rules: (AddRule) throws(SandboxError) -> Void) throws(SandboxError) -> [UInt8] {
        guard let ctx = rs_seccomp_new(defaultAction) else {
            throw .system(.seccomp, ENOMEM, item: "seccomp filter")
        }
        defer { rs_seccomp_free(ctx) }
        for arch in architectures {
            let r = rs_seccomp_arch(ctx, arch)
            if r < 0 { throw .system(.seccomp, -r, item: "seccomp architecture \(quoted(arch))") }
        }
        try rules { (name: String, action: UInt32, args: [rs_seccomp_arg]) throws(SandboxError) in
            let r = args.withUnsafeBufferPointer { rs_seccomp_rule(ctx, name, action, $0.baseAddress, UInt32($0.count)) }
            // Unknown to libseccomp: a profile written for other kernels names calls this one
            // lacks (crun and runc skip them too); our own list is checked by a test.
            if r == 1 { return }
            // A rule whose action is the default one adds nothing; libseccomp refuses it.
            if r == -EACCES && action == defaultAction { return }
            if r < 0 { throw .system(.seccomp, -r, item: "seccomp rule for \(name)") }
        }
        var raw: UnsafeMutableRawPointer? = nil
        var len: UInt = 0
        let r = rs_seccomp_export(ctx, &raw, &len)
        guard r == 0, let raw else { throw .system(.seccomp, -r, item: "seccomp filter") }
        defer { free(raw) }
        // BPF_MAXINSNS: the kernel refuses longer programs (and sock_fprog counts in 16 bits).
        if len / 8 > 4096 {
            throw SandboxError(stage: .seccomp, errno: E2BIG, item: "seccomp filter",
                               reason: "it compiles to \(len / 8) instructions; the kernel takes at most 4096")
        }
        return Array(UnsafeRawBufferPointer(start: raw, count: Int(len)))
    }

    /// An OCI action name and its errno/trace value → libseccomp's action.
    static func action(_ name: String, errnoRet: UInt32?) -> UInt32? {
        switch name {
        case "SCMP_ACT_ALLOW": return allow
        case "SCMP_ACT_LOG": return log
        case "SCMP_ACT_TRAP": return trap
        case "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD": return killThread
        case "SCMP_ACT_KILL_PROCESS": return killProcess
        case "SCMP_ACT_ERRNO": return rs_seccomp_action_errno(errnoRet ?? UInt32(EPERM))
        case "SCMP_ACT_TRACE": return rs_seccomp_action_trace(errnoRet ?? UInt32(EPERM))
        default: return nil
        }
    }

    static func compare(_ op: String) -> UInt32? {
        ["SCMP_CMP_NE": 1, "SCMP_CMP_LT": 2, "SCMP_CMP_LE": 3, "SCMP_CMP_EQ": 4, "SCMP_CMP_GE": 5,
         "SCMP_CMP_GT": 6, "SCMP_CMP_MASKED_EQ": 7][op]
    }

    /// "SCMP_ARCH_X86_64" → "x86_64" (libseccomp's names).
    static func architecture(_ oci: String) -> String {
        var s = Substring(oci)
        if s.hasPrefix("SCMP_ARCH_") { s = s.dropFirst("SCMP_ARCH_".count) }
        return s.lowercased()
    }

    /// docker's architecture words for this machine ("amd64", "x86_64").
    static var nativeArchWords: [String] {
        var u = utsname()
        uname(&u)
        let machine = withUnsafeBytes(of: &u.machine) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        switch machine {
        case "x86_64": return ["amd64", "x86_64"]
        case "aarch64": return ["arm64", "aarch64"]
        default: return [machine]
        }
    }

    static var kernelVersion: [Int] {
        var u = utsname()
        uname(&u)
        let release = withUnsafeBytes(of: &u.release) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        return release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
    }

    /// docker's `includes`: every listed capability kept, this architecture listed, the kernel
    /// at least minKernel.
    static func includes(_ c: SeccompProfile.Condition, kept: Set<Int32>) -> Bool {
        if let caps = c.caps, !caps.allSatisfy({ Capabilities.number($0).map(kept.contains) ?? false }) { return false }
        if let arches = c.arches, !arches.contains(where: nativeArchWords.contains) { return false }
        if let v = c.minKernel, !kernelIsAtLeast(v) { return false }
        return true
    }

    /// docker's `excludes`: any listed capability kept, or this architecture listed, or the
    /// kernel at least minKernel.
    static func excludes(_ c: SeccompProfile.Condition, kept: Set<Int32>) -> Bool {
        if let caps = c.caps, caps.contains(where: { Capabilities.number($0).map(kept.contains) ?? false }) { return true }
        if let arches = c.arches, arches.contains(where: nativeArchWords.contains) { return true }
        if let v = c.minKernel, kernelIsAtLeast(v) { return true }
        return false
    }

    static func kernelIsAtLeast(_ v: String) -> Bool {
        let want = v.split(separator: ".").compactMap { Int($0) }
        return !kernelVersion.lexicographicallyPrecedes(want)
    }

    static func compile(_ p: SeccompProfile, capabilities: [String]) throws(SandboxError) -> [UInt8] {
        guard let def = action(p.defaultAction, errnoRet: p.defaultErrnoRet) else {
            throw .spec("seccomp defaultAction \(quoted(p.defaultAction))", "is not an action rsandbox can load")
        }
        var arches = (p.architectures ?? []).map(architecture)
        for m in p.archMap ?? [] where nativeArchWords.contains(architecture(m.architecture)) {
            arches += [architecture(m.architecture)] + (m.subArchitectures ?? []).map(architecture)
        }
        let kept = Set(capabilities.compactMap(Capabilities.number))
        return try build(defaultAction: def, architectures: arches) { add throws(SandboxError) in
            for (i, rule) in (p.syscalls ?? []).enumerated() {
                if let inc = rule.includes, !includes(inc, kept: kept) { continue }
                if let exc = rule.excludes, excludes(exc, kept: kept) { continue }
                guard let act = action(rule.action, errnoRet: rule.errnoRet) else {
                    throw .spec("seccomp syscalls[\(i)] action \(quoted(rule.action))", "is not an action rsandbox can load")
                }
                var args: [rs_seccomp_arg] = []
                for a in rule.args ?? [] {
                    guard let op = compare(a.op), a.index <= 5 else {
                        throw .spec("seccomp syscalls[\(i)] argument \(a.index) \(quoted(a.op))", "expected index 0-5 and an SCMP_CMP_* operator")
                    }
                    args.append(rs_seccomp_arg(index: a.index, op: op, value: a.value, value_two: a.valueTwo ?? 0))
                }
                for name in rule.allNames { try add(name, act, args) }
            }
        }
    }
}
