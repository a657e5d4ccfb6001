/// A seccomp profile in the OCI runtime-spec / podman / docker JSON format (`linux.seccomp`, or
/// the files under /usr/share/containers/seccomp.json). The CLI decodes it; the library compiles
/// it with libseccomp (SeccompFilter). Keys this type does not name (comments, flags, listener
/// settings) are ignored by the decoder.
public struct SeccompProfile: Codable, Sendable, Equatable {
    /// SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL_PROCESS, …
    public var defaultAction: String
    /// The errno of a default SCMP_ACT_ERRNO (EPERM when absent).
    public var defaultErrnoRet: UInt32?
    /// SCMP_ARCH_X86_64, SCMP_ARCH_X86, …; none: the native architecture only.
    public var architectures: [String]?
    /// docker's form: an architecture and the sub-architectures that go with it.
    public var archMap: [ArchMap]?
    public var syscalls: [Rule]?

    public init(defaultAction: String, defaultErrnoRet: UInt32? = nil, architectures: [String]? = nil,
                archMap: [ArchMap]? = nil, syscalls: [Rule]? = nil) {
        self.defaultAction = defaultAction
        self.defaultErrnoRet = defaultErrnoRet
        self.architectures = architectures
        self.archMap = archMap
        self.syscalls = syscalls
    }

    public struct ArchMap: Codable, Sendable, Equatable {
        public var architecture: String
        public var subArchitectures: [String]?
    }

    public struct Rule: Codable, Sendable, Equatable {
        public var names: [String]?
        /// The old single-name form.
        public var name: String?
        public var action: String
        public var errnoRet: UInt32?
        public var args: [Argument]?
        /// docker: the rule applies only when these hold (capabilities kept, architecture).
        public var includes: Condition?
        /// docker: the rule does not apply when these hold.
        public var excludes: Condition?

        public init(names: [String], action: String, errnoRet: UInt32? = nil, args: [Argument]? = nil) {
            self.names = names
            self.action = action
            self.errnoRet = errnoRet
            self.args = args
        }

        /// Every syscall name the rule covers.
        public var allNames: [String] { (names ?? []) + (name.map { [$0] } ?? []) }
    }

    public struct Argument: Codable, Sendable, Equatable {
        public var index: UInt32
        public var value: UInt64
        public var valueTwo: UInt64?
        /// SCMP_CMP_EQ, SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_GT, SCMP_CMP_GE, SCMP_CMP_MASKED_EQ
        public var op: String

        public init(index: UInt32, value: UInt64, valueTwo: UInt64? = nil, op: String) {
            self.index = index
            self.value = value
            self.valueTwo = valueTwo
            self.op = op
        }
    }

    public struct Condition: Codable, Sendable, Equatable {
        public var caps: [String]?
        public var arches: [String]?
        /// "5.8": the kernel must be at least this (includes) / below it (excludes).
        public var minKernel: String?
    }
}

/// Which seccomp filter the command runs under.
public enum SeccompPolicy: Codable, Sendable, Equatable {
    /// rsandbox's deny-list (docs/security.md), covering the native and the 32-bit ABIs.
    case `default`
    /// No filter at all (`--seccomp=unconfined`).
    case unconfined
    /// A user profile (`--seccomp FILE`).
    case profile(SeccompProfile)
}
