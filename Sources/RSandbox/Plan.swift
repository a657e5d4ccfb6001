import CRSandbox
import Glibc

/// The flat form of a validated spec: everything the child needs, computed in the parent so that
/// the child only walks it (no parsing, no allocation after clone3).
public struct Plan: Sendable, Equatable {
    /// CLONE_NEW* bits.
    public var cloneFlags: UInt64
    public var argv: [String]
    /// NAME=value strings, in order.
    public var envp: [String]
    /// Where a bare command name is looked up: the sandbox's PATH, or a default.
    public var searchPath: String
    public var cwd: String?
    public var hostname: String?
    /// Sorted by target.
    public var fds: [FileDescriptorMapping]
    /// Written by the parent when there is a new user namespace.
    public var uidMaps: [IDMap]
    public var gidMaps: [IDMap]
    /// The maps go through rsandbox-idmap (ranges, for a caller that is not root).
    public var needsHelper: Bool
    /// Write "deny" to setgroups before gid_map (single-id maps).
    public var denySetgroups: Bool
    /// Inside ids the command switches to before exec (with range maps), or nil.
    public var switchUid: UInt32?
    public var switchGid: UInt32?
    public var dieWithParent: Bool
    public var makeMountsPrivate: Bool
    public var mountProc: Bool
    public var loopbackUp: Bool
    public var reaper: Bool
    /// Build a root of its own and pivot_root into it.
    public var newRoot: Bool
    /// The rootfs as the child sees it (under /oldroot), or nil for a fresh tmpfs root.
    public var rootfs: String?
    /// The spec's mounts, plus the /proc a new pid namespace needs when none was asked for.
    public var sourceMounts: [Mount]
    public var mounts: [PlannedMount]
    /// cwd is the caller's, kept when it exists inside the new root, else "/".
    public var cwdTry: Bool
    public var newSession: Bool
    public var controllingTerminal: Bool
    /// Capabilities the command keeps (bit n = capability n); every other one is dropped.
    public var capabilityMask: UInt64
    /// RS_MASK_* bits: which of /proc and /sys get podman's masks (only with a mount namespace).
    public var maskPaths: UInt32
    /// Compiled by the Spawner (it can fail); the plan says which policy.
    public var seccomp: SeccompPolicy
    public var nestedUserNamespaces: Bool
    public var capabilities: [String]

    /// PATH for the lookup when the sandbox's environment has none.
    public static let defaultSearchPath = "/usr/local/bin:/usr/bin:/bin"

    /// Builds the plan of a spec that passed `validate(caller:)`.
    public init(spec: SandboxSpec, caller: Caller = .current,
                inheritedEnvironment: [String] = Plan.processEnvironment(),
                callerDirectory: String? = Plan.processDirectory(),
                subordinateIDs: SubordinateIDs? = nil) {
        let ns = spec.namespaces
        var flags: UInt64 = 0
        if ns.user { flags |= RS_CLONE_NEWUSER }
        if ns.pid { flags |= RS_CLONE_NEWPID }
        if ns.mount { flags |= RS_CLONE_NEWNS }
        if ns.net { flags |= RS_CLONE_NEWNET }
        if ns.ipc { flags |= RS_CLONE_NEWIPC }
        if ns.uts { flags |= RS_CLONE_NEWUTS }
        if ns.cgroup { flags |= RS_CLONE_NEWCGROUP }
        cloneFlags = flags

        argv = spec.argv
        envp = Plan.environment(spec.environment, inherited: inheritedEnvironment)
        searchPath = Plan.value(of: "PATH", in: envp) ?? Plan.defaultSearchPath
        newRoot = spec.buildsNewRoot
        cwd = spec.cwd ?? (newRoot ? callerDirectory : nil)
        cwdTry = spec.cwd == nil && cwd != nil
        hostname = spec.hostname
        fds = spec.fds.sorted { $0.target < $1.target }
        uidMaps = []
        gidMaps = []
        needsHelper = false
        denySetgroups = true
        if ns.user {
            (uidMaps, gidMaps) = spec.idMapping.lines(uid: spec.uid, gid: spec.gid, caller: caller,
                                                      subordinateIDs: subordinateIDs ?? SubordinateIDs(caller: caller))
            if !spec.idMapping.isSingle {
                let ownOnly = uidMaps == [IDMap(inside: uidMaps.first?.inside ?? 0, outside: caller.uid)]
                    && gidMaps == [IDMap(inside: gidMaps.first?.inside ?? 0, outside: caller.gid)]
                needsHelper = !caller.isRoot && !ownOnly
                denySetgroups = ownOnly
                // The command starts as whatever the caller's ids map to; switch if asked for others.
                if let u = spec.uid, u != SubordinateIDs.inside(of: caller.uid, in: uidMaps) { switchUid = u }
                if let g = spec.gid, g != SubordinateIDs.inside(of: caller.gid, in: gidMaps) { switchGid = g }
            }
        }
        dieWithParent = spec.dieWithParent
        makeMountsPrivate = ns.mount
        mountProc = ns.pid && ns.mount && !newRoot
        loopbackUp = ns.net
        reaper = ns.pid && !spec.commandIsPid1
        rootfs = spec.rootfs.map(PlannedMount.host)
        var steps = spec.mounts
        if newRoot && ns.pid && !steps.contains(where: { if case .proc = $0 { true } else { false } }) {
            steps.append(.proc(destination: "/proc"))
        }
        sourceMounts = steps
        mounts = steps.enumerated().map { PlannedMount($1, index: $0) }
        newSession = spec.newSession
        controllingTerminal = spec.controllingTerminal
        capabilities = spec.capabilities
        capabilityMask = Capabilities.mask(spec.capabilities)
        // Masks go on top of a private mount table only; a nested sandbox could not mount a
        // masked /proc again, so /proc stays unmasked when nested user namespaces are allowed.
        var masks: UInt32 = 0
        if ns.mount {
            masks |= RS_MASK_SYS
            if !spec.nestedUserNamespaces { masks |= RS_MASK_PROC }
        }
        maskPaths = masks
        seccomp = spec.seccomp
        nestedUserNamespaces = spec.nestedUserNamespaces
    }

    /// The caller's working directory, if it can be read.
    public static func processDirectory() -> String? {
        var buf = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buf, buf.count) != nil else { return nil }
        return String(cString: buf)
    }

    /// Applies inherit/unset/set to the inherited NAME=value list.
    static func environment(_ env: EnvironmentSpec, inherited: [String]) -> [String] {
        var out = env.inherit ? inherited : []
        if !env.unset.isEmpty {
            let drop = Set(env.unset)
            out.removeAll { drop.contains(String(name(of: $0))) }
        }
        for v in env.set {
            let entry = v.name + "=" + v.value
            if let i = out.firstIndex(where: { name(of: $0) == v.name }) {
                out[i] = entry
            } else {
                out.append(entry)
            }
        }
        return out
    }

    static func name(of entry: String) -> Substring {
        entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
    }

    /// The value of `name` in a NAME=value list (the last one wins), or nil.
    public static func value(of name: String, in envp: [String]) -> String? {
        let prefix = name + "="
        return envp.last { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
    }

    /// This process's environment as NAME=value strings.
    public static func processEnvironment() -> [String] {
        var out: [String] = []
        var p = environ
        while let entry = p.pointee {
            out.append(String(cString: entry))
            p += 1
        }
        return out
    }
}
