import CNetlink
import Glibc

/// A netlink socket subscribed to link notifications (RTNLGRP_LINK) of the calling thread's
/// network namespace: links created, changed, deleted or moved away.
public final class LinkEventSocket {
    private let sock: OpaquePointer

    public init() throws(NetnsError) {
        guard let s = nl_socket_alloc() else { throw NetnsError(operation: "open", object: "link events", errno: ENOMEM) }
        sock = s
        nl_socket_disable_seq_check(s)
        var r = nl_connect(s, NETLINK_ROUTE)
        if r == 0 { r = rs_nl_add_link_group(s) }
        if r < 0 {
            nl_socket_free(s)
            throw NetnsError(operation: "open", object: "link events", errno: NetnsError.errno(forLibnl: -r), libnlCode: -r)
        }
    }

    deinit { nl_socket_free(sock) }

    /// The socket's descriptor, to poll with others.
    public var fileDescriptor: Int32 { nl_socket_get_fd(sock) }

    /// Waits up to `timeoutMilliseconds` (-1: forever) for notifications; [] on timeout.
    public func next(timeoutMilliseconds: Int32 = -1) throws(NetnsError) -> [LinkEvent] {
        var p = pollfd(fd: fileDescriptor, events: Int16(POLLIN), revents: 0)
        while true {
            let n = poll(&p, 1, timeoutMilliseconds)
            if n < 0 && Glibc.errno == EINTR { continue }
            if n < 0 { throw NetnsError(operation: "wait", object: "link events", errno: Glibc.errno) }
            if n == 0 { return [] }
            break
        }
        var raw = [rs_link_event](repeating: rs_link_event(), count: 64)
        let got = rs_nl_read_link_events(fileDescriptor, &raw, Int32(raw.count))
        if got == -EAGAIN { return [] }
        if got < 0 { throw NetnsError(operation: "read", object: "link events", errno: -got) }
        return raw.prefix(Int(got)).map { e in
            var e = e
            let name = withUnsafeBytes(of: &e.name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            return LinkEvent(kind: e.type == Int32(RTM_DELLINK) ? .deleted : .new, index: e.index, name: name,
                             isUp: e.flags & UInt32(IFF_UP.rawValue) != 0)
        }
    }
}
