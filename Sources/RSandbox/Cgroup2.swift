import Glibc

/// A delegated cgroup2 subtree: where the supervisor sits and each sandbox gets a leaf.
/// Found from /proc/self/mountinfo and /proc/self/cgroup, never assumed at /sys/fs/cgroup.
struct Cgroup2 {
    /// The directory of our cgroup (the delegated subtree's root).
    let base: String

    /// Our cgroup, checked to be usable for `controllers`, with the supervisor moved into a leaf
    /// of its own and the controllers enabled for its siblings. Throws what is missing.
    static func prepare(for controllers: [String]) throws(SandboxError) -> Cgroup2 {
        let hint = "run under `systemd-run --user --scope -p Delegate=yes rsandbox …`, or have an admin delegate a cgroup2 directory to you (docs/limits.md); `rsandbox doctor` shows what this host allows"
        guard var base = locate()?.dir else {
            throw SandboxError(stage: .cgroup, errno: ENOENT, item: "cgroup2", reason: "no cgroup2 hierarchy is mounted", hint: hint)
        }
        // Already in one of our supervisor leaves (an earlier sandbox of this process): use its parent.
        if let slash = base.lastIndex(of: "/"), base[base.index(after: slash)...].hasPrefix(supervisorPrefix) {
            base = String(base[..<slash])
        }
        for file in ["", "/cgroup.procs", "/cgroup.subtree_control"] where access(base + file, W_OK) != 0 {
            throw SandboxError(stage: .cgroup, errno: errno, item: base + file,
                               reason: "not delegated to you: \(errorString(errno))", hint: hint)
        }
        let available = SystemFile.words(base + "/cgroup.controllers")
        let missing = controllers.filter { !available.contains($0) }
        if !missing.isEmpty {
            throw SandboxError(stage: .cgroup, errno: ENOTSUP, item: base + "/cgroup.controllers",
                               reason: "controller\(missing.count > 1 ? "s" : "") \(missing.joined(separator: " ")) not available (have: \(available.isEmpty ? "none" : available.joined(separator: " ")))",
                               hint: hint)
        }
        let cg = Cgroup2(base: base)
        cg.collectStale()
        let enabled = SystemFile.words(base + "/cgroup.subtree_control")
        let toEnable = controllers.filter { !enabled.contains($0) }
        if !toEnable.isEmpty {
            // No internal processes: the supervisor moves into a leaf before the subtree gets controllers.
            let leaf = base + "/" + supervisorPrefix + String(getpid())
            if mkdir(leaf, 0o755) != 0 && errno != EEXIST {
                throw .system(.cgroup, errno, item: leaf, hint: hint)
            }
            do { try SystemFile.write(leaf + "/cgroup.procs", "0") } catch {
                throw .system(.cgroup, error.errno, item: leaf + "/cgroup.procs", hint: hint)
            }
            do { try SystemFile.write(base + "/cgroup.subtree_control", toEnable.map { "+" + $0 }.joined(separator: " ")) } catch {
                throw SandboxError(stage: .cgroup, errno: error.errno, item: base + "/cgroup.subtree_control",
                                   reason: errorString(error.errno) + (error.errno == EBUSY ? " (other processes are in \(base))" : ""),
                                   hint: hint)
            }
        }
        return cg
    }

    /// `prepare`, and where our cgroup cannot hold the limits but a systemd user manager runs,
    /// a transient Delegate=yes scope for this process first (SystemdScope), then `prepare` there.
    static func prepareDelegated(for controllers: [String]) throws(SandboxError) -> Cgroup2 {
        do {
            return try prepare(for: controllers)
        } catch {
            guard let socket = HostProbe.systemdUserManager() else { throw error }
            let unit: String
            do { unit = try SystemdScope.enter(socket: socket) } catch let scopeError {
                throw SandboxError(stage: .cgroup, errno: scopeError.errno, item: scopeError.item,
                                   reason: scopeError.reason + " (asked for because \(error.item): \(error.reason))", hint: error.hint)
            }
            do { return try prepare(for: controllers) } catch let again {
                throw SandboxError(stage: .cgroup, errno: again.errno, item: again.item,
                                   reason: again.reason + " (in the systemd scope \(unit))", hint: again.hint)
            }
        }
    }

    /// The cgroup2 mount (from mountinfo), our cgroup in it (from /proc/self/cgroup) and its
    /// directory; files are read under `root` (fixture trees in tests).
    static func locate(root: String = "") -> (mount: String, path: String, dir: String)? {
        guard let mount = SystemFile.read(root + "/proc/self/mountinfo").flatMap(HostProbe.cgroup2Mount) else { return nil }
        let path = SystemFile.read(root + "/proc/self/cgroup").flatMap(HostProbe.cgroup2Path) ?? "/"
        return (mount, path, root + mount + (path == "/" ? "" : path))
    }

    static let supervisorPrefix = "rsandbox-supervisor-"
    static let leafPrefix = "rsandbox-"

    /// A new leaf for one sandbox, with the limits written. The caller owns it (Leaf.remove()).
    func makeLeaf(limits: CgroupLimits) throws(SandboxError) -> Leaf {
        var counter = 0
        var path = ""
        while true {
            path = base + "/" + Self.leafPrefix + "\(getpid())-\(counter)"
            if mkdir(path, 0o755) == 0 { break }
            if errno != EEXIST { throw .system(.cgroup, errno, item: path) }
            counter += 1
        }
        let leaf = Leaf(path: path)
        for (file, value) in limits.files {
            do { try SystemFile.write(path + "/" + file, value) } catch {
                leaf.remove()
                throw SandboxError(stage: .cgroup, errno: error.errno, item: "\(path)/\(file) \(quoted(value))",
                                   reason: errorString(error.errno))
            }
        }
        return leaf
    }

    /// Leaves of supervisors that died (SIGKILL) are killed and removed by the next run.
    func collectStale() {
        guard let dir = opendir(base) else { return }
        defer { closedir(dir) }
        var stale: [String] = []
        while let e = readdir(dir) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            let rest: Substring
            if name.hasPrefix(Self.supervisorPrefix) { rest = name.dropFirst(Self.supervisorPrefix.count) }
            else if name.hasPrefix(Self.leafPrefix) { rest = name.dropFirst(Self.leafPrefix.count).prefix { $0 != "-" } }
            else { continue }
            guard let pid = Int32(rest), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            stale.append(base + "/" + name)
        }
        for path in stale { Leaf(path: path).remove() }
    }

    /// One sandbox's cgroup: limits in, results out, everything in it killed on the way out.
    final class Leaf: @unchecked Sendable {
        let path: String
        init(path: String) { self.path = path }

        func open() -> Int32 {
            Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        }

        /// What the kernel recorded: OOM kills, peak memory, CPU time.
        func usage() -> CgroupUsage {
            var u = CgroupUsage()
            if let events = SystemFile.read(path + "/memory.events") {
                u.oomKills = Self.field("oom_kill", in: events).map { Int($0) } ?? 0
            }
            u.memoryPeak = SystemFile.read(path + "/memory.peak").flatMap { UInt64($0.trimmingNewline) }
            if let stat = SystemFile.read(path + "/cpu.stat") {
                u.cpuUser = Self.field("user_usec", in: stat).map { Duration.microseconds(Int64($0)) }
                u.cpuSystem = Self.field("system_usec", in: stat).map { Duration.microseconds(Int64($0)) }
            }
            return u
        }

        static func field(_ name: String, in text: String) -> UInt64? {
            for line in text.split(separator: "\n") {
                let f = line.split(separator: " ")
                if f.count == 2, f[0] == name { return UInt64(f[1]) }
            }
            return nil
        }

        /// Kills every process in the leaf at once (cgroup.kill, Linux 5.14).
        func kill() {
            try? SystemFile.write(path + "/cgroup.kill", "1")
        }

        /// Kills what is left (double-forked daemons too) and removes the leaf.
        func remove() {
            kill()
            for _ in 0..<200 {
                if rmdir(path) == 0 || errno == ENOENT { return }
                usleep(5_000)
            }
        }
    }
}

/// What a sandbox used, from its cgroup.
public struct CgroupUsage: Sendable, Equatable {
    public var oomKills: Int = 0
    public var memoryPeak: UInt64? = nil
    public var cpuUser: Duration? = nil
    public var cpuSystem: Duration? = nil
    public init() {}
}
