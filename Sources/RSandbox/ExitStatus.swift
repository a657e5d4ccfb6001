/// How a sandbox ended.
public struct ExitStatus: Sendable, Equatable {
    public enum Termination: Sendable, Equatable {
        /// The command called exit with this code.
        case exited(Int32)
        /// The command was killed by this signal.
        case signaled(Int32)
    }

    public var termination: Termination
    /// The sandbox's timeout expired and it was killed.
    public var timedOut: Bool
    /// What its cgroup recorded, when it had limits.
    public var usage: CgroupUsage? = nil

    /// The kernel's OOM killer killed a process of the sandbox (memory.events oom_kill).
    public var oomKilled: Bool { (usage?.oomKills ?? 0) > 0 }

    public init(termination: Termination, timedOut: Bool = false) {
        self.termination = termination
        self.timedOut = timedOut
    }

    /// Decodes a waitpid(2)-style status word.
    public init(waitStatus status: Int32, timedOut: Bool = false) {
        let sig = status & 0x7f
        if sig == 0 {
            termination = .exited((status >> 8) & 0xff)
        } else {
            termination = .signaled(sig)
        }
        self.timedOut = timedOut
    }

    /// The code a shell (and timeout(1)) would report: the exit code, 128+N for signal N,
    /// 124 for a timeout.
    public var shellCode: Int32 {
        if timedOut { return 124 }
        switch termination {
        case .exited(let code): return code
        case .signaled(let sig): return 128 + sig
        }
    }
}
