/// What the user asked for: the command, its environment and the namespaces around it.
/// A value: build it, `validate()` it, hand it to `Sandbox.spawn`.
public struct SandboxSpec: Codable, Sendable, Equatable {
    /// The command and its arguments. `argv[0]` without a `/` is looked up in the sandbox's PATH.
    public var argv: [String]
    public var environment: EnvironmentSpec
    /// Absolute working directory inside the sandbox; nil keeps the caller's.
    public var cwd: String?
    /// Hostname inside a new UTS namespace; nil keeps the inherited one.
    public var hostname: String?
    public var namespaces: Namespaces
    /// The uid seen inside; nil is the caller's own. Without a range map only the caller's uid or 0.
    public var uid: UInt32?
    /// The gid seen inside; nil is the caller's own.
    public var gid: UInt32?
    /// Descriptors the command receives, at the given numbers. Everything else (but stdio) is closed.
    public var fds: [FileDescriptorMapping]
    /// Kill the whole sandbox after this long. The status then says `timedOut`.
    public var timeout: Duration?
    /// Kill the sandbox when the process that spawned it dies (PR_SET_PDEATHSIG + pid namespace).
    public var dieWithParent: Bool
    /// Exec the command as pid 1 of the new pid namespace instead of under the reaper.
    public var commandIsPid1: Bool
    /// A directory tree to use as the root (bound recursively, then pivot_root into it).
    public var rootfs: String?
    /// Filesystem steps, in order. With none and no rootfs the sandbox sees the host's tree.
    public var mounts: [Mount]
    /// Put the command in a session of its own, away from the caller's terminal (TIOCSTI).
    public var newSession: Bool
    /// Make fd 0 (a terminal) the command's controlling terminal, as session leader (shells).
    public var controllingTerminal: Bool
    /// How ids inside map to ids outside (ranges go through the rsandbox-idmap helper).
    public var idMapping: IDMapping
    /// The rsandbox-idmap to run; nil looks next to the executable and in the install dirs.
    public var idmapHelper: String?
    /// Resource limits (a cgroup2 leaf in a delegated subtree); nil: none, and no cgroup work.
    public var limits: CgroupLimits?
    /// The capabilities the command keeps ("CAP_NET_ADMIN"); every other one is dropped from all
    /// five sets before exec, also for uid 0 inside. They act only inside the sandbox's user
    /// namespace: adding one never reaches beyond what that namespace holds.
    public var capabilities: [String]
    /// The seccomp filter, loaded last before exec (no_new_privs is always set).
    public var seccomp: SeccompPolicy
    /// Let the command make user namespaces of its own (nested sandboxes: rsandbox, bwrap, podman
    /// inside). Off: the default filter refuses new user namespaces and the mount API, and
    /// /proc's kernel files are masked. On: none of those three (a masked /proc cannot be
    /// mounted again by a nested sandbox, the kernel refuses it).
    public var nestedUserNamespaces: Bool
    /// A NIC for the sandbox's own network namespace (needs `namespaces.net`); nil: only lo.
    public var network: NetworkAttachment?

    public init(
        argv: [String],
        environment: EnvironmentSpec = EnvironmentSpec(),
        cwd: String? = nil,
        hostname: String? = nil,
        namespaces: Namespaces = .default,
        uid: UInt32? = nil,
        gid: UInt32? = nil,
        fds: [FileDescriptorMapping] = [],
        timeout: Duration? = nil,
        dieWithParent: Bool = true,
        commandIsPid1: Bool = false,
        rootfs: String? = nil,
        mounts: [Mount] = [],
        newSession: Bool = true,
        controllingTerminal: Bool = false,
        idMapping: IDMapping = .current,
        idmapHelper: String? = nil,
        limits: CgroupLimits? = nil,
        capabilities: [String] = [],
        seccomp: SeccompPolicy = .default,
        nestedUserNamespaces: Bool = false,
        network: NetworkAttachment? = nil
    ) {
        self.argv = argv
        self.environment = environment
        self.cwd = cwd
        self.hostname = hostname
        self.namespaces = namespaces
        self.uid = uid
        self.gid = gid
        self.fds = fds
        self.timeout = timeout
        self.dieWithParent = dieWithParent
        self.commandIsPid1 = commandIsPid1
        self.rootfs = rootfs
        self.mounts = mounts
        self.newSession = newSession
        self.controllingTerminal = controllingTerminal
        self.idMapping = idMapping
        self.idmapHelper = idmapHelper
        self.limits = limits
        self.capabilities = capabilities
        self.seccomp = seccomp
        self.nestedUserNamespaces = nestedUserNamespaces
        self.network = network
    }

    /// Whether the sandbox gets a root of its own (any mount, or a rootfs).
    public var buildsNewRoot: Bool { rootfs != nil || !mounts.isEmpty }
}

/// Which namespaces to create. Each is on or off.
public struct Namespaces: Codable, Sendable, Equatable {
    public var user: Bool
    public var pid: Bool
    public var mount: Bool
    public var net: Bool
    public var ipc: Bool
    public var uts: Bool
    public var cgroup: Bool

    public init(user: Bool = false, pid: Bool = false, mount: Bool = false, net: Bool = false,
                ipc: Bool = false, uts: Bool = false, cgroup: Bool = false) {
        self.user = user
        self.pid = pid
        self.mount = mount
        self.net = net
        self.ipc = ipc
        self.uts = uts
        self.cgroup = cgroup
    }

    /// user, mount and pid: a private view of processes and mounts, sharing net, ipc and uts.
    public static let `default` = Namespaces(user: true, pid: true, mount: true)
    /// All seven.
    public static let all = Namespaces(user: true, pid: true, mount: true, net: true,
                                       ipc: true, uts: true, cgroup: true)
    public static let none = Namespaces()

    /// The names of the namespaces that are on, in a fixed order.
    public var enabledNames: [String] {
        var names: [String] = []
        if user { names.append("user") }
        if pid { names.append("pid") }
        if mount { names.append("mount") }
        if net { names.append("net") }
        if ipc { names.append("ipc") }
        if uts { names.append("uts") }
        if cgroup { names.append("cgroup") }
        return names
    }
}

/// The command's environment: start from the caller's (or from nothing), then unset, then set.
public struct EnvironmentSpec: Codable, Sendable, Equatable {
    /// Start from the caller's environment; false starts empty (`--clearenv`).
    public var inherit: Bool
    /// Names removed from the inherited environment.
    public var unset: [String]
    /// Variables set last, in order; a later entry for the same name wins.
    public var set: [EnvironmentVariable]

    public init(inherit: Bool = true, unset: [String] = [], set: [EnvironmentVariable] = []) {
        self.inherit = inherit
        self.unset = unset
        self.set = set
    }
}

public struct EnvironmentVariable: Codable, Sendable, Equatable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// A descriptor of the caller's (`source`) that the command sees as `target`.
public struct FileDescriptorMapping: Codable, Sendable, Equatable {
    public var source: Int32
    public var target: Int32

    public init(source: Int32, target: Int32) {
        self.source = source
        self.target = target
    }

    /// Pass `fd` under its own number.
    public init(_ fd: Int32) {
        self.init(source: fd, target: fd)
    }
}

/// How the user namespace maps ids.
public enum IDMapping: Codable, Sendable, Equatable {
    /// Only the caller's own uid and gid, seen inside as `uid`/`gid` (your own, or 0).
    case current
    /// Only the caller's own ids, seen inside as 0 (root inside, you outside).
    case root
    /// podman's default: the caller is 0 inside and its subordinate ranges (/etc/subuid,
    /// /etc/subgid) are 1…N.
    case auto
    /// These lines exactly. Anything but the caller's own id needs its subordinate ranges.
    case explicit(uid: [IDMap], gid: [IDMap])

    /// The single-id mappings, written by the parent itself (no helper).
    public var isSingle: Bool {
        self == .current || self == .root
    }

    /// The uid and gid map lines this mapping stands for. The subordinate ranges are read only
    /// for `.auto`.
    func lines(uid: UInt32?, gid: UInt32?, caller: Caller,
               subordinateIDs: @autoclosure () -> SubordinateIDs) -> (uid: [IDMap], gid: [IDMap]) {
        switch self {
        case .current:
            return ([IDMap(inside: uid ?? caller.uid, outside: caller.uid)], [IDMap(inside: gid ?? caller.gid, outside: caller.gid)])
        case .root:
            return ([IDMap(inside: 0, outside: caller.uid)], [IDMap(inside: 0, outside: caller.gid)])
        case .auto:
            let sub = subordinateIDs()
            return (SubordinateIDs.autoMap(own: caller.uid, ranges: sub.uids), SubordinateIDs.autoMap(own: caller.gid, ranges: sub.gids))
        case .explicit(let u, let g):
            return (u, g)
        }
    }
}
