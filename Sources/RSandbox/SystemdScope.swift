import Glibc

/// A transient scope with Delegate=yes from the user's systemd manager, with this process moved
/// into it: what `systemd-run --user --scope -p Delegate=yes` does before it execs its command.
/// Spoken over the manager's private socket ($XDG_RUNTIME_DIR/systemd/private, where
/// systemd-run also goes first): authenticate as our uid, call StartTransientUnit, and wait for
/// its job's JobRemoved signal (direct connections get the manager's signals unasked).
enum SystemdScope {
    static let manager = (destination: "org.freedesktop.systemd1", path: "/org/freedesktop/systemd1",
                          interface: "org.freedesktop.systemd1.Manager")

    /// The call that asks for the scope.
    static func startMessage(unit: String, pid: pid_t, serial: UInt32) -> DBusMessage {
        .call(serial: serial, destination: manager.destination, path: manager.path, interface: manager.interface,
              member: "StartTransientUnit",
              body: [.string(unit), .string("fail"),
                     .properties([("Description", .string("rsandbox supervisor \(pid) (resource limits)")),
                                  ("PIDs", .uint32Array([UInt32(pid)])),
                                  ("Delegate", .bool(true)),
                                  ("CollectMode", .string("inactive-or-failed"))]),
                     .emptyAuxUnits])
    }

    /// Moves this process into a new scope of the manager at `socket`; returns the unit's name.
    static func enter(socket path: String, timeout: Duration = .seconds(10)) throws(SandboxError) -> String {
        let pid = getpid()
        let unit = "rsandbox-\(pid)-\(String(UInt32.random(in: 0...UInt32.max), radix: 16)).scope"
        var connection = try Connection(path: path)
        defer { close(connection.fd) }
        let deadline = ContinuousClock.now + timeout
        try connection.send(startMessage(unit: unit, pid: pid, serial: 1).encoded(), item: path)
        var job: String?
        var finished: [String: String] = [:]   // job path → result, for signals before the reply
        while true {
            let m = try connection.receive(until: deadline, item: unit)
            if m.replySerial == 1 {
                if m.kind == .error {
                    let text = m.body.first.flatMap { if case let .string(s) = $0 { s } else { nil } } ?? ""
                    throw SandboxError(stage: .cgroup, item: "systemd scope \(unit)",
                                       reason: "\(m.errorName ?? "error"): \(text)")
                }
                guard case let .objectPath(p)? = m.body.first else {
                    throw SandboxError(stage: .cgroup, item: "systemd scope \(unit)", reason: "StartTransientUnit returned no job")
                }
                job = p
            } else if m.kind == .signal, m.member == "JobRemoved", m.body.count == 4,
                      case let .objectPath(p) = m.body[1], case let .string(result) = m.body[3] {
                finished[p] = result
            }
            if let job, let result = finished[job] {
                guard result == "done" else {
                    throw SandboxError(stage: .cgroup, item: "systemd scope \(unit)",
                                       reason: "the manager's job ended with \"\(result)\"")
                }
                break
            }
        }
        // The job is done once our pid is in the scope's cgroup; check rather than trust.
        let cgroup = Cgroup2.locate()?.path ?? ""
        guard cgroup.hasSuffix("/" + unit) else {
            throw SandboxError(stage: .cgroup, item: "systemd scope \(unit)",
                               reason: "started, but this process is in \(cgroup.isEmpty ? "no cgroup2 cgroup" : cgroup), not in it")
        }
        return unit
    }

    /// An authenticated connection to the manager's socket.
    struct Connection {
        let fd: Int32
        var buffer: [UInt8] = []

        init(path: String) throws(SandboxError) {
            fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw .system(.cgroup, errno, item: path) }
            var addr = sockaddr_un()
            addr.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
                close(fd)
                throw SandboxError(stage: .cgroup, item: path, reason: "socket path too long")
            }
            withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: bytes) }
            let rc = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            if rc != 0 {
                let err = errno
                close(fd)
                throw .system(.cgroup, err, item: path)
            }
            do { try authenticate(item: path) } catch {
                close(fd)
                throw error
            }
        }

        /// SASL EXTERNAL: the manager checks our uid against the socket's credentials.
        mutating func authenticate(item: String) throws(SandboxError) {
            let uid = Array(String(getuid()).utf8).map { String($0, radix: 16) }.joined()
            try send([0] + Array("AUTH EXTERNAL \(uid)\r\n".utf8), item: item)
            let line = try readLine(until: ContinuousClock.now + .seconds(5), item: item)
            guard line.hasPrefix("OK ") else {
                throw SandboxError(stage: .cgroup, item: item, reason: "the manager refused us: \(line)")
            }
            try send(Array("BEGIN\r\n".utf8), item: item)
        }

        func send(_ bytes: [UInt8], item: String) throws(SandboxError) {
            var sent = 0
            while sent < bytes.count {
                let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw .system(.cgroup, errno, item: item)
                }
                sent += n
            }
        }

        /// More bytes into the buffer, waiting at most until the deadline.
        mutating func fill(until deadline: ContinuousClock.Instant, item: String) throws(SandboxError) {
            let left = deadline - ContinuousClock.now
            let ms = max(0, Int32(clamping: left.milliseconds))
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, ms)
            if ready < 0 {
                if errno == EINTR { return }
                throw .system(.cgroup, errno, item: item)
            }
            guard ready > 0 else {
                throw SandboxError(stage: .cgroup, errno: ETIMEDOUT, item: item, reason: "the systemd user manager did not answer in time")
            }
            var chunk = [UInt8](repeating: 0, count: 16384)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                if errno == EINTR { return }
                throw .system(.cgroup, errno, item: item)
            }
            guard n > 0 else { throw SandboxError(stage: .cgroup, item: item, reason: "the systemd user manager closed the connection") }
            buffer += chunk[0..<n]
        }

        mutating func readLine(until deadline: ContinuousClock.Instant, item: String) throws(SandboxError) -> String {
            while true {
                if let end = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: buffer[..<end], as: UTF8.self)
                    buffer.removeSubrange(...end)
                    return line.hasSuffix("\r") ? String(line.dropLast()) : line
                }
                guard buffer.count < 4096 else { throw SandboxError(stage: .cgroup, item: item, reason: "no authentication reply") }
                try fill(until: deadline, item: item)
            }
        }

        mutating func receive(until deadline: ContinuousClock.Instant, item: String) throws(SandboxError) -> DBusMessage {
            while true {
                do {
                    let (m, length) = try DBusMessage.decode(buffer[...])
                    buffer.removeSubrange(..<length)
                    return m
                } catch {
                    switch error {
                    case .incomplete: try fill(until: deadline, item: item)
                    case let .malformed(what):
                        throw SandboxError(stage: .cgroup, item: item, reason: "a message from the manager is malformed (\(what))")
                    }
                }
            }
        }
    }
}
