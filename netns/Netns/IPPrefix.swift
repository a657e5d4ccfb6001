import CNetlink

/// An IPv4 or IPv6 address with a prefix length, as text ("10.0.0.2/24", "fd00::2/64");
/// without "/N" the whole address. "default" is the zero prefix of IPv4.
/// Parsed by libnl, so what it accepts is what the kernel is sent.
public struct IPPrefix: Sendable, Equatable, CustomStringConvertible {
    public let text: String

    /// Nil when libnl does not read `text` as an address.
    public init?(_ text: String) {
        guard let a = IPPrefix.parse(text) else { return nil }
        nl_addr_put(a)
        self.text = text
    }

    public var description: String { text }

    /// A libnl address the caller must nl_addr_put.
    static func parse(_ text: String, family: Int32 = AF_UNSPEC) -> OpaquePointer? {
        guard !text.isEmpty, !text.utf8.contains(0) else { return nil }
        var a: OpaquePointer? = nil
        let fam = text == "default" && family == AF_UNSPEC ? AF_INET : family
        guard nl_addr_parse(text, fam, &a) == 0, let a else { return nil }
        let f = nl_addr_get_family(a)
        guard f == AF_INET || f == AF_INET6 else {
            nl_addr_put(a)
            return nil
        }
        return a
    }

    /// The address family: AF_INET or AF_INET6.
    public var family: Int32 {
        guard let a = IPPrefix.parse(text) else { return AF_UNSPEC }
        defer { nl_addr_put(a) }
        return nl_addr_get_family(a)
    }

    /// libnl's text for an address ("10.0.0.2/24", "aa:bb:cc:dd:ee:ff").
    static func text(of a: OpaquePointer) -> String {
        var buf = [CChar](repeating: 0, count: 128)
        return buf.withUnsafeMutableBufferPointer { b in
            _ = nl_addr2str(a, b.baseAddress, b.count)
            return String(cString: b.baseAddress!)
        }
    }
}
