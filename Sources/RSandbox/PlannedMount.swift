import CRSandbox

/// A mount step in the form the C child executes (`struct rs_mount_op`): host paths as seen
/// after the first pivot_root (under /oldroot), destinations relative to the new root.
public struct PlannedMount: Sendable, Equatable {
    public var kind: UInt32
    public var flags: UInt32 = 0
    public var source: String? = nil
    public var dest: String
    public var options: String? = nil
    public var data: [UInt8] = []
    public var mode: UInt32 = 0
    public var lowerdir: String? = nil
    public var upperdir: String? = nil
    public var workdir: String? = nil
    public var scratch: String? = nil

    /// Where the host's root is while the new root is built.
    public static let oldRoot = "/oldroot"

    /// A host path as the child sees it between the two pivots.
    public static func host(_ path: String) -> String {
        path == "/" ? oldRoot : oldRoot + path
    }

    /// "/a//b/" → "a/b"; "/" → "" (the root itself).
    public static func relative(_ path: String) -> String {
        path.split(separator: "/").joined(separator: "/")
    }

    /// overlayfs splits lowerdir at ':' and takes '\' as an escape.
    static func escapeLayer(_ path: String) -> String {
        var out = ""
        for c in path {
            if c == ":" || c == "\\" { out.append("\\") }
            out.append(c)
        }
        return out
    }

    init(_ mount: Mount, index: Int) {
        dest = Self.relative(mount.destination)
        switch mount {
        case .bind(let s, _, let o):
            kind = RS_MOUNT_BIND.rawValue
            source = Self.host(s)
            if o.contains(.readOnly) { flags |= RS_MOUNT_F_READONLY }
            if o.contains(.devices) { flags |= RS_MOUNT_F_DEVICES }
            if o.contains(.optional) { flags |= RS_MOUNT_F_TRY }
        case .tmpfs(_, let size, let m):
            kind = RS_MOUNT_TMPFS.rawValue
            options = "mode=0" + String(m ?? 0o755, radix: 8) + (size.map { ",size=\($0)" } ?? "")
        case .proc:
            kind = RS_MOUNT_PROC.rawValue
        case .dev:
            kind = RS_MOUNT_DEV.rawValue
        case .mqueue:
            kind = RS_MOUNT_MQUEUE.rawValue
        case .dir(_, let m):
            kind = RS_MOUNT_DIR.rawValue
            if let m { mode = m; flags |= RS_MOUNT_F_MODE }
        case .symlink(let target, _):
            kind = RS_MOUNT_SYMLINK.rawValue
            source = target
        case .file(_, let contents, let m):
            kind = RS_MOUNT_FILE.rawValue
            data = contents
            if let m { mode = m; flags |= RS_MOUNT_F_MODE }
        case .remountReadOnly:
            kind = RS_MOUNT_REMOUNT_RO.rawValue
        case .chmod(_, let m):
            kind = RS_MOUNT_CHMOD.rawValue
            mode = m
            flags |= RS_MOUNT_F_MODE
        case .overlay(let lowers, _, let m):
            kind = RS_MOUNT_OVERLAY.rawValue
            // overlayfs lists the top layer first; the spec lists the lowest first.
            lowerdir = lowers.reversed().map { Self.escapeLayer(Self.host($0)) }.joined(separator: ":")
            switch m {
            case .readOnly:
                flags |= RS_MOUNT_F_READONLY
            case .temporary:
                let dir = "/.rsandbox-overlay-\(index)"
                scratch = dir
                upperdir = dir + "/upper"
                workdir = dir + "/work"
                flags |= RS_MOUNT_F_VOLATILE
            case .persistent(let u, let w):
                upperdir = Self.host(u)
                workdir = Self.host(w)
            }
        }
    }
}
