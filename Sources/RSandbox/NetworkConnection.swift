import Glibc

/// What attaching a sandbox's network namespace left that its owner must end: a lease from
/// rsandbox-netd, or a pasta process.
enum NetworkConnection: Sendable {
    case lease(NetworkLease)
    case pasta(Pasta)

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
            return .lease(try NetdClient(socket: socket).attach(bridge: name, namespaceFD: fd))
        case .user(let forwards):
            return .pasta(try Pasta.attach(pid: pid, forwards: forwards))
        }
    }

    var lease: NetworkLease? {
        if case .lease(let l) = self { return l }
        return nil
    }

    func end() {
        switch self {
        case .lease(let l): l.release()
        case .pasta(let p): p.stop()
        }
    }
}
