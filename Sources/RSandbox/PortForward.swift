import Glibc

/// A host port forwarded into a `--net user` sandbox (pasta's `-t`/`-u`): connections to
/// HOSTPORT on the host reach SANDBOXPORT inside. Written `[HOSTIP:]HOSTPORT:SANDBOXPORT[/tcp|/udp]`
/// like podman's `--publish`; an IPv6 HOSTIP goes in brackets (`[::1]:8080:80`).
public struct PortForward: Codable, Sendable, Equatable, CustomStringConvertible {
    public enum Transport: String, Codable, Sendable {
        case tcp, udp
    }

    /// The host address pasta listens on (an IPv4 or IPv6 literal); nil: every address.
    public var hostAddress: String?
    public var hostPort: UInt16
    public var sandboxPort: UInt16
    public var transport: Transport

    public init(hostAddress: String? = nil, hostPort: UInt16, sandboxPort: UInt16, transport: Transport = .tcp) {
        self.hostAddress = hostAddress
        self.hostPort = hostPort
        self.sandboxPort = sandboxPort
        self.transport = transport
    }

    /// Reads `[HOSTIP:]HOSTPORT:SANDBOXPORT[/tcp|/udp]` strictly (decimal ports 1-65535, an
    /// address literal, never a name to resolve).
    public init(parsing text: String) throws(SandboxError) {
        let bad = { (reason: String) in SandboxError(stage: .spec, item: "publish \"\(text)\"", reason: reason) }
        var rest = Substring(text)
        transport = .tcp
        if let slash = rest.lastIndex(of: "/") {
            guard let t = Transport(rawValue: String(rest[rest.index(after: slash)...])) else {
                throw bad("the protocol after / is tcp or udp")
            }
            transport = t
            rest = rest[..<slash]
        }
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]"), rest[rest.index(after: close)...].hasPrefix(":") else {
                throw bad("expected [IPV6]:HOSTPORT:SANDBOXPORT")
            }
            hostAddress = String(rest[rest.index(after: rest.startIndex)..<close])
            rest = rest[rest.index(close, offsetBy: 2)...]
        } else {
            hostAddress = nil
        }
        let parts = rest.split(separator: ":", omittingEmptySubsequences: false)
        switch (parts.count, hostAddress) {
        case (2, _): break
        case (3, nil): hostAddress = String(parts[0])
        default: throw bad("expected [HOSTIP:]HOSTPORT:SANDBOXPORT[/tcp|/udp], e.g. 127.0.0.1:8080:80")
        }
        func port(_ s: Substring, _ what: String) throws(SandboxError) -> UInt16 {
            guard !s.isEmpty, s.count <= 5, s.allSatisfy({ $0.isASCII && $0.isNumber }), let n = UInt32(s), n >= 1, n <= 65535 else {
                throw bad("\(what) port \"\(s)\" is not a number in 1-65535")
            }
            return UInt16(n)
        }
        hostPort = try port(parts[parts.count - 2], "host")
        sandboxPort = try port(parts[parts.count - 1], "sandbox")
        if let a = hostAddress, !Self.isAddressLiteral(a) {
            throw bad("host address \"\(a)\" is not an IPv4 or IPv6 address")
        }
    }

    /// The user's spelling, for messages and JSON.
    public var description: String {
        let address = hostAddress.map { $0.contains(":") ? "[\($0)]:" : "\($0):" } ?? ""
        return "\(address)\(hostPort):\(sandboxPort)/\(transport.rawValue)"
    }

    /// pasta's spec for `-t`/`-u`: `[ADDR/]HOSTPORT:SANDBOXPORT` (its address comes before a /).
    var pastaSpec: String {
        (hostAddress.map { $0 + "/" } ?? "") + "\(hostPort):\(sandboxPort)"
    }

    static func isAddressLiteral(_ s: String) -> Bool {
        var buf = [UInt8](repeating: 0, count: 16)
        return inet_pton(AF_INET, s, &buf) == 1 || inet_pton(AF_INET6, s, &buf) == 1
    }
}
