import RSandbox

/// Reads `rsandbox run` and `rsandbox shell` arguments in order, without ArgumentParser.
///
/// Two reasons. Mount steps are ordered (`--ro-bind / / --tmpfs /tmp --bind ~/p ~/p`), which
/// ArgumentParser cannot express across different flags. And start-up time is a feature: the
/// first dynamic protocol lookup ArgumentParser makes scans every conformance in the binary
/// (about 4 ms here). It knows exactly the flags `SandboxFlags` declares (tests hold the two
/// equal); help, unknown flags and option-looking command words without `--` are deferred to
/// ArgumentParser, which prints its usual message.
enum RunArgumentParser {
    enum Outcome: Equatable {
        case options(RunOptions)
        /// Let ArgumentParser speak (help, an unknown flag, a missing value).
        case deferred
        /// A value we read and refuse, with the message.
        case invalid(String)
    }

    nonisolated(unsafe) static let flags: [String: WritableKeyPath<RunOptions, Bool>] = [
        "--unshare-all": \.unshareAll, "--unshare-net": \.unshareNet, "--unshare-ipc": \.unshareIpc,
        "--unshare-uts": \.unshareUts, "--unshare-cgroup": \.unshareCgroup, "--share-net": \.shareNet,
        "--share-pid": \.sharePid, "--share-user": \.shareUser, "--as-pid-1": \.asPid1,
        "--clearenv": \.clearenv,
    ]

    /// Options with one value: store it, or return an error message.
    static let options: [String: @Sendable (inout RunOptions, String) -> String?] = [
        "--uid": { o, v in guard let n = UInt32(v) else { return "--uid \"\(v)\": expected a number" }; o.uid = n; return nil },
        "--gid": { o, v in guard let n = UInt32(v) else { return "--gid \"\(v)\": expected a number" }; o.gid = n; return nil },
        "--hostname": { o, v in o.hostname = v; return nil },
        "--chdir": { o, v in o.chdir = v; return nil },
        "--setenv": { o, v in o.setenv.append(v); return nil },
        "--unsetenv": { o, v in o.unsetenv.append(v); return nil },
        "--pass-fd": { o, v in o.passFd.append(v); return nil },
        "--timeout": { o, v in o.timeout = v; return nil },
        "--json-status": { o, v in o.jsonStatus = v; return nil },
        "--rootfs": { o, v in o.rootfs = v; return nil },
        "--map": { o, v in o.map = v; return nil },
        "--uid-map": { o, v in o.uidMap.append(v); return nil },
        "--gid-map": { o, v in o.gidMap.append(v); return nil },
        "--memory": { o, v in o.memory = v; return nil },
        "--memory-swap": { o, v in o.memorySwap = v; return nil },
        "--cpus": { o, v in o.cpus = v; return nil },
        "--cpu-weight": { o, v in o.cpuWeight = v; return nil },
        "--pids": { o, v in o.pids = v; return nil },
        "--io-weight": { o, v in o.ioWeight = v; return nil },
        "--io-max": { o, v in o.ioMax.append(v); return nil },
        "--cap-add": { o, v in o.capAdd.append(v); return nil },
        "--cap-drop": { o, v in o.capDrop.append(v); return nil },
        "--seccomp": { o, v in o.seccomp = v; return nil },
        "--net": { o, v in o.net = v; return nil },
        "--publish": { o, v in o.publish.append(v); return nil },
    ]

    /// Filesystem flags and how many values each takes.
    static let mountArity: [String: Int] = [
        "--bind": 2, "--bind-try": 2, "--ro-bind": 2, "--ro-bind-try": 2, "--dev-bind": 2, "--dev-bind-try": 2,
        "--tmpfs": 1, "--proc": 1, "--dev": 1, "--mqueue": 1, "--dir": 1, "--symlink": 2, "--file": 2,
        "--remount-ro": 1, "--chmod": 2, "--size": 1, "--perms": 1, "--overlay-src": 1,
        "--tmp-overlay": 1, "--ro-overlay": 1, "--overlay": 3,
    ]

    /// Every long name the parser knows, for `mode` (tests compare it with --help).
    static func knownNames(shell: Bool) -> Set<String> {
        var names = Set(flags.keys).union(options.keys).union(mountArity.keys)
            .union(["--die-with-parent", "--no-die-with-parent", "--nested-userns", "--no-nested-userns"])
        if shell { names.insert("--print-spec") }
        return names
    }

    /// Modifiers and overlay layers waiting for the step they apply to.
    private struct Pending {
        var size: UInt64? = nil
        var perms: UInt32? = nil
        var lowers: [String] = []
    }

    /// `args` are the words after `run` (or `shell`).
    static func parse(_ args: ArraySlice<String>, shell: Bool = false) -> Outcome {
        var o = RunOptions()
        var pending = Pending()
        var i = args.startIndex
        while i < args.endIndex {
            let a = args[i]
            i += 1
            if a == "--" {
                o.command = Array(args[i...])
                return .options(o)
            }
            guard a.hasPrefix("-") else {
                // A command without `--`: ArgumentParser would read its options as ours.
                let rest = args[(i - 1)...]
                if rest.contains(where: { $0.hasPrefix("-") }) { return .deferred }
                o.command = Array(rest)
                return .options(o)
            }
            var name = Substring(a)
            var inline: String? = nil
            if let eq = a.firstIndex(of: "=") {
                name = a[..<eq]
                inline = String(a[a.index(after: eq)...])
            }
            // -p: --publish's short name, the one short option (its value follows as a word).
            let key = a == "-p" ? "--publish" : String(name)
            if let flag = flags[key], inline == nil {
                o[keyPath: flag] = true
            } else if key == "--die-with-parent" || key == "--no-die-with-parent", inline == nil {
                o.dieWithParent = key == "--die-with-parent"
            } else if key == "--nested-userns" || key == "--no-nested-userns", inline == nil {
                o.nestedUserns = key == "--nested-userns"
            } else if shell && key == "--print-spec" && inline == nil {
                o.printSpec = true
            } else if let set = options[key] {
                guard let value = inline ?? take(args, &i) else { return .deferred }
                if let message = set(&o, value) { return .invalid(message) }
            } else if let arity = mountArity[key] {
                var values: [String] = []
                if let inline {
                    guard arity == 1 else { return .deferred }
                    values = [inline]
                } else {
                    for _ in 0..<arity {
                        guard let v = take(args, &i) else { return .deferred }
                        values.append(v)
                    }
                }
                if let message = addStep(key, values, to: &o, pending: &pending) { return .invalid(message) }
            } else {
                return .deferred
            }
        }
        return .options(o) // no command: validation says so for run; shell picks $SHELL
    }

    private static func take(_ args: ArraySlice<String>, _ i: inout Int) -> String? {
        guard i < args.endIndex, !args[i].hasPrefix("-") || args[i] == "-" else { return nil }
        defer { i += 1 }
        return args[i]
    }

    private static func addStep(_ flag: String, _ v: [String], to o: inout RunOptions, pending p: inout Pending) -> String? {
        func add(_ m: Mount) { o.steps.append(.mount(m)) }
        func mode() -> UInt32? { defer { p.perms = nil }; return p.perms }
        func layers(_ dest: String) -> [String]? {
            guard !p.lowers.isEmpty else { return nil }
            defer { p.lowers = [] }
            return p.lowers
        }
        switch flag {
        case "--bind": add(.bind(source: v[0], destination: v[1]))
        case "--bind-try": add(.bind(source: v[0], destination: v[1], options: .optional))
        case "--ro-bind": add(.bind(source: v[0], destination: v[1], options: .readOnly))
        case "--ro-bind-try": add(.bind(source: v[0], destination: v[1], options: [.readOnly, .optional]))
        case "--dev-bind": add(.bind(source: v[0], destination: v[1], options: .devices))
        case "--dev-bind-try": add(.bind(source: v[0], destination: v[1], options: [.devices, .optional]))
        case "--tmpfs":
            add(.tmpfs(destination: v[0], size: p.size, mode: mode()))
            p.size = nil
        case "--proc": add(.proc(destination: v[0]))
        case "--dev": add(.dev(destination: v[0]))
        case "--mqueue": add(.mqueue(destination: v[0]))
        case "--dir": add(.dir(destination: v[0], mode: mode()))
        case "--symlink": add(.symlink(target: v[0], destination: v[1]))
        case "--file":
            guard let fd = Int32(v[0]), fd >= 0 else { return "--file \"\(v[0])\": expected a descriptor number" }
            o.steps.append(.fileFromDescriptor(fd: fd, destination: v[1], mode: mode()))
        case "--remount-ro": add(.remountReadOnly(destination: v[0]))
        case "--chmod":
            guard let m = octal(v[0]) else { return "--chmod \"\(v[0])\": expected an octal mode such as 0755" }
            add(.chmod(destination: v[1], mode: m))
        case "--size":
            guard let n = bytes(v[0]) else { return "--size \"\(v[0])\": expected bytes such as 65536, 64K, 512M or 1G" }
            p.size = n
        case "--perms":
            guard let m = octal(v[0]) else { return "--perms \"\(v[0])\": expected an octal mode such as 0755" }
            p.perms = m
        case "--overlay-src": p.lowers.append(v[0])
        case "--tmp-overlay", "--ro-overlay", "--overlay":
            let dest = v[v.count - 1]
            guard let lowers = layers(dest) else { return "\(flag) \"\(dest)\": give its layers with --overlay-src first" }
            switch flag {
            case "--tmp-overlay": add(.overlay(lowers: lowers, destination: dest, mode: .temporary))
            case "--ro-overlay": add(.overlay(lowers: lowers, destination: dest, mode: .readOnly))
            default: add(.overlay(lowers: lowers, destination: dest, mode: .persistent(upper: v[0], work: v[1])))
            }
        default:
            return "\(flag): not a filesystem flag"
        }
        return nil
    }

    static func octal(_ s: String) -> UInt32? {
        guard !s.isEmpty, s.count <= 5, s.allSatisfy({ $0 >= "0" && $0 <= "7" }),
              let m = UInt32(s, radix: 8), m <= 0o7777 else { return nil }
        return m
    }

    /// "65536", "64K", "512M", "1G" (powers of 1024).
    static func bytes(_ s: String) -> UInt64? {
        let scale: [Character: UInt64] = ["K": 1 << 10, "k": 1 << 10, "M": 1 << 20, "m": 1 << 20, "G": 1 << 30, "g": 1 << 30]
        var digits = Substring(s)
        var factor: UInt64 = 1
        if let last = s.last, let f = scale[last] {
            digits = s.dropLast()
            factor = f
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let n = UInt64(digits), n > 0 else { return nil }
        let (r, overflow) = n.multipliedReportingOverflow(by: factor)
        return overflow ? nil : r
    }
}
