import CRSandbox
import Glibc

/// Talks to rsandbox-netd: one request per connection, the answer one line (see
/// helpers/rsandbox-netd/proto.h for the format).
public struct NetdClient: Sendable {
    /// Where netd listens unless told otherwise (its systemd socket unit uses the same).
    public static let defaultSocket = "/run/rsandbox/netd.sock"

    public var socket: String

    public init(socket: String? = nil) {
        self.socket = socket ?? Self.defaultSocket
    }

    /// Asks for a NIC on `bridge` for the network namespace `namespaceFD` (the caller's own).
    func attach(bridge: String, namespaceFD: Int32) throws(SandboxError) -> NetworkLease {
        let item = "bridge \(bridge)"
        let answer = try ask(1, bridge, fd: namespaceFD, item: item)
        // "ok eth0 ADDRESS/PREFIX GATEWAY HOST-END [ADDRESS6/PREFIX GATEWAY6]" (IPv6 where the
        // bridge has a prefix in netd.conf)
        let f = answer.split(separator: " ").map(String.init)
        guard f.count == 5 || f.count == 7, f[0] == "ok" else {
            throw SandboxError(stage: .network, item: item, reason: "rsandbox-netd answered \"\(answer)\"")
        }
        return NetworkLease(interface: f[1], address: f[2], gateway: f[3], hostInterface: f[4],
                            address6: f.count == 7 ? f[5] : nil, gateway6: f.count == 7 ? f[6] : nil, socket: socket)
    }

    /// Gives a lease back (netd also frees it by itself when the namespace dies).
    func release(_ hostInterface: String) throws(SandboxError) {
        _ = try ask(2, hostInterface, fd: -1, item: "lease \(hostInterface)")
    }

    /// The caller's quota as netd reports it: "BRIDGE USED/LIMIT ..." (empty: none).
    public func status() throws(SandboxError) -> String {
        let answer = try ask(3, "", fd: -1, item: "status")
        return answer == "ok" ? "" : String(answer.dropFirst(3))
    }

    /// netd's answers when it is only busy: its connection limits (all callers, or per uid) are
    /// reached for the moment. A user who starts ten bridged sandboxes at once meets them; they
    /// are asked again. Every other refusal is final.
    static let transientRefusals: Set<String> = [
        "refused netd is busy (too many connections)",
        "refused too many connections from your uid",
    ]

    /// How long a busy netd is asked again before its refusal is reported, and the pauses
    /// between: doubling from the first, at most the last, each jittered down by up to half so
    /// that callers refused together do not come back together.
    static let retryLimit: Duration = .seconds(3)
    static let retryPause: (first: Duration, most: Duration) = (.milliseconds(2), .milliseconds(50))

    /// Sends one request; an answer other than "ok…" is a refusal with netd's reason.
    private func ask(_ op: UInt8, _ name: String, fd: Int32, item: String) throws(SandboxError) -> String {
        let bytes = Array(name.utf8)
        guard bytes.count <= 15 else {
            throw SandboxError(stage: .network, item: item, reason: "names are at most 15 bytes")
        }
        let request: [UInt8] = Array("RSND".utf8) + [1, op, UInt8(bytes.count), 0] + bytes
        let deadline = MonotonicClock.now() + Self.retryLimit
        var pause = Self.retryPause.first
        var text: String
        while true {
            text = try send(request, fd: fd, item: item)
            guard Self.transientRefusals.contains(text) else { break }
            let left = deadline - MonotonicClock.now()
            if left <= .zero { break }
            let p = pause.nanoseconds
            let jittered = Duration.nanoseconds(Int64.random(in: p / 2...p))
            Self.sleep(min(jittered, left))
            pause = min(pause * 2, Self.retryPause.most)
        }
        if text.hasPrefix("refused ") {
            throw SandboxError(stage: .network, item: item, reason: "rsandbox-netd refused: \(text.dropFirst(8))")
        }
        guard text == "ok" || text.hasPrefix("ok ") else {
            throw SandboxError(stage: .network, item: item, reason: "rsandbox-netd answered \"\(text)\"")
        }
        return text
    }

    /// One connection, one request, one answer.
    private func send(_ request: [UInt8], fd: Int32, item: String) throws(SandboxError) -> String {
        var answer = [CChar](repeating: 0, count: 512)
        let n = rs_seqpacket_ask(socket, request, UInt(request.count), fd, &answer, UInt(answer.count), 10_000)
        if n < 0 {
            let err = Int32(-n)
            let hint = err == ENOENT || err == ECONNREFUSED
                ? "no rsandbox-netd listens on \(socket): see docs/networking.md" : nil
            throw SandboxError(stage: .network, errno: err, item: item,
                               reason: "cannot reach rsandbox-netd at \(socket): \(errorString(err))", hint: hint)
        }
        return answer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    private static func sleep(_ d: Duration) {
        var ts = timespec(tv_sec: Int(d.components.seconds), tv_nsec: Int(d.components.attoseconds / 1_000_000_000))
        var left = timespec()
        while nanosleep(&ts, &left) < 0 && errno == EINTR { ts = left }
    }
}
