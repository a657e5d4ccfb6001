import CRSandbox
import Glibc

/// One line of `rsandbox doctor`: what was checked, what was found, and how to fix it.
public struct HostCheck: Sendable, Equatable {
    public var name: String
    public var ok: Bool
    /// Whether sandboxes cannot work at all without it (doctor's exit status follows these).
    public var required: Bool
    public var detail: String
    public var fix: String?

    public init(name: String, ok: Bool, required: Bool, detail: String, fix: String? = nil) {
        self.name = name
        self.ok = ok
        self.required = required
        self.detail = detail
        self.fix = fix
    }
}

/// What this host allows, read from /proc, /sys and /etc, plus one real sandbox as proof.
public struct HostProbe: Sendable {
    /// Root of the files read, for tests with fixture trees ("" is the real host).
    public var root: String
    public var caller: Caller
    public var userName: String?
    /// The rsandbox-netd socket to ask (inside `root`).
    public var netdSocket = NetdClient.defaultSocket

    public init(root: String = "", caller: Caller = .current) {
        self.root = root
        self.caller = caller
        userName = caller.userName
    }

    /// Every check, in the order doctor prints them. `live` also spawns a sandbox.
    public func run(live: Bool = true) -> [HostCheck] {
        var checks = [kernel(), maxUserNamespaces()]
        checks += [unprivilegedUsernsClone(), appArmorRestriction()].compactMap { $0 }
        checks.append(hardening())
        if live { checks += [liveSandbox(), liveOverlay()] }
        checks += cgroup()
        checks += subordinateRanges() + [idmapHelper(), netd()]
        return checks
    }

    private func read(_ path: String) -> String? {
        SystemFile.read(root + path)
    }

    /// Major and minor of a release string like "6.18.44-fc".
    public static func kernelVersion(_ release: String) -> (Int, Int)? {
        let parts = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        return parts.count == 2 ? (parts[0], parts[1]) : nil
    }

    func kernel() -> HostCheck {
        var u = utsname()
        uname(&u)
        let release = root.isEmpty
            ? withUnsafeBytes(of: &u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            : (read("/proc/sys/kernel/osrelease") ?? "").trimmingNewline
        guard let (major, minor) = Self.kernelVersion(release) else {
            return HostCheck(name: "kernel", ok: false, required: true, detail: "cannot read the release (\(release))")
        }
        let ok = (major, minor) >= (5, 12)
        return HostCheck(name: "kernel", ok: ok, required: true,
                         detail: ok ? "\(release): clone3, pidfd, close_range, mount_setattr and overlayfs in user namespaces"
                                    : "\(release) is older than 5.12 (mount_setattr for read-only binds, overlayfs in user namespaces)",
                         fix: ok ? nil : "upgrade to Linux 5.12 or newer")
    }

    func maxUserNamespaces() -> HostCheck {
        let v = read("/proc/sys/user/max_user_namespaces").flatMap { Int($0.trimmingNewline) }
        guard let v else {
            return HostCheck(name: "user namespaces", ok: false, required: true,
                             detail: "/proc/sys/user/max_user_namespaces is missing: the kernel lacks CONFIG_USER_NS",
                             fix: "use a kernel built with CONFIG_USER_NS=y")
        }
        return HostCheck(name: "user namespaces", ok: v > 0, required: true,
                         detail: "user.max_user_namespaces = \(v)",
                         fix: v > 0 ? nil : "sysctl -w user.max_user_namespaces=15000 (and in /etc/sysctl.d/)")
    }

    func unprivilegedUsernsClone() -> HostCheck? {
        guard let s = read("/proc/sys/kernel/unprivileged_userns_clone") else { return nil }
        let on = s.trimmingNewline == "1"
        return HostCheck(name: "unprivileged user namespaces", ok: on || caller.isRoot, required: true,
                         detail: "kernel.unprivileged_userns_clone = \(s.trimmingNewline)",
                         fix: on ? nil : "sysctl -w kernel.unprivileged_userns_clone=1 (and in /etc/sysctl.d/)")
    }

    func appArmorRestriction() -> HostCheck? {
        guard let s = read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") else { return nil }
        let restricted = s.trimmingNewline == "1"
        return HostCheck(name: "AppArmor user namespace restriction", ok: !restricted || caller.isRoot, required: true,
                         detail: "kernel.apparmor_restrict_unprivileged_userns = \(s.trimmingNewline)"
                            + (restricted ? ": unconfined programs may not get capabilities in a new user namespace" : ""),
                         fix: restricted ? "install the AppArmor profile for rsandbox (docs/install.md), or sysctl -w kernel.apparmor_restrict_unprivileged_userns=0" : nil)
    }

    /// What every sandbox applies (docs/security.md): the kernel must take a seccomp filter.
    func hardening() -> HostCheck {
        let name = "hardening"
        let status = read("/proc/self/status") ?? ""
        guard status.contains("\nSeccomp:") else {
            return HostCheck(name: name, ok: false, required: true,
                             detail: "this kernel has no seccomp (no Seccomp: line in /proc/self/status)",
                             fix: "a kernel built with CONFIG_SECCOMP_FILTER (every distribution kernel is)")
        }
        do {
            let program = try SeccompFilter.program(.default, nestedUserNamespaces: false, capabilities: [])
            let n = (program?.count ?? 0) / 8
            return HostCheck(name: name, ok: true, required: true,
                             detail: "every capability dropped (--cap-add acts only inside the sandbox's user namespace), "
                                + "no_new_privs, seccomp deny-list of \(n) instructions with the 32-bit ABIs")
        } catch {
            return HostCheck(name: name, ok: false, required: true, detail: "the seccomp filter does not build: \(error)")
        }
    }

    func liveSandbox() -> HostCheck {
        let spec = SandboxSpec(argv: ["true"], environment: EnvironmentSpec(inherit: false),
                               namespaces: .all)
        do {
            let box = try Sandbox.spawn(spec, caller: caller)
            let status = try box.waitBlocking()
            let ok = status.shellCode == 0
            return HostCheck(name: "sandbox", ok: ok, required: true,
                             detail: ok ? "created user, pid, mount, net, ipc, uts and cgroup namespaces and ran `true`"
                                        : "`true` in a sandbox ended with \(status.shellCode)")
        } catch {
            return HostCheck(name: "sandbox", ok: false, required: true,
                             detail: "a sandbox with all namespaces failed: \(error)",
                             fix: error.hint ?? "see the checks above")
        }
    }

    /// A temporary native overlay in a user namespace: what --tmp-overlay and --overlay need.
    func liveOverlay() -> HostCheck {
        let spec = SandboxSpec(argv: ["true"], environment: EnvironmentSpec(inherit: false),
                               mounts: [.bind(source: "/", destination: "/", options: .readOnly),
                                        .overlay(lowers: ["/usr"], destination: "/usr", mode: .temporary)])
        do {
            let box = try Sandbox.spawn(spec, caller: caller)
            let status = try box.waitBlocking()
            return HostCheck(name: "overlayfs", ok: status.shellCode == 0, required: false,
                             detail: status.shellCode == 0 ? "native overlayfs works in a user namespace (userxattr, upper on tmpfs)"
                                                            : "the overlay probe ended with \(status.shellCode)")
        } catch {
            return HostCheck(name: "overlayfs", ok: false, required: false,
                             detail: "native overlayfs in a user namespace failed: \(error)",
                             fix: "Linux 5.11+ for overlayfs in user namespaces, 6.6+ for a temporary overlay (tmpfs user xattrs); rsandbox has no fuse fallback")
        }
    }

    /// The cgroup2 mount point from mountinfo (field 5 is the mount point; the fstype follows " - ").
    public static func cgroup2Mount(mountinfo: String) -> String? {
        for line in mountinfo.split(separator: "\n") {
            let halves = line.split(separator: " - ", maxSplits: 1)
            guard halves.count == 2, halves[1].split(separator: " ").first == "cgroup2" else { continue }
            let fields = halves[0].split(separator: " ")
            if fields.count >= 5 { return unescapeMountPath(String(fields[4])) }
        }
        return nil
    }

    /// Our cgroup v2 path from /proc/self/cgroup (the "0::" line).
    public static func cgroup2Path(procSelfCgroup: String) -> String? {
        for line in procSelfCgroup.split(separator: "\n") where line.hasPrefix("0::") {
            return String(line.dropFirst(3))
        }
        return nil
    }

    static func unescapeMountPath(_ s: String) -> String {
        // mountinfo escapes space, tab, newline and backslash as \ooo.
        var out = [UInt8]()
        var bytes = Array(s.utf8)[...]
        while let b = bytes.popFirst() {
            if b == UInt8(ascii: "\\"), bytes.count >= 3,
               let v = UInt8(String(decoding: bytes.prefix(3), as: UTF8.self), radix: 8) {
                out.append(v)
                bytes = bytes.dropFirst(3)
            } else {
                out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    func cgroup() -> [HostCheck] {
        guard let (mount, path, dir) = Cgroup2.locate(root: root) else {
            return [HostCheck(name: "cgroup2", ok: false, required: false,
                              detail: "no cgroup2 hierarchy is mounted: resource limits are unavailable",
                              fix: "boot with systemd.unified_cgroup_hierarchy=1 or mount cgroup2")]
        }
        let controllers = SystemFile.words(dir + "/cgroup.controllers")
        let mountCheck = HostCheck(name: "cgroup2", ok: true, required: false,
                                   detail: "mounted at \(mount); this process is in \(path)")
        let writable = access(dir, W_OK) == 0 && access(dir + "/cgroup.procs", W_OK) == 0
            && access(dir + "/cgroup.subtree_control", W_OK) == 0
        let needed = ["memory", "cpu", "pids"]
        let missing = needed.filter { !controllers.contains($0) }
        // cgroup2 lets no process sit in a cgroup whose children get controllers: others in ours
        // (a shell, a service manager) make it unusable unless the controllers are already on.
        let enabled = SystemFile.words(dir + "/cgroup.subtree_control")
        let others = (SystemFile.read(dir + "/cgroup.procs") ?? "").split(separator: "\n").filter { $0 != "\(getpid())" }
        let crowded = !others.isEmpty && !needed.allSatisfy(enabled.contains)
        let ok = writable && missing.isEmpty && !crowded
        var detail = writable ? "\(path) is writable by you" : "\(path) is not delegated to you (not writable)"
        detail += "; controllers: " + (controllers.isEmpty ? "none" : controllers.joined(separator: " "))
        if !missing.isEmpty { detail += "; missing " + missing.joined(separator: " ") }
        if writable && missing.isEmpty && crowded { detail += "; \(others.count) other process\(others.count == 1 ? "" : "es") share it, so limits need a scope of their own" }
        if !ok, root.isEmpty, let manager = Self.systemdUserManager() {
            return [mountCheck, HostCheck(
                name: "cgroup delegation", ok: true, required: false,
                detail: detail + "; a systemd --user manager runs (\(manager)): `rsandbox run` puts limited sandboxes in a transient Delegate=yes scope")]
        }
        return [mountCheck, HostCheck(
            name: "cgroup delegation", ok: ok, required: false,
            detail: detail + (ok ? "" : ": resource limits are unavailable here"),
            fix: ok ? nil : "run under `systemd-run --user --scope -p Delegate=yes`, or have an admin chown a cgroup2 directory (with memory, cpu and pids enabled) to you (docs/limits.md)")]
    }

    /// The private socket of our systemd user manager, if one runs ($XDG_RUNTIME_DIR, else
    /// /run/user/UID, as systemd-run looks).
    public static func systemdUserManager() -> String? {
        let dir = getenv("XDG_RUNTIME_DIR").map { String(cString: $0) } ?? "/run/user/\(getuid())"
        let socket = dir + "/systemd/private"
        return access(socket, F_OK) == 0 ? socket : nil
    }

    /// The caller's ranges in an /etc/subuid-style file: "name-or-uid:start:count" lines.
    public static func subordinateRanges(_ text: String, user: String?, uid: UInt32) -> [(start: UInt32, count: UInt32)] {
        var out: [(UInt32, UInt32)] = []
        for line in text.split(separator: "\n") {
            let f = line.split(separator: ":", omittingEmptySubsequences: false)
            guard f.count == 3, let start = UInt32(f[1]), let count = UInt32(f[2]), count > 0 else { continue }
            if f[0] == "\(uid)" || (user != nil && f[0] == user!) {
                out.append((start, count))
            }
        }
        return out
    }

    func subordinateRanges() -> [HostCheck] {
        let sub = SubordinateIDs(caller: caller, root: root, userName: userName)
        let who = userName ?? "uid \(caller.uid)"
        return [("subuid", sub.uids), ("subgid", sub.gids)].map { kind, ranges in
            if ranges.isEmpty {
                return HostCheck(name: kind, ok: false, required: false,
                                 detail: "no range for \(who) in /etc/\(kind): only your own id can be mapped",
                                 fix: "usermod --add-sub\(kind == "subuid" ? "uids" : "gids") 100000-165535 \(who)")
            }
            let text = ranges.map { "\($0.outside)-\(UInt64($0.outside) + UInt64($0.count) - 1) (\($0.count))" }.joined(separator: ", ")
            return HostCheck(name: kind, ok: true, required: false, detail: "\(who): \(text)")
        }
    }

    func idmapHelper() -> HostCheck {
        guard let path = IDMapHelper.locate() else {
            return HostCheck(name: "rsandbox-idmap", ok: false, required: false,
                             detail: "not installed: subordinate range maps are unavailable",
                             fix: "sudo scripts/install-helpers (docs/idmap.md)")
        }
        let caps = Self.fileCapabilities(path)
        let needed: UInt64 = (1 << 6) | (1 << 7) // CAP_SETGID, CAP_SETUID
        let ok = caps.map { $0.permitted & needed == needed && $0.effective } ?? false
        return HostCheck(name: "rsandbox-idmap", ok: ok, required: false,
                         detail: ok ? "\(path) has cap_setuid,cap_setgid+ep"
                                    : "\(path) lacks its file capabilities (copied, or on a filesystem without xattrs?)",
                         fix: ok ? nil : "sudo setcap cap_setuid,cap_setgid+ep \(path)")
    }

    /// Whether rsandbox-netd answers on its socket, and the caller's quota there.
    func netd() -> HostCheck {
        let sock = root + netdSocket
        do {
            let quota = try NetdClient(socket: sock).status()
            return HostCheck(name: "rsandbox-netd", ok: true, required: false,
                             detail: "reachable at \(sock); " + (quota.isEmpty ? "no bridge is yours in its netd.conf" : "your NICs in use/allowed: \(quota)"),
                             fix: nil)
        } catch {
            return HostCheck(name: "rsandbox-netd", ok: false, required: false,
                             detail: "\(error.reason): --net bridge is unavailable",
                             fix: "set up and start rsandbox-netd (docs/networking.md)")
        }
    }

    /// This executable's path, from /proc/self/exe.
    public static func executablePath() -> String? {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func executableDirectory() -> String? {
        guard let path = executablePath(), let slash = path.lastIndex(of: "/") else { return nil }
        return String(path[..<slash])
    }

    /// The permitted set and effective bit of a file's security.capability xattr.
    public static func fileCapabilities(_ path: String) -> (permitted: UInt64, effective: Bool)? {
        var raw = [UInt32](repeating: 0, count: 6)
        let n = raw.withUnsafeMutableBytes { rs_getxattr(path, "security.capability", $0.baseAddress, UInt($0.count)) }
        guard n >= 12 else { return nil }
        let permitted = UInt64(raw[1]) | (n >= 20 ? UInt64(raw[3]) << 32 : 0)
        return (permitted, raw[0] & 1 != 0)
    }
}
