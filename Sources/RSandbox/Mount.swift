/// One step of the sandbox's filesystem, applied in order inside the new root (bubblewrap's
/// model). Any mount, or a `rootfs`, makes the sandbox pivot_root into a root of its own.
public enum Mount: Codable, Sendable, Equatable {
    /// A host path seen at `destination`. Always nosuid; nodev unless `.devices`.
    case bind(source: String, destination: String, options: BindOptions = [])
    /// A fresh tmpfs; `size` in bytes, `mode` of its root (default 0755).
    case tmpfs(destination: String, size: UInt64? = nil, mode: UInt32? = nil)
    /// A fresh procfs for the sandbox's pid namespace.
    case proc(destination: String)
    /// A minimal /dev: null, zero, full, random, urandom, tty, a private devpts with ptmx, shm,
    /// and the fd, stdin, stdout, stderr links.
    case dev(destination: String)
    /// POSIX message queues (needs a new IPC namespace).
    case mqueue(destination: String)
    /// A directory, with its parents.
    case dir(destination: String, mode: UInt32? = nil)
    /// A symlink at `destination` whose text is `target`.
    case symlink(target: String, destination: String)
    /// A regular file holding `contents`.
    case file(destination: String, contents: [UInt8], mode: UInt32? = nil)
    /// Makes what is mounted at `destination` read-only, recursively.
    case remountReadOnly(destination: String)
    case chmod(destination: String, mode: UInt32)
    /// Native overlayfs (no fuse) over host directories, `lowers` listed lowest first.
    case overlay(lowers: [String], destination: String, mode: OverlayMode)

    /// The path inside the sandbox this step acts on.
    public var destination: String {
        switch self {
        case .bind(_, let d, _), .tmpfs(let d, _, _), .proc(let d), .dev(let d), .mqueue(let d),
             .dir(let d, _), .symlink(_, let d), .file(let d, _, _), .remountReadOnly(let d),
             .chmod(let d, _), .overlay(_, let d, _):
            return d
        }
    }

    /// How errors name this step: `bind "/src" -> "/dst"`, `tmpfs "/tmp"`.
    public var summary: String {
        switch self {
        case .bind(let s, let d, let o):
            let kind = o.contains(.devices) ? "dev-bind" : o.contains(.readOnly) ? "ro-bind" : "bind"
            return "\(kind)\(o.contains(.optional) ? "-try" : "") \(quoted(s)) -> \(quoted(d))"
        case .tmpfs(let d, _, _): return "tmpfs \(quoted(d))"
        case .proc(let d): return "proc \(quoted(d))"
        case .dev(let d): return "dev \(quoted(d))"
        case .mqueue(let d): return "mqueue \(quoted(d))"
        case .dir(let d, _): return "dir \(quoted(d))"
        case .symlink(let t, let d): return "symlink \(quoted(t)) -> \(quoted(d))"
        case .file(let d, _, _): return "file \(quoted(d))"
        case .remountReadOnly(let d): return "remount-ro \(quoted(d))"
        case .chmod(let d, let m): return "chmod 0\(String(m, radix: 8)) \(quoted(d))"
        case .overlay(let l, let d, let m):
            let lowers = l.map(quoted).joined(separator: ":")
            switch m {
            case .readOnly: return "ro-overlay \(lowers) -> \(quoted(d))"
            case .temporary: return "tmp-overlay \(lowers) -> \(quoted(d))"
            case .persistent(let u, _): return "overlay \(lowers) + \(quoted(u)) -> \(quoted(d))"
            }
        }
    }
}

public struct BindOptions: OptionSet, Codable, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// Read-only, on every submount too.
    public static let readOnly = BindOptions(rawValue: 1)
    /// Device nodes under it stay usable (dev-bind).
    public static let devices = BindOptions(rawValue: 2)
    /// Skip the step when the source does not exist (the `-try` flags); any other error stays one.
    public static let optional = BindOptions(rawValue: 4)
}

/// Where an overlay's writes go.
public enum OverlayMode: Codable, Sendable, Equatable {
    /// Nowhere: the merged view is read-only.
    case readOnly
    /// To a tmpfs that vanishes with the sandbox (mounted `volatile`: no syncs).
    case temporary
    /// To `upper` on the host, with `work` (an empty directory on the same filesystem).
    case persistent(upper: String, work: String)
}
