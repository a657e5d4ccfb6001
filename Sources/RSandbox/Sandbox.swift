import CRSandbox
import Glibc
import Synchronization

/// A running sandbox. Wait for it, signal it, or drop it: a handle dropped before its sandbox
/// was waited for kills and reaps it, so nothing outlives its owner and no fd leaks.
public final class Sandbox: Sendable {
    /// The pid, in the caller's pid namespace, of the sandbox's first process (the reaper when
    /// there is a new pid namespace, otherwise the command).
    public let pid: pid_t
    /// A pidfd for `pid`; owned by the handle.
    public let pidfd: Int32
    /// Whether killing `pid` kills every process of the sandbox (it has its own pid namespace).
    public let ownsPidNamespace: Bool
    private let statusFD: Int32
    private let timeout: Duration?
    /// The command shares the caller's session (and so gets its terminal's signals directly).
    private let sharesCallerSession: Bool
    private let leaf: Cgroup2.Leaf?
    private let result = Mutex<ExitStatus?>(nil)
    private let connection: Mutex<NetworkConnection?>

    /// The NIC rsandbox-netd gave it (`NetworkAttachment.bridge`); nil otherwise.
    public let networkLease: NetworkLease?

    init(child: rs_child, plan: Plan, timeout: Duration?, leaf: Cgroup2.Leaf? = nil, network: NetworkConnection? = nil) {
        self.leaf = leaf
        networkLease = network?.lease
        connection = Mutex(network)
        pid = child.pid
        pidfd = child.pidfd
        statusFD = child.status_fd
        ownsPidNamespace = plan.cloneFlags & RS_CLONE_NEWPID != 0
        self.timeout = timeout
        sharesCallerSession = !plan.newSession && !plan.controllingTerminal
        if statusFD >= 0 {
            _ = fcntl(statusFD, F_SETFL, O_NONBLOCK)
        }
    }

    deinit {
        if result.withLock({ $0 == nil }) {
            _ = rs_pidfd_send_signal(pidfd, SIGKILL)
            var status: Int32 = 0
            _ = rs_pidfd_wait(pidfd, WEXITED, &status)
        }
        close(pidfd)
        if statusFD >= 0 { close(statusFD) }
        leaf?.remove()
        endNetwork()
    }

    /// Gives the lease back (or stops pasta) once; the sandbox is gone by then.
    private func endNetwork() {
        connection.withLock { c in
            c?.end()
            c = nil
        }
    }

    /// Creates the sandbox and starts its command. Validates the spec first.
    public static func spawn(_ spec: SandboxSpec, caller: Caller = .current) throws(SandboxError) -> Sandbox {
        let sub = spec.idMapping.isSingle ? nil : SubordinateIDs(caller: caller)
        try spec.validate(caller: caller, subordinateIDs: sub)
        let plan = Plan(spec: spec, caller: caller, subordinateIDs: sub)
        return try Spawner(plan: plan, helper: spec.idmapHelper, limits: spec.limits, network: spec.network)
            .spawn(timeout: spec.timeout)
    }

    /// Sends `sig` to the sandbox's first process. With a reaper as pid 1, SIGTERM, SIGINT,
    /// SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 are passed on to the command; SIGKILL kills all.
    public func signal(_ sig: Int32) throws(SandboxError) {
        if result.withLock({ $0 != nil }) {
            throw SandboxError(stage: .signal, errno: ESRCH, item: "pid \(pid)", reason: "the sandbox has already exited")
        }
        let r = rs_pidfd_send_signal(pidfd, sig)
        if r < 0 {
            throw .system(.signal, -r, item: "pid \(pid)")
        }
    }

    /// Kills the sandbox (all of it when it has its own pid namespace). Harmless once it exited.
    public func kill() {
        leaf?.kill()
        _ = rs_pidfd_send_signal(pidfd, SIGKILL)
    }

    /// Waits for the sandbox to end, honouring the spec's timeout. The blocking part runs on a
    /// thread of its own, never on a cooperative one.
    public func wait() async throws(SandboxError) -> ExitStatus {
        if let done = result.withLock({ $0 }) { return done }
        let outcome = await BlockingThread.run { [self] in
            Result { () throws(SandboxError) -> ExitStatus in try self.waitBlocking() }
        }
        return try outcome.get()
    }

    /// Waits on the calling thread. Signals in `forwarding` that reach the caller are passed on
    /// to the sandbox (the CLI uses this). When the command shares the caller's session, signals
    /// a tty sends to the whole foreground process group already reached it and are not sent
    /// twice. With `relay`, the caller's stdin and stdout are joined to the pty's master and
    /// SIGWINCH copies the caller's window size to it.
    public func waitBlocking(forwarding signals: [Int32] = [], relay: PseudoTerminal? = nil) throws(SandboxError) -> ExitStatus {
        if let done = result.withLock({ $0 }) { return done }
        var sfd: Int32 = -1
        var mask: UInt64 = 0
        for s in signals where s > 0 && s <= 64 { mask |= 1 << UInt64(s - 1) }
        if relay != nil { mask |= 1 << UInt64(SIGWINCH - 1) }
        if mask != 0 {
            sfd = rs_signalfd_for(mask)
            if sfd < 0 { throw .system(.wait, -sfd, item: "signalfd") }
        }
        defer {
            if sfd >= 0 {
                close(sfd)
                _ = rs_unblock(mask)
            }
        }
        var input: Int32 = relay == nil ? -1 : 0
        var output: Int32 = relay?.master ?? -1
        let deadline = timeout.map { MonotonicClock.now() + $0 }
        var timedOut = false
        while true {
            var fds = [pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: sfd, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: input, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: output, events: Int16(POLLIN), revents: 0)]
            var wait: Int32 = -1
            if let deadline, !timedOut {
                let left = deadline - MonotonicClock.now()
                if left <= .zero {
                    // The whole sandbox: pid 1 of its pid namespace takes every process with it.
                    timedOut = true
                    kill()
                    continue
                }
                wait = Int32(clamping: left.milliseconds + 1)
            }
            let n = poll(&fds, nfds_t(fds.count), wait)
            if n < 0 {
                if errno == EINTR { continue }
                throw .system(.wait, errno, item: "pid \(pid)")
            }
            if let relay {
                if fds[3].revents != 0 && !Self.copy(from: relay.master, to: 1) { output = -1 }
                if fds[2].revents != 0 && !Self.copy(from: 0, to: relay.master) { input = -1 }
            }
            if fds[0].revents != 0 {
                if let relay { _ = Self.copy(from: relay.master, to: 1) }
                return try reap(timedOut: timedOut)
            }
            if sfd >= 0 && fds[1].revents != 0 {
                forwardPending(from: sfd, relay: relay)
            }
        }
    }

    /// Moves what is ready from `from` to `to`; false once `from` is done (EOF, EIO, hung up).
    private static func copy(from: Int32, to: Int32) -> Bool {
        var buf = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = buf.withUnsafeMutableBytes { read(from, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return errno == EAGAIN
            }
            if n == 0 { return false }
            var off = 0
            while off < n {
                let w = buf.withUnsafeBytes { write(to, $0.baseAddress! + off, n - off) }
                if w < 0 {
                    if errno == EINTR { continue }
                    if errno == EAGAIN {
                        var p = pollfd(fd: to, events: Int16(POLLOUT), revents: 0)
                        _ = poll(&p, 1, 100)
                        continue
                    }
                    return true // the reader is gone; keep draining the source
                }
                off += w
            }
            if from == 0 { return true } // stdin blocks: one read per wake-up
        }
    }

    private func forwardPending(from sfd: Int32, relay: PseudoTerminal?) {
        while true {
            var fromKernel: Int32 = 0
            let sig = rs_signalfd_read(sfd, &fromKernel)
            if sig <= 0 { return }
            if sig == SIGWINCH, let relay {
                relay.copyWindowSize(from: 0)
            } else if fromKernel == 0 || !sharesCallerSession {
                _ = rs_pidfd_send_signal(pidfd, sig)
            }
        }
    }

    private func reap(timedOut: Bool) throws(SandboxError) -> ExitStatus {
        var status: Int32 = 0
        let r = rs_pidfd_wait(pidfd, WEXITED, &status)
        if r < 0 {
            throw .system(.wait, -r, item: "pid \(pid)")
        }
        // The reaper (pid 1) writes the command's own status; an init cannot die of a signal.
        var commandStatus: Int32 = 0
        if statusFD >= 0,
           read(statusFD, &commandStatus, MemoryLayout<Int32>.size) == MemoryLayout<Int32>.size {
            status = commandStatus
        }
        var done = ExitStatus(waitStatus: status, timedOut: timedOut)
        if let leaf {
            done.usage = leaf.usage()
            leaf.remove()
        }
        endNetwork()
        result.withLock { $0 = done }
        return done
    }
}

extension Duration {
    var milliseconds: Int64 {
        let (s, atto) = components
        return s * 1000 + atto / 1_000_000_000_000_000
    }

    var nanoseconds: Int64 {
        let (s, atto) = components
        return s * 1_000_000_000 + atto / 1_000_000_000
    }
}

/// CLOCK_MONOTONIC as a Duration since an arbitrary start.
enum MonotonicClock {
    static func now() -> Duration {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return .seconds(ts.tv_sec) + .nanoseconds(ts.tv_nsec)
    }
}

extension Sandbox {
    /// The signals a supervisor passes on to the command (the reaper forwards the same set).
    public static let forwardedSignals: [Int32] = [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2]

    /// Blocks `forwardedSignals` in the calling thread, so that they queue for `waitBlocking`
    /// instead of killing the supervisor. Call it before `spawn`, from a single-threaded process.
    public static func blockForwardedSignals() {
        var mask: UInt64 = 0
        for s in forwardedSignals { mask |= 1 << UInt64(s - 1) }
        let fd = rs_signalfd_for(mask)
        if fd >= 0 { close(fd) }
    }
}
