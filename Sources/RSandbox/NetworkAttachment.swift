/// How a sandbox with its own network namespace reaches the world beyond lo. Chosen
/// explicitly; when it cannot be had, spawning fails (never a quiet fallback to another mode).
public enum NetworkAttachment: Codable, Sendable, Equatable {
    /// A veth pair to the host bridge `name`, made by rsandbox-netd (`socket` nil: its default
    /// socket). The command starts only once eth0 has its address and default route.
    case bridge(name: String, socket: String? = nil)
    /// User-mode networking by pasta (Debian `passt`) attached to the sandbox's namespaces:
    /// outbound only, no helper, no root; `forwards` are the host ports that reach inside.
    case user(forwards: [PortForward] = [])
}
