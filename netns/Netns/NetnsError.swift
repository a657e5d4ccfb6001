import CNetlink
import Glibc

/// A failed netlink operation: what was attempted, on which object, and why (the kernel's
/// errno when the kernel answered; libnl's own code and text otherwise).
public struct NetnsError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was attempted, e.g. "create veth".
    public var operation: String
    /// The object: a link name, an address, a route.
    public var object: String
    /// The kernel's errno (or the closest errno to libnl's own code).
    public var errno: Int32
    /// libnl's code (NLE_*), 0 when the failure came from a system call.
    public var libnlCode: Int32

    public init(operation: String, object: String, errno: Int32, libnlCode: Int32 = 0) {
        self.operation = operation
        self.object = object
        self.errno = errno
        self.libnlCode = libnlCode
    }

    public var description: String {
        "\(operation) \(object): \(String(cString: strerror(errno)))"
    }

    /// The errno for a libnl code when the kernel sent none (the failure was on our side).
    static func errno(forLibnl code: Int32) -> Int32 {
        switch code {
        case NLE_NOMEM: return ENOMEM
        case NLE_INVAL, NLE_MISSING_ATTR, NLE_MSGSIZE: return EINVAL
        case NLE_OBJ_NOTFOUND, NLE_NODEV: return ENODEV
        case NLE_EXIST: return EEXIST
        case NLE_PERM: return EPERM
        case NLE_NOADDR: return EADDRNOTAVAIL
        case NLE_AF_NOSUPPORT: return EAFNOSUPPORT
        case NLE_OPNOTSUPP: return EOPNOTSUPP
        case NLE_BUSY: return EBUSY
        case NLE_AGAIN: return EAGAIN
        case NLE_BAD_SOCK: return EBADF
        default: return EIO
        }
    }
}
