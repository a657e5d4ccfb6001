import CNetlink
import Glibc

/// A NETLINK_ROUTE socket in the calling thread's network namespace. Every operation is one
/// request the kernel acknowledges; a failure throws `NetnsError` naming the object.
public final class RouteSocket {
    let sock: OpaquePointer
    /// Where the error callback leaves the kernel's errno of the last failed request.
    private let kernelErrno: UnsafeMutablePointer<Int32>

    public init() throws(NetnsError) {
        guard let s = nl_socket_alloc() else {
            throw NetnsError(operation: "open", object: "netlink socket", errno: ENOMEM)
        }
        sock = s
        kernelErrno = .allocate(capacity: 1)
        kernelErrno.pointee = 0
        let r = nl_connect(s, NETLINK_ROUTE)
        if r < 0 {
            let e = Glibc.errno
            nl_socket_free(s)
            kernelErrno.deallocate()
            throw NetnsError(operation: "open", object: "netlink socket", errno: e != 0 ? e : NetnsError.errno(forLibnl: -r), libnlCode: -r)
        }
        _ = rs_nl_capture_errno(s, kernelErrno)
    }

    deinit {
        nl_socket_free(sock)
        kernelErrno.deallocate()
    }

    /// Runs one libnl request; a negative result becomes a NetnsError for `object`.
    func check(_ operation: String, _ object: String, _ body: () -> Int32) throws(NetnsError) {
        kernelErrno.pointee = 0
        let r = body()
        guard r < 0 else { return }
        let code = -r
        let e = kernelErrno.pointee != 0 ? kernelErrno.pointee : NetnsError.errno(forLibnl: code)
        throw NetnsError(operation: operation, object: object, errno: e, libnlCode: code)
    }

    /// The link named `name`, fresh from the kernel (caller must rtnl_link_put).
    func fetch(_ name: String, for operation: String) throws(NetnsError) -> OpaquePointer {
        try Self.checkName(name, operation)
        var link: OpaquePointer? = nil
        try check(operation, name) { rtnl_link_get_kernel(sock, 0, name, &link) }
        guard let link else { throw NetnsError(operation: operation, object: name, errno: ENODEV) }
        return link
    }

    /// Interface names are 1–15 bytes without '/', ':', NUL or whitespace (the kernel's rule).
    static func checkName(_ name: String, _ operation: String) throws(NetnsError) {
        let b = Array(name.utf8)
        guard !b.isEmpty, b.count <= 15, name != ".", name != "..",
              !b.contains(where: { $0 == 0x2F || $0 == 0x3A || $0 <= 0x20 || $0 == 0x7F }) else {
            throw NetnsError(operation: operation, object: "\"\(name)\"", errno: EINVAL)
        }
    }
}
