/// A NIC rsandbox-netd gave a sandbox: eth0 inside, its address and gateway, the host end.
public struct NetworkLease: Sendable, Equatable {
    /// The name inside the sandbox ("eth0").
    public var interface: String
    /// "10.0.3.2/24".
    public var address: String
    public var gateway: String
    /// The veth's host end on the bridge, named by netd.
    public var hostInterface: String
    /// "fd00:3::2/64" and its gateway, when the bridge has an IPv6 prefix; nil otherwise.
    public var address6: String?
    public var gateway6: String?
    /// The netd socket it came from (for the release).
    var socket: String

    /// Gives it back; quietly does nothing when netd already freed it (the namespace died first).
    func release() {
        _ = try? NetdClient(socket: socket).release(hostInterface)
    }
}
