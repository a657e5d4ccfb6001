import Glibc
import RSandbox

/// `rsandbox run`'s flags as plain values, whichever parser read them.
struct RunOptions: Equatable {
    var unshareAll = false
    /// Read by nothing: a network namespace of its own is the default (--net none). Kept so
    /// that bubblewrap's --unshare-net parses, and both parsers give equal options.
    var unshareNet = false
    var unshareIpc = false
    var unshareUts = false
    var unshareCgroup = false
    var shareNet = false
    var sharePid = false
    var shareUser = false
    var asPid1 = false
    var uid: UInt32? = nil
    var gid: UInt32? = nil
    var hostname: String? = nil
    var chdir: String? = nil
    var setenv: [String] = []
    var unsetenv: [String] = []
    var clearenv = false
    var passFd: [String] = []
    var timeout: String? = nil
    var jsonStatus: String? = nil
    var dieWithParent = true
    var rootfs: String? = nil
    var map: String? = nil
    var uidMap: [String] = []
    var gidMap: [String] = []
    var memory: String? = nil
    var memorySwap: String? = nil
    var cpus: String? = nil
    var cpuWeight: String? = nil
    var pids: String? = nil
    var ioWeight: String? = nil
    var ioMax: [String] = []
    var capAdd: [String] = []
    var capDrop: [String] = []
    /// A profile file, or "unconfined".
    var seccomp: String? = nil
    /// nil: the command's default (run: no, shell: yes).
    var nestedUserns: Bool? = nil
    var net: String? = nil
    /// --publish values as given (checked by parseNet).
    var publish: [String] = []
    /// Filesystem steps in the order given.
    var steps: [MountStep] = []
    /// shell only: print the spec as JSON instead of running it.
    var printSpec = false
    var command: [String] = []

    func buildSpec() throws(SandboxError) -> SandboxSpec {
        let argv = command
        var ns = unshareAll ? Namespaces.all : Namespaces.default
        // --net none is the default: a network namespace of its own with only lo, up. The
        // host's network is asked for (--net host, --share-net), never inherited by surprise.
        ns.net = true
        if unshareIpc { ns.ipc = true }
        if unshareUts || hostname != nil { ns.uts = true }
        if unshareCgroup { ns.cgroup = true }
        if shareNet { ns.net = false }
        if sharePid { ns.pid = false }
        if shareUser { ns.user = false }
        let network = try parseNet(&ns)

        var env = EnvironmentSpec(inherit: !clearenv, unset: unsetenv)
        for s in setenv {
            guard let eq = s.firstIndex(of: "=") else {
                throw SandboxError(stage: .spec, item: "setenv \"\(s)\"", reason: "expected NAME=VALUE")
            }
            env.set.append(EnvironmentVariable(String(s[..<eq]), String(s[s.index(after: eq)...])))
        }
        var fds: [FileDescriptorMapping] = []
        for s in passFd {
            let parts = s.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2, let src = Int32(parts[0]),
                  let dst = parts.count == 2 ? Int32(parts[1]) : src else {
                throw SandboxError(stage: .spec, item: "pass-fd \"\(s)\"", reason: "expected FD or FD:TARGET (decimal numbers)")
            }
            fds.append(FileDescriptorMapping(source: src, target: dst))
        }
        var limit: Duration? = nil
        if let timeout {
            guard let d = DurationParser.parse(timeout) else {
                throw SandboxError(stage: .spec, item: "timeout \"\(timeout)\"",
                                   reason: "expected a duration such as 30, 1.5, 500ms, 2m or 1h")
            }
            limit = d
        }
        var mapping = IDMapping.current
        switch map {
        case nil, "current": break
        case "root": mapping = .root
        case "auto": mapping = .auto
        case let other?:
            throw SandboxError(stage: .spec, item: "map \"\(other)\"", reason: "expected current, root or auto")
        }
        if !uidMap.isEmpty || !gidMap.isEmpty {
            if map != nil {
                throw SandboxError(stage: .spec, item: "map", reason: "--map and --uid-map/--gid-map exclude each other")
            }
            if uidMap.isEmpty || gidMap.isEmpty {
                throw SandboxError(stage: .spec, item: uidMap.isEmpty ? "uid-map" : "gid-map",
                                   reason: "give both --uid-map and --gid-map")
            }
            mapping = .explicit(uid: try Self.mapLines(uidMap, "uid-map"), gid: try Self.mapLines(gidMap, "gid-map"))
        }
        var mounts: [Mount] = []
        for step in steps {
            mounts.append(try step.mount())
        }
        let limits = try parseLimits()
        let policy: SeccompPolicy
        switch seccomp {
        case nil: policy = .default
        case "unconfined": policy = .unconfined
        case let file?: policy = .profile(try SeccompProfileFile.load(file))
        }
        return SandboxSpec(
            argv: argv, environment: env, cwd: chdir, hostname: hostname, namespaces: ns,
            uid: uid, gid: gid ?? (uid == 0 ? 0 : nil), fds: fds, timeout: limit,
            dieWithParent: dieWithParent, commandIsPid1: asPid1, rootfs: rootfs, mounts: mounts,
            idMapping: mapping, idmapHelper: Self.helperOverride(), limits: limits,
            capabilities: try capabilities(), seccomp: policy, nestedUserNamespaces: nestedUserns ?? false,
            network: network)
    }

    /// --cap-add, then --cap-drop: the capabilities the command keeps, canonical names.
    func capabilities() throws(SandboxError) -> [String] {
        func words(_ v: [String]) -> [String] {
            v.flatMap { $0.split(separator: ",").map(String.init) }
        }
        func name(_ w: String, _ flag: String) throws(SandboxError) -> String {
            guard let c = Capabilities.canonical(w) else {
                throw SandboxError(stage: .spec, item: "\(flag) \"\(w)\"",
                                   reason: "is not a capability this kernel knows (see capabilities(7); e.g. CAP_NET_ADMIN, or ALL)")
            }
            return c
        }
        var kept: [String] = []
        for w in words(capAdd) {
            if w.uppercased() == "ALL" { kept = Capabilities.all; continue }
            let c = try name(w, "cap-add")
            if !kept.contains(c) { kept.append(c) }
        }
        for w in words(capDrop) {
            if w.uppercased() == "ALL" { kept = []; continue }
            let c = try name(w, "cap-drop")
            kept.removeAll { $0 == c }
        }
        return kept
    }

    /// --net none|host|bridge[=NAME]|user: sets the network namespace and returns the NIC to
    /// ask for. --publish belongs to --net user alone.
    func parseNet(_ ns: inout Namespaces) throws(SandboxError) -> NetworkAttachment? {
        if let first = publish.first, net != "user" {
            throw SandboxError(stage: .spec, item: "publish \"\(first)\"", reason: "needs --net user (ports are forwarded by pasta)")
        }
        guard let net else { return nil }
        switch net {
        case "none":
            ns.net = true
            return nil
        case "host":
            ns.net = false
            return nil
        case "user":
            ns.net = true
            var forwards: [PortForward] = []
            for p in publish { forwards.append(try PortForward(parsing: p)) }
            return .user(forwards: forwards)
        case "bridge":
            ns.net = true
            return .bridge(name: Self.defaultBridge, socket: Self.netdSocketOverride())
        case let v where v.hasPrefix("bridge="):
            ns.net = true
            return .bridge(name: String(v.dropFirst(7)), socket: Self.netdSocketOverride())
        default:
            throw SandboxError(stage: .spec, item: "net \"\(net)\"", reason: "expected none, host, bridge, bridge=NAME or user")
        }
    }

    /// The bridge `--net bridge` asks for without a name (docs/networking.md sets it up).
    static let defaultBridge = "rsbr0"

    /// RSANDBOX_NETD_SOCKET names another netd socket (a test's, a second netd); netd checks
    /// every caller itself, so this is the caller's own business.
    static func netdSocketOverride() -> String? {
        getenv("RSANDBOX_NETD_SOCKET").map { String(cString: $0) }
    }

    /// The limit flags, units and ranges checked here (validation checks them again).
    func parseLimits() throws(SandboxError) -> CgroupLimits? {
        var l = CgroupLimits()
        func bytes(_ v: String?, _ flag: String, zero: Bool = false) throws(SandboxError) -> UInt64? {
            guard let v else { return nil }
            if zero && v == "0" { return 0 }
            guard let n = RunArgumentParser.bytes(v) else {
                throw SandboxError(stage: .spec, item: "\(flag) \"\(v)\"",
                                   reason: "expected a size such as 512M or 2G\(zero ? " (or 0)" : "") greater than zero")
            }
            return n
        }
        func number(_ v: String?, _ flag: String) throws(SandboxError) -> UInt32? {
            guard let v else { return nil }
            guard let n = UInt32(v), n > 0 else {
                throw SandboxError(stage: .spec, item: "\(flag) \"\(v)\"", reason: "expected a whole number greater than zero")
            }
            return n
        }
        l.memory = try bytes(memory, "memory")
        l.memorySwap = try bytes(memorySwap, "memory-swap", zero: true)
        if let cpus {
            guard cpus.allSatisfy({ $0.isNumber || $0 == "." }), let c = Double(cpus), c > 0 else {
                throw SandboxError(stage: .spec, item: "cpus \"\(cpus)\"", reason: "expected a number of CPUs greater than zero, such as 0.5 or 2")
            }
            l.cpus = c
        }
        l.cpuWeight = try number(cpuWeight, "cpu-weight")
        l.pids = try number(pids, "pids")
        l.ioWeight = try number(ioWeight, "io-weight")
        l.ioMax = try ioMax.map(Self.ioMaxLimit)
        return l.isEmpty ? nil : l
    }

    /// `DEVICE:KEY=VALUE[,KEY=VALUE]`: rbps/wbps take sizes (1M), riops/wiops whole numbers.
    static func ioMaxLimit(_ v: String) throws(SandboxError) -> IOMax {
        let bad = { (reason: String) in SandboxError(stage: .spec, item: "io-max \"\(v)\"", reason: reason) }
        guard let colon = v.lastIndex(of: ":"), colon != v.startIndex else {
            throw bad("expected DEVICE:KEY=VALUE[,KEY=VALUE], e.g. /dev/sda:wbps=10M,riops=100")
        }
        var values: [String: UInt64] = [:]
        for pair in v[v.index(after: colon)...].split(separator: ",", omittingEmptySubsequences: false) {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard kv.count == 2, ["rbps", "wbps", "riops", "wiops"].contains(String(kv[0])) else {
                throw bad("\"\(pair)\" is not KEY=VALUE with KEY one of rbps, wbps, riops, wiops")
            }
            let key = String(kv[0])
            guard values[key] == nil else { throw bad("\(key) is given twice") }
            let number = key.hasSuffix("bps") ? RunArgumentParser.bytes(String(kv[1]))
                : (kv[1].allSatisfy { $0.isASCII && $0.isNumber } ? UInt64(kv[1]) : nil)
            guard let number, number > 0 else {
                throw bad("\(key) \"\(kv[1])\": expected \(key.hasSuffix("bps") ? "a size such as 10M" : "a whole number") greater than zero")
            }
            values[key] = number
        }
        return try IOMax(device: String(v[..<colon]), readBytesPerSecond: values["rbps"], writeBytesPerSecond: values["wbps"],
                         readIOPS: values["riops"], writeIOPS: values["wiops"])
    }

    /// INSIDE:OUTSIDE:COUNT lines, strict decimal.
    static func mapLines(_ values: [String], _ flag: String) throws(SandboxError) -> [IDMap] {
        var out: [IDMap] = []
        for v in values {
            let f = v.split(separator: ":", omittingEmptySubsequences: false)
            guard f.count == 3, f.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
                  let i = UInt32(f[0]), let o = UInt32(f[1]), let c = UInt32(f[2]) else {
                throw SandboxError(stage: .spec, item: "\(flag) \"\(v)\"", reason: "expected INSIDE:OUTSIDE:COUNT (decimal)")
            }
            out.append(IDMap(inside: i, outside: o, count: c))
        }
        return out
    }

    /// RSANDBOX_IDMAP names the helper to run (a build tree, a test); the helper trusts nothing
    /// from its caller, so this is the caller's own business.
    static func helperOverride() -> String? {
        getenv("RSANDBOX_IDMAP").map { String(cString: $0) }
    }

    /// Spawns, waits and reports; returns the exit code.
    func execute(spec given: SandboxSpec? = nil) -> Int32 {
        let started = Status.clock()
        // Blocked before the spawn so a SIGTERM during set-up still reaches the command.
        Sandbox.blockForwardedSignals()
        var status = Status(started: started)
        let code: Int32
        do {
            var spec: SandboxSpec
            if let given { spec = given } else { spec = try buildSpec() }
            let box = try Sandbox.spawn(spec)
            status.pid = box.pid
            let exit = try box.waitBlocking(forwarding: Sandbox.forwardedSignals)
            status.exit = exit
            code = exit.shellCode
            if exit.oomKilled {
                let limit = spec.limits?.memory.map(Self.size) ?? "?"
                let peak = exit.usage?.memoryPeak.map(Self.size) ?? "unknown"
                writeStderr("rsandbox: killed: out of memory (limit \(limit), peak \(peak))\n")
            }
        } catch {
            status.error = error
            code = Self.report(error)
        }
        status.finish(code: code)
        if let jsonStatus {
            do {
                try status.write(to: jsonStatus)
            } catch {
                writeStderr("rsandbox: json-status: \(jsonStatus): \(errorString(error.errno))\n")
                return code == 0 ? ExitCodes.setup : code
            }
        }
        return code
    }

    /// 536870912 → "512M".
    static func size(_ n: UInt64) -> String {
        for (unit, shift) in [("G", 30), ("M", 20), ("K", 10)] as [(String, UInt64)] where n >= 1 << shift {
            let v = Double(n) / Double(UInt64(1) << shift)
            return (v == v.rounded() ? String(Int(v)) : String(format1(v))) + unit
        }
        return "\(n)"
    }

    static func format1(_ v: Double) -> String {
        let tenths = Int((v * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    /// Prints `rsandbox: <stage>: <item>: <reason>` (and the hint) and returns the exit code.
    static func report(_ error: SandboxError) -> Int32 {
        writeStderr("rsandbox: \(error)\n")
        if let hint = error.hint { writeStderr("rsandbox: hint: \(hint)\n") }
        return exitCode(for: error)
    }

    static func exitCode(for error: SandboxError) -> Int32 {
        guard error.stage == .exec else { return ExitCodes.setup }
        return error.errno == ENOENT || error.errno == ENOTDIR ? ExitCodes.notFound : ExitCodes.cannotExecute
    }
}

/// A filesystem flag as given: a mount, or a file whose contents are still to be read.
enum MountStep: Equatable {
    case mount(Mount)
    case fileFromDescriptor(fd: Int32, destination: String, mode: UInt32?)

    func mount() throws(SandboxError) -> Mount {
        switch self {
        case .mount(let m):
            return m
        case .fileFromDescriptor(let fd, let dest, let mode):
            let (data, err) = DescriptorContents.read(fd)
            if err != 0 {
                throw SandboxError(stage: .spec, errno: err, item: "file \(fd) \"\(dest)\"",
                                   reason: "cannot read fd \(fd): \(errorString(err))")
            }
            return .file(destination: dest, contents: data, mode: mode)
        }
    }
}
