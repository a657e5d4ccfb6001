import CRSandbox
import Glibc

/// A pty pair for an interactive sandbox: the replica becomes the command's stdio and
/// controlling terminal; the supervisor relays between its own terminal and the master.
public final class PseudoTerminal: @unchecked Sendable {
    public let master: Int32
    /// The command's end; close it in the supervisor once the sandbox is spawned.
    public private(set) var replica: Int32

    public init() throws(SandboxError) {
        var m: Int32 = -1
        var r: Int32 = -1
        let rc = rs_pty_open(&m, &r)
        if rc < 0 {
            throw .system(.session, -rc, item: "pseudo-terminal", hint: "is /dev/ptmx available?")
        }
        master = m
        replica = r
        _ = fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK)
    }

    deinit {
        close(master)
        closeReplica()
    }

    public func closeReplica() {
        if replica >= 0 {
            close(replica)
            replica = -1
        }
    }

    /// The replica as stdin, stdout and stderr of the command.
    public var stdio: [FileDescriptorMapping] {
        [0, 1, 2].map { FileDescriptorMapping(source: replica, target: $0) }
    }

    /// Copies the window size of the terminal on `fd` (the user's) to the pty.
    public func copyWindowSize(from fd: Int32) {
        _ = rs_winsize_copy(fd, master)
    }
}

/// The user's terminal in raw mode until `restore()`: keys go to the sandbox as typed
/// (Ctrl-C reaches the shell, not the supervisor).
public struct RawTerminalMode: Sendable {
    let fd: Int32
    let saved: termios

    /// Nil when `fd` is not a terminal.
    public init?(fd: Int32) {
        var t = termios()
        guard isatty(fd) == 1, tcgetattr(fd, &t) == 0 else { return nil }
        self.fd = fd
        saved = t
        var raw = t
        cfmakeraw(&raw)
        _ = tcsetattr(fd, TCSADRAIN, &raw)
    }

    public func restore() {
        var t = saved
        _ = tcsetattr(fd, TCSADRAIN, &t)
    }
}
