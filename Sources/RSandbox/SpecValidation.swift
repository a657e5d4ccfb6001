import Glibc

/// The longest hostname the kernel takes (HOST_NAME_MAX).
let hostnameMax = 64

extension SandboxSpec {
    /// Refuses a spec that cannot work, before anything is done. The error names the field and
    /// the value. `caller` defaults to this process's effective ids.
    public func validate(caller: Caller = .current, subordinateIDs: SubordinateIDs? = nil) throws(SandboxError) {
        try validateCommand()
        try validateEnvironment()
        try validateCwdAndHostname()
        try validateNamespaces(caller: caller)
        if idMapping.isSingle {
            try validateIdentity(caller: caller)
        } else {
            try validateRangeMaps(caller: caller, subordinateIDs ?? SubordinateIDs(caller: caller))
        }
        try validateFds()
        try validateFilesystem()
        try limits?.validate()
        try validateSecurity()
        try validateNetwork()
        if let t = timeout, t <= .zero {
            throw .spec("timeout \(t)", "must be greater than zero")
        }
    }

    /// A NIC needs a network namespace of the sandbox's own; bridge names are netd's rule.
    private func validateNetwork() throws(SandboxError) {
        if case .user(let forwards)? = network {
            if !namespaces.net || !namespaces.user {
                throw .spec("net user", "pasta needs a network namespace and a user namespace of the sandbox's own")
            }
            for f in forwards {
                if f.hostPort == 0 || f.sandboxPort == 0 {
                    throw .spec("publish \"\(f)\"", "ports are 1-65535")
                }
                if let a = f.hostAddress, !PortForward.isAddressLiteral(a) {
                    throw .spec("publish \(quoted(printable(f.description)))", "host address \(quoted(printable(a))) is not an IPv4 or IPv6 address")
                }
            }
        }
        guard case .bridge(let name, _)? = network else { return }
        if !namespaces.net {
            throw .spec("net bridge=\(name)", "a bridge NIC needs a network namespace of its own (not --share-net)")
        }
        let b = Array(name.utf8)
        let allowed = { (c: UInt8) in (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D || c == 0x5F }
        if b.isEmpty || b.count > 15 || !b.allSatisfy(allowed) {
            throw .spec("net bridge=\(quoted(printable(name)))", "a bridge name is 1-15 characters of A-Z a-z 0-9 _ -")
        }
    }

    private func validateCommand() throws(SandboxError) {
        guard let first = argv.first else {
            throw .spec("argv", "is empty: give the command to run")
        }
        if first.isEmpty {
            throw .spec("argv[0] \"\"", "is empty: give the command to run")
        }
        for (i, a) in argv.enumerated() where a.utf8.contains(0) {
            throw .spec("argv[\(i)] \(quoted(printable(a)))", "contains a NUL byte")
        }
    }

    private func validateEnvironment() throws(SandboxError) {
        for name in environment.unset {
            try Self.checkEnvName(name, field: "unsetenv")
        }
        for v in environment.set {
            try Self.checkEnvName(v.name, field: "setenv")
            if v.value.utf8.contains(0) {
                throw .spec("setenv \(v.name)", "value contains a NUL byte")
            }
        }
    }

    static func checkEnvName(_ name: String, field: String) throws(SandboxError) {
        if name.isEmpty {
            throw .spec("\(field) \"\"", "an environment variable name cannot be empty")
        }
        if name.utf8.contains(UInt8(ascii: "=")) {
            throw .spec("\(field) \(quoted(printable(name)))",
                        "an environment variable name cannot contain '='")
        }
        if name.utf8.contains(0) {
            throw .spec("\(field) \(quoted(printable(name)))",
                        "an environment variable name cannot contain a NUL byte")
        }
    }

    private func validateCwdAndHostname() throws(SandboxError) {
        if let cwd {
            if !cwd.hasPrefix("/") {
                throw .spec("cwd \(quoted(printable(cwd)))", "must be an absolute path")
            }
            if cwd.utf8.contains(0) {
                throw .spec("cwd \(quoted(printable(cwd)))", "contains a NUL byte")
            }
        }
        if let hostname {
            let item = "hostname \(quoted(printable(hostname)))"
            if hostname.isEmpty {
                throw .spec(item, "cannot be empty")
            }
            if hostname.utf8.count > hostnameMax {
                throw .spec(item, "is \(hostname.utf8.count) bytes long; the kernel takes at most \(hostnameMax)")
            }
            if hostname.utf8.contains(0) {
                throw .spec(item, "contains a NUL byte")
            }
            if !namespaces.uts {
                throw .spec(item, "needs a new uts namespace (setting it would change the host's)",
                            hint: "add --unshare-uts or --unshare-all")
            }
        }
    }

    private func validateNamespaces(caller: Caller) throws(SandboxError) {
        let ns = namespaces
        let others = ns.enabledNames.filter { $0 != "user" }
        if !ns.user && !others.isEmpty && !caller.isRoot {
            throw .spec("namespaces \(others.joined(separator: ","))",
                        "need a new user namespace when not running as root",
                        hint: "add --unshare-user (on by default) or run as root")
        }
        if ns.pid && !ns.mount {
            throw .spec("namespaces pid without mount",
                        "a new pid namespace needs its own /proc, which needs a new mount namespace",
                        hint: "add --unshare-mount")
        }
        if commandIsPid1 && !ns.pid {
            throw .spec("as-pid-1", "the command can only be pid 1 of a new pid namespace",
                        hint: "add --unshare-pid")
        }
    }

    private func validateIdentity(caller: Caller) throws(SandboxError) {
        if idMapping == .root {
            for (field, asked) in [("uid", uid), ("gid", gid)] {
                if let asked, asked != 0 {
                    throw .spec("\(field) \(asked)", "with the root map the \(field) inside is 0")
                }
            }
            if !namespaces.user {
                throw .spec("map root", "needs a new user namespace", hint: "add --unshare-user")
            }
        }
        for (field, asked, own) in [("uid", uid, caller.uid), ("gid", gid, caller.gid)] {
            guard let asked, asked != own else { continue }
            if !namespaces.user {
                throw .spec("\(field) \(asked)",
                            "changing the \(field) needs a new user namespace",
                            hint: "add --unshare-user")
            }
            if asked != 0 {
                throw .spec("\(field) \(asked)",
                            "only your own \(field) (\(own)) or 0 can be mapped without a subordinate range",
                            hint: "use --\(field) 0 or --\(field) \(own)")
            }
        }
    }

    private func validateRangeMaps(caller: Caller, _ sub: SubordinateIDs) throws(SandboxError) {
        guard namespaces.user else {
            throw .spec("id maps", "need a new user namespace", hint: "add --unshare-user")
        }
        if idMapping == .auto && !caller.isRoot {
            let who = caller.displayName
            if sub.uids.isEmpty {
                throw .spec("map auto", "no range for \(who) in /etc/subuid",
                            hint: "usermod --add-subuids 100000-165535 \(who); `rsandbox doctor` shows your ranges")
            }
            if sub.gids.isEmpty {
                throw .spec("map auto", "no range for \(who) in /etc/subgid",
                            hint: "usermod --add-subgids 100000-165535 \(who); `rsandbox doctor` shows your ranges")
            }
        }
        let (uids, gids) = idMapping.lines(uid: uid, gid: gid, caller: caller, subordinateIDs: sub)
        try SubordinateIDs.check(uids, kind: .uid, own: caller.uid, entries: sub.uids, root: caller.isRoot)
        try SubordinateIDs.check(gids, kind: .gid, own: caller.gid, entries: sub.gids, root: caller.isRoot)
        if let uid, !SubordinateIDs.maps(uid, in: uids) {
            throw .spec("uid \(uid)", "is not mapped by the uid map")
        }
        if let gid, !SubordinateIDs.maps(gid, in: gids) {
            throw .spec("gid \(gid)", "is not mapped by the gid map")
        }
    }

    private func validateFds() throws(SandboxError) {
        var seen: Set<Int32> = []
        for m in fds {
            let item = "fd \(m.source)->\(m.target)"
            if m.source < 0 || m.target < 0 {
                throw .spec(item, "descriptor numbers cannot be negative")
            }
            if !seen.insert(m.target).inserted {
                throw .spec(item, "fd \(m.target) is the target of more than one mapping")
            }
            if fcntl(m.source, F_GETFD) < 0 {
                throw .spec(item, "fd \(m.source) is not open in this process: \(errorString(Glibc.errno))")
            }
        }
    }

    private func validateSecurity() throws(SandboxError) {
        for name in capabilities where Capabilities.number(name) == nil {
            throw .spec("capability \(quoted(printable(name)))",
                        "is not a capability this kernel knows (see capabilities(7); e.g. CAP_NET_ADMIN)")
        }
        guard case .profile(let p) = seccomp else { return }
        if SeccompFilter.action(p.defaultAction, errnoRet: p.defaultErrnoRet) == nil {
            throw .spec("seccomp defaultAction \(quoted(printable(p.defaultAction)))", Self.actionWords)
        }
        for (i, rule) in (p.syscalls ?? []).enumerated() {
            if rule.allNames.isEmpty {
                throw .spec("seccomp syscalls[\(i)]", "names no syscall")
            }
            if SeccompFilter.action(rule.action, errnoRet: rule.errnoRet) == nil {
                throw .spec("seccomp syscalls[\(i)] action \(quoted(printable(rule.action)))", Self.actionWords)
            }
            for a in rule.args ?? [] where a.index > 5 || SeccompFilter.compare(a.op) == nil {
                throw .spec("seccomp syscalls[\(i)] argument \(a.index) \(quoted(printable(a.op)))",
                            "expected an index 0-5 and one of SCMP_CMP_EQ, NE, LT, LE, GT, GE, MASKED_EQ")
            }
        }
    }

    static let actionWords = "expected SCMP_ACT_ALLOW, ERRNO, KILL, KILL_THREAD, KILL_PROCESS, TRAP, TRACE or LOG "
        + "(SCMP_ACT_NOTIFY needs a listener rsandbox does not provide)"
}

extension SandboxSpec {
    fileprivate func validateFilesystem() throws(SandboxError) {
        guard buildsNewRoot else { return }
        if !namespaces.mount {
            throw .spec(rootfs != nil ? "rootfs \(quoted(rootfs!))" : mounts[0].summary,
                        "a root of its own needs a new mount namespace", hint: "add --unshare-mount")
        }
        if let rootfs {
            try Self.checkHostPath(rootfs, item: "rootfs \(quoted(printable(rootfs)))")
        }
        for (i, m) in mounts.enumerated() {
            // Built only for an error: validating hundreds of binds should cost next to nothing.
            var item: String { "mount \(i + 1) (\(printable(m.summary)))" }
            try Self.checkDestination(m.destination, item: item)
            switch m {
            case .bind(let source, _, _):
                try Self.checkHostPath(source, item: item)
            case .tmpfs(_, let size, let mode):
                if size == 0 { throw .spec(item, "a tmpfs size must be greater than zero") }
                if let mode, mode > 0o7777 { throw .spec(item, "mode 0\(String(mode, radix: 8)) is not a file mode") }
            case .dir(_, let mode?), .file(_, _, let mode?), .chmod(_, let mode):
                if mode > 0o7777 { throw .spec(item, "mode 0\(String(mode, radix: 8)) is not a file mode") }
            case .symlink(let target, _):
                if target.isEmpty || target.utf8.contains(0) {
                    throw .spec(item, "a symlink needs a target without NUL bytes")
                }
            case .overlay(let lowers, _, let mode):
                if lowers.isEmpty { throw .spec(item, "an overlay needs at least one lower directory (--overlay-src)") }
                if mode == .readOnly && lowers.count < 2 {
                    throw .spec(item, "a read-only overlay needs at least two lower directories (the kernel's rule)",
                                hint: "for one directory use --ro-bind")
                }
                for l in lowers { try Self.checkHostPath(l, item: item) }
                if case .persistent(let upper, let work) = mode {
                    try Self.checkHostPath(upper, item: item)
                    try Self.checkHostPath(work, item: item)
                }
            default:
                break
            }
        }
    }

    /// A path on the host: absolute, no NUL.
    static func checkHostPath(_ path: String, item: @autoclosure () -> String) throws(SandboxError) {
        if !path.hasPrefix("/") {
            throw .spec(item(), "\(quoted(printable(path))) must be an absolute path")
        }
        if path.utf8.contains(0) {
            throw .spec(item(), "\(quoted(printable(path))) contains a NUL byte")
        }
    }

    /// A path inside the sandbox: absolute, and no "." or ".." (it is resolved in the new root).
    static func checkDestination(_ path: String, item: @autoclosure () -> String) throws(SandboxError) {
        try checkHostPath(path, item: item())
        if path.split(separator: "/").contains(where: { $0 == "." || $0 == ".." }) {
            throw .spec(item(), "destination \(quoted(printable(path))) cannot contain . or .. components")
        }
    }
}

/// Shows control characters as escapes so an error line stays one line.
func printable(_ s: String) -> String {
    var out = ""
    for u in s.unicodeScalars {
        if u.value < 0x20 || u.value == 0x7f {
            out += "\\x" + String(u.value, radix: 16, uppercase: false)
        } else {
            out.unicodeScalars.append(u)
        }
    }
    return out

}
