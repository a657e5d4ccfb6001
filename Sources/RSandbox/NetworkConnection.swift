import Glibc

/// What attaching a sandbox's network namespace left that its owner must end: a lease from
/// rsandbox-netd.
struct NetworkConnection: Sendable {
    let lease: NetworkLease

    /// Attaches the namespace of the (still parked) child `pid` as `attachment` asks.
    static func attach(_ attachment: NetworkAttachment, pid: pid_t) throws(SandboxError) -> NetworkConnection {
        switch attachment {
        case .bridge(let name, let socket):
            // The child cannot exit or be reaped while parked, so its pid names it here.
            let fd = open("/proc/\(pid)/ns/net", O_RDONLY | O_CLOEXEC)
            if fd < 0 {
                throw .system(.network, errno, item: "bridge \(name)")
            }
            defer { close(fd) }
            return NetworkConnection(lease: try NetdClient(socket: socket).attach(bridge: name, namespaceFD: fd))
        }
    }

    func end() {
        lease.release()
    }
}
