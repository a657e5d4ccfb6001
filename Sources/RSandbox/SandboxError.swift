import CRSandbox
import Glibc

/// Why a sandbox could not be made or run. Names the stage, the errno (0 when the kernel was
/// not involved) and the spec item it concerns, e.g. the path, the uid or the hostname.
public struct SandboxError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Stage: String, Sendable, Codable {
        /// The spec was refused before anything was done.
        case spec
        case clone
        case idmap
        case sync
        case pdeathsig
        case mountPrivate = "mount-private"
        case mountProc = "mount-proc"
        case hostname
        case loopback
        case chdir
        case reaper
        case signals
        case fds
        case exec
        case newRoot = "new-root"
        /// A step of the filesystem plan (its source, its destination, or the mount itself).
        case mount
        case pivot
        case session
        /// Switching to the inside uid or gid asked for (range maps).
        case identity
        /// Dropping capabilities (bounding, ambient, capset) before exec.
        case capabilities
        case noNewPrivileges = "no-new-privs"
        /// Building the seccomp filter (parent) or loading it (child).
        case seccomp
        /// Hiding a kernel file of /proc or /sys, or making one read-only.
        case mask
        /// Finding or preparing the delegated cgroup2 subtree, or a sandbox's leaf in it.
        case cgroup
        /// Attaching the sandbox's network namespace (rsandbox-netd, pasta).
        case network
        case wait
        case signal
    }

    public var stage: Stage
    public var errno: Int32
    /// The spec item, e.g. `cwd "/nope"` or the command name.
    public var item: String
    /// What went wrong, in words.
    public var reason: String
    /// How to fix it, where we know.
    public var hint: String?

    public init(stage: Stage, errno: Int32 = 0, item: String, reason: String, hint: String? = nil) {
        self.stage = stage
        self.errno = errno
        self.item = item
        self.reason = reason
        self.hint = hint
    }

    /// `<stage>: <item>: <reason>`, the one line the CLI prints after `rsandbox: `.
    public var description: String {
        "\(stage.rawValue): \(item): \(reason)"
    }

    /// Refusal of a spec field before anything was done.
    static func spec(_ item: String, _ reason: String, hint: String? = nil) -> SandboxError {
        SandboxError(stage: .spec, item: item, reason: reason, hint: hint)
    }

    /// A failed syscall: the reason is strerror(errno).
    static func system(_ stage: Stage, _ err: Int32, item: String, hint: String? = nil) -> SandboxError {
        SandboxError(stage: stage, errno: err, item: item, reason: errorString(err), hint: hint)
    }
}

/// strerror(3) as a String ("No such file or directory").
public func errorString(_ err: Int32) -> String {
    guard let s = strerror(err) else { return "errno \(err)" }
    return String(cString: s)
}

/// The symbolic name of an errno (ENOENT), for JSON and logs.
public func errnoName(_ err: Int32) -> String {
    guard let s = rs_errno_name(err) else { return "E\(err)" }
    return String(cString: s)
}

extension SandboxError.Stage {
    /// The stage of a report the C child sent.
    init(report stage: Int32) {
        switch UInt32(bitPattern: stage) {
        case RS_STAGE_CLONE.rawValue: self = .clone
        case RS_STAGE_SYNC.rawValue: self = .sync
        case RS_STAGE_PDEATHSIG.rawValue: self = .pdeathsig
        case RS_STAGE_MOUNT_PRIVATE.rawValue: self = .mountPrivate
        case RS_STAGE_MOUNT_PROC.rawValue: self = .mountProc
        case RS_STAGE_HOSTNAME.rawValue: self = .hostname
        case RS_STAGE_LOOPBACK.rawValue: self = .loopback
        case RS_STAGE_CHDIR.rawValue: self = .chdir
        case RS_STAGE_REAPER.rawValue: self = .reaper
        case RS_STAGE_SIGNALS.rawValue: self = .signals
        case RS_STAGE_FDS.rawValue: self = .fds
        case RS_STAGE_NEW_ROOT.rawValue: self = .newRoot
        case RS_STAGE_MOUNT_SOURCE.rawValue, RS_STAGE_MOUNT_TARGET.rawValue, RS_STAGE_MOUNT.rawValue: self = .mount
        case RS_STAGE_PIVOT.rawValue: self = .pivot
        case RS_STAGE_SESSION.rawValue: self = .session
        case RS_STAGE_IDENTITY.rawValue: self = .identity
        case RS_STAGE_CAPS.rawValue: self = .capabilities
        case RS_STAGE_NO_NEW_PRIVS.rawValue: self = .noNewPrivileges
        case RS_STAGE_SECCOMP.rawValue: self = .seccomp
        case RS_STAGE_MASK.rawValue: self = .mask
        default: self = .exec
        }
    }
}

extension SandboxError {
    /// Maps a child's {stage, errno, index} report back to the spec item it concerns.
    init(report: rs_report, plan: Plan) {
        let stage = Stage(report: report.stage)
        let err = report.err
        var hint: String? = nil
        let item: String
        switch stage {
        case .mountProc:
            item = "/proc"
            if err == EPERM {
                hint = "the host's /proc has mounts over it that hide parts of it; a fresh proc "
                    + "needs a fully visible one (see `rsandbox doctor`)"
            }
        case .hostname:
            item = "hostname \(quoted(plan.hostname ?? ""))"
        case .loopback:
            item = "lo"
        case .chdir:
            item = "cwd \(quoted(plan.cwd ?? ""))"
        case .fds:
            let i = Int(report.index)
            if i >= 0 && i < plan.fds.count {
                let m = plan.fds[i]
                item = "fd \(m.source)->\(m.target)"
            } else {
                item = "fds"
            }
        case .exec:
            item = plan.argv.first ?? ""
            if err == ENOENT || err == ENOTDIR {
                let where_ = plan.argv.first?.utf8.contains(UInt8(ascii: "/")) == true
                    ? "" : " in PATH=\(plan.searchPath)"
                self.init(stage: .exec, errno: err, item: item,
                          reason: "command not found\(where_)", hint: nil)
                return
            }
            if err == EACCES {
                hint = "the file exists but is not executable by the sandbox's user (check its mode and the mount's noexec)"
            }
        case .newRoot:
            item = plan.rootfs.map { "rootfs " + quoted(String($0.dropFirst(PlannedMount.oldRoot.count))) } ?? "new root"
            if err == ENOENT || err == ENOTDIR, plan.rootfs != nil {
                self.init(stage: stage, errno: err, item: item, reason: errorString(err) + " (the rootfs must be a directory)")
                return
            }
        case .mount:
            let i = Int(report.index)
            guard i >= 0 && i < plan.sourceMounts.count else {
                item = "mounts"
                break
            }
            let m = plan.sourceMounts[i]
            item = m.summary
            var reason = errorString(err)
            switch UInt32(bitPattern: report.stage) {
            case RS_STAGE_MOUNT_SOURCE.rawValue: reason = "source: " + reason
            case RS_STAGE_MOUNT_TARGET.rawValue: reason = "destination: " + reason
            default: break
            }
            if case .overlay = m, err == EPERM || err == EINVAL || err == ENODEV || err == EOPNOTSUPP {
                hint = "native overlayfs in a user namespace needs Linux 5.11 or newer (a temporary one also tmpfs user xattrs, 6.6), "
                    + "and upper and work dirs on one filesystem that you own; see `rsandbox doctor`. There is no fuse fallback"
            } else if err == EROFS {
                hint = "the destination's parent is read-only (a read-only bind above it?); create mount points before binding read-only over them"
            }
            self.init(stage: stage, errno: err, item: item, reason: reason, hint: hint)
            return
        case .pivot:
            item = "new root"
        case .session:
            item = plan.controllingTerminal ? "controlling terminal (fd 0)" : "setsid"
        case .identity:
            item = report.index == 1 ? "uid \(plan.switchUid ?? 0)" : "gid \(plan.switchGid ?? 0)"
        case .capabilities:
            if report.index >= 0 {
                item = "capability " + Capabilities.name(report.index)
            } else {
                item = "capabilities"
            }
        case .seccomp:
            item = "seccomp filter"
            if err == EINVAL {
                hint = "the kernel refused the compiled filter (too long, or an action it does not know)"
            }
        case .mask:
            item = rs_masked_path(report.index).map { "/" + String(cString: $0) } ?? "masked paths"
        case .pdeathsig, .mountPrivate, .reaper, .signals, .sync, .clone:
            item = stage.rawValue
        default:
            item = stage.rawValue
        }
        self.init(stage: stage, errno: err, item: item, reason: errorString(err), hint: hint)
    }
}

func quoted(_ s: String) -> String {
    "\"" + s + "\""
}
