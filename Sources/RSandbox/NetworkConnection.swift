import Glibc

/// What attaching a sandbox's network namespace left that its owner must end: a lease from
/// rsandbox-netd, or a pasta process.
enum NetworkConnection: Sendable {
    /// The lease, and a descriptor of the namespace held until the lease is given back. netd
    /// releases by the host end's name, and names are reused with addresses: without the
    /// descriptor the namespace could die with the sandbox, netd free the lease by itself and
    /// hand the same name to another sandbox of the same user, whose NIC our late release
    /// would then delete. Held, the namespace and so our veth live until our release.
    case lease(NetworkLease, namespaceFD: Int32)
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
            do {
                return .lease(try NetdClient(socket: socket).attach(bridge: name, namespaceFD: fd), namespaceFD: fd)
            } catch {
                close(fd)
                throw error
            }
        case .user(let forwards):
            return .pasta(try Pasta.attach(pid: pid, forwards: forwards))
        }
    }

    var lease: NetworkLease? {
        if case .lease(let l, _) = self { return l }
        return nil
    }

    func end() {
        switch self {
        case .lease(let l, let fd):
            l.release()
            close(fd)
        case .pasta(let p): p.stop()
        }
    }
}
