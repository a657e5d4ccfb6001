// Spawn + wait of one sandbox running /bin/true through the RSandbox library, per iteration,
// next to the floor the issue compares it with (`unshare -Urmpf --mount-proc true`) and to a
// bare posix_spawn of /bin/true, all in the same process and run.
//
// Run by bench/spawn.sh as root with RSANDBOX_BENCH_UID/GID set: the process drops to that
// user before the first benchmark, so every sandbox is created rootless (root would skip the
// paths an unprivileged user takes). RSANDBOX_BENCH_ITERATIONS bounds the iterations.
import Benchmark
import CBenchShim
import Glibc
import RSandbox

let benchmarks: @Sendable () -> Void = {
    dropToBenchUser()
    let iterations = Int(getenv("RSANDBOX_BENCH_ITERATIONS").map { String(cString: $0) } ?? "") ?? 1000
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal],
        timeUnits: .microseconds,
        warmupIterations: 10,
        maxDuration: .seconds(30),
        maxIterations: iterations
    )

    // The spec `rsandbox run -- true` builds: user, pid and mount namespaces, a fresh /proc,
    // the reaper as pid 1, no capabilities, no_new_privs and the default seccomp filter.
    // The namespaces of unshare -Urmpf --mount-proc.
    Benchmark("library-default") { benchmark in
        for _ in benchmark.scaledIterations { spawnAndWait(.default) }
    }
    // The same without a seccomp filter (`--seccomp=unconfined`): unshare loads none either.
    Benchmark("library-unconfined") { benchmark in
        for _ in benchmark.scaledIterations { spawnAndWait(.default, seccomp: .unconfined) }
    }
    // `rsandbox run --unshare-all -- true`: also net (lo brought up), ipc, uts and cgroup.
    Benchmark("library-all") { benchmark in
        for _ in benchmark.scaledIterations { spawnAndWait(.all) }
    }
    Benchmark("unshare") { benchmark in
        for _ in benchmark.scaledIterations {
            posixSpawnAndWait(["/usr/bin/unshare", "-Urmpf", "--mount-proc", "/bin/true"])
        }
    }
    Benchmark("true") { benchmark in
        for _ in benchmark.scaledIterations { posixSpawnAndWait(["/bin/true"]) }
    }
}

/// The environment every child gets: the benchmark tool preloads its malloc interposer, which
/// must not reach the commands (it would slow every exec of the peers and ours alike).
let cleanEnvironment = ["PATH=/usr/bin:/bin"]

func spawnAndWait(_ namespaces: Namespaces, seccomp: SeccompPolicy = .default) {
    var spec = SandboxSpec(argv: ["/bin/true"])
    spec.namespaces = namespaces
    spec.seccomp = seccomp
    spec.environment = EnvironmentSpec(inherit: false, set: [EnvironmentVariable("PATH", "/usr/bin:/bin")])
    do {
        let sandbox = try Sandbox.spawn(spec)
        let status = try sandbox.waitBlocking()
        guard status.shellCode == 0 else { fatal("sandbox exited with \(status.shellCode)") }
    } catch {
        fatal("spawn: \(error)")
    }
}

func posixSpawnAndWait(_ argv: [String]) {
    var cArgs = argv.map { strdup($0) } + [nil]
    var cEnv = cleanEnvironment.map { strdup($0) } + [nil]
    defer {
        cArgs.forEach { free($0) }
        cEnv.forEach { free($0) }
    }
    var pid: pid_t = 0
    let r = posix_spawn(&pid, argv[0], nil, nil, &cArgs, &cEnv)
    guard r == 0 else { fatal("posix_spawn \(argv[0]): \(String(cString: strerror(r)))") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    guard status == 0 else { fatal("\(argv.joined(separator: " ")) exited with wait status \(status)") }
}

/// Becomes RSANDBOX_BENCH_UID/GID when started as root (like setpriv --reuid --regid
/// --clear-groups): as root, setuid sets the real, effective and saved ids, and glibc applies
/// the change to every thread. Refuses to measure as root.
func dropToBenchUser() {
    guard getuid() == 0 else { return }
    guard let u = getenv("RSANDBOX_BENCH_UID").flatMap({ UInt32(String(cString: $0)) }),
          let g = getenv("RSANDBOX_BENCH_GID").flatMap({ UInt32(String(cString: $0)) }), u != 0
    else {
        fatal("started as root without RSANDBOX_BENCH_UID/GID: the spawn must be measured rootless (run bench/spawn.sh)")
    }
    guard setgroups(0, nil) == 0, setgid(g) == 0, setuid(u) == 0, getuid() == u else {
        fatal("dropping to uid \(u): \(String(cString: strerror(errno)))")
    }
    // A change of credentials makes the process non-dumpable, and /proc/PID of its children
    // would then belong to root: the maps could not be written.
    guard bench_set_dumpable() == 0 else { fatal("PR_SET_DUMPABLE: \(String(cString: strerror(errno)))") }
}

func fatal(_ message: String) -> Never {
    let line = "spawn benchmark: \(message)\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
    exit(1)
}
