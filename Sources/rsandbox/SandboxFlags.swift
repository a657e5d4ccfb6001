import ArgumentParser

/// The flags `run` and `shell` share. ArgumentParser reads them for --help and for error
/// messages; `RunArgumentParser` reads them in order (mount steps are ordered, which
/// ArgumentParser cannot express across different flags). Tests hold the two equal.
struct SandboxFlags: ParsableArguments {
    @Flag(help: "Create all seven namespaces: user, pid, mount, net, ipc, uts, cgroup.")
    var unshareAll = false
    @Flag(help: "Create a new network namespace (only lo, up): the default, as --net none; kept for bubblewrap's scripts.")
    var unshareNet = false
    @Flag(help: "Create a new IPC namespace.")
    var unshareIpc = false
    @Flag(help: "Create a new UTS namespace (own hostname).")
    var unshareUts = false
    @Flag(help: "Create a new cgroup namespace.")
    var unshareCgroup = false
    @Flag(help: "Keep the host's network (no new network namespace), also with --unshare-all; as --net host.")
    var shareNet = false
    @Option(help: ArgumentHelp("Network: none (the default: own namespace, only lo), host (the host's), bridge[=NAME] (a veth on host bridge NAME, default rsbr0, from rsandbox-netd), or user (pasta: outbound only, no helper; see --publish); see docs/networking.md.", valueName: "MODE"))
    var net: String?
    @Option(name: [.customLong("publish"), .customShort("p")], help: ArgumentHelp("With --net user: forward host port HOSTPORT (on HOSTIP only, when given; IPv6 in brackets) to SANDBOXPORT inside, tcp unless /udp. Repeatable.", valueName: "[HOSTIP:]HOSTPORT:SANDBOXPORT[/tcp|/udp]"))
    var publish: [String] = []
    @Flag(help: "Keep the host's pid namespace (no reaper; a timeout kills only the command).")
    var sharePid = false
    @Flag(help: "Do not create a user namespace (root only).")
    var shareUser = false
    @Flag(name: .customLong("as-pid-1"), help: "Exec the command as pid 1 instead of under the reaper.")
    var asPid1 = false

    @Option(help: ArgumentHelp("The uid inside: your own (default) or 0; with --map auto or --uid-map any mapped uid. --uid 0 also makes the gid 0 unless --gid is given.", valueName: "UID"))
    var uid: UInt32?
    @Option(help: ArgumentHelp("The gid inside: your own (default) or 0; with range maps any mapped gid.", valueName: "GID"))
    var gid: UInt32?
    @Option(help: ArgumentHelp("How ids map: current (your own uid and gid only; the default), root (only yours, seen as 0) or auto (you are 0 inside, your /etc/subuid and /etc/subgid ranges are 1…N; needs rsandbox-idmap).", valueName: "MODE"))
    var map: String?
    @Option(help: ArgumentHelp("A uid map line (repeatable; with --gid-map). Ranges must be yours in /etc/subuid.", valueName: "INSIDE:OUTSIDE:COUNT"))
    var uidMap: [String] = []
    @Option(help: ArgumentHelp("A gid map line (repeatable; with --uid-map). Ranges must be yours in /etc/subgid.", valueName: "INSIDE:OUTSIDE:COUNT"))
    var gidMap: [String] = []
    @Option(help: ArgumentHelp("Hostname inside (implies --unshare-uts).", valueName: "NAME"))
    var hostname: String?
    @Option(help: ArgumentHelp("Working directory inside (absolute).", valueName: "DIR"))
    var chdir: String?
    @Option(help: ArgumentHelp("Set an environment variable (repeatable).", valueName: "NAME=VALUE"))
    var setenv: [String] = []
    @Option(help: ArgumentHelp("Remove an environment variable (repeatable).", valueName: "NAME"))
    var unsetenv: [String] = []
    @Flag(help: "Start from an empty environment (then --setenv applies).")
    var clearenv = false
    @Option(help: ArgumentHelp("Pass descriptor FD to the command, as FD or as TARGET (repeatable).", valueName: "FD[:TARGET]"))
    var passFd: [String] = []
    @Option(help: ArgumentHelp("Kill the whole sandbox after this long and exit 124 (e.g. 30, 1.5, 500ms, 2m).", valueName: "DURATION"))
    var timeout: String?
    @Option(help: ArgumentHelp("Write the outcome as one JSON object to FILE.", valueName: "FILE"))
    var jsonStatus: String?
    @Flag(inversion: .prefixedNo, help: "Kill the sandbox when rsandbox dies.")
    var dieWithParent = true

    // Resource limits, in a cgroup2 leaf of a delegated subtree (docs/limits.md).
    @Option(help: ArgumentHelp("memory.max: e.g. 512M, 2G (K, M, G suffixes). An OOM kill is reported.", valueName: "BYTES"))
    var memory: String?
    @Option(help: ArgumentHelp("memory.swap.max (0: no swap).", valueName: "BYTES"))
    var memorySwap: String?
    @Option(help: ArgumentHelp("cpu.max as a number of CPUs: 0.5 is half of one.", valueName: "N"))
    var cpus: String?
    @Option(help: ArgumentHelp("cpu.weight, 1-10000 (default 100).", valueName: "WEIGHT"))
    var cpuWeight: String?
    @Option(help: ArgumentHelp("pids.max: how many processes and threads at most.", valueName: "N"))
    var pids: String?
    @Option(help: ArgumentHelp("io.weight, 1-10000 (default 100): share of each disk under contention.", valueName: "WEIGHT"))
    var ioWeight: String?
    @Option(help: ArgumentHelp("io.max for one disk: DEVICE:KEY=VALUE[,KEY=VALUE], keys rbps, wbps (sizes: 1M), riops, wiops. Repeatable.", valueName: "LIMIT"))
    var ioMax: [String] = []

    // Hardening (docs/security.md): every capability dropped, no_new_privs, a seccomp deny-list.
    @Option(help: ArgumentHelp("Keep capability CAP (CAP_NET_ADMIN or net_admin; comma-separated or repeated; ALL for every one). Capabilities act only inside the sandbox's own user namespace: adding one never reaches beyond what that namespace holds.", valueName: "CAP"))
    var capAdd: [String] = []
    @Option(help: ArgumentHelp("Drop CAP again after --cap-add (ALL drops every one).", valueName: "CAP"))
    var capDrop: [String] = []
    @Option(help: ArgumentHelp("The seccomp filter: an OCI/podman JSON profile FILE, or unconfined for none. Default: rsandbox's deny-list (docs/security.md).", valueName: "FILE"))
    var seccomp: String?
    @Flag(inversion: .prefixedNo, help: "Let the command create user namespaces (nested sandboxes), use the mount API and mount /proc again. Default: no in run, yes in shell.")
    var nestedUserns: Bool?

    // Filesystem steps, applied in the order given, inside a root of the sandbox's own.
    @Option(help: ArgumentHelp("Use DIR as the root (pivot_root into it).", valueName: "DIR"))
    var rootfs: String?
    @Option(parsing: .upToNextOption, help: ArgumentHelp("Bind host SRC to DEST, read-write.", valueName: "SRC DEST"))
    var bind: [String] = []
    @Option(parsing: .upToNextOption, help: ArgumentHelp("Like --bind; skipped when SRC does not exist.", valueName: "SRC DEST"))
    var bindTry: [String] = []
    @Option(parsing: .upToNextOption, help: ArgumentHelp("Bind SRC to DEST read-only (every submount too).", valueName: "SRC DEST"))
    var roBind: [String] = []
    @Option(parsing: .upToNextOption, help: ArgumentHelp("Like --ro-bind; skipped when SRC does not exist.", valueName: "SRC DEST"))
    var roBindTry: [String] = []
    @Option(parsing: .upToNextOption, help: ArgumentHelp("Bind SRC to DEST with device access.", valueName: "SRC DEST"))
    var devBind: [String] = []
    @Option(parsing: .upToNextOption, help: ArgumentHelp("Like --dev-bind; skipped when SRC does not exist.", valueName: "SRC DEST"))
    var devBindTry: [String] = []
    @Option(help: ArgumentHelp("Mount a fresh tmpfs at DEST (see --size, --perms).", valueName: "DEST"))
    var tmpfs: [String] = []
    @Option(help: ArgumentHelp("Mount a fresh procfs at DEST.", valueName: "DEST"))
    var proc: [String] = []
    @Option(help: ArgumentHelp("Mount a minimal /dev at DEST (null zero full random urandom tty, pts, shm).", valueName: "DEST"))
    var dev: [String] = []
    @Option(help: ArgumentHelp("Mount POSIX message queues at DEST (needs --unshare-ipc).", valueName: "DEST"))
    var mqueue: [String] = []
    @Option(help: ArgumentHelp("Create directory DEST (see --perms).", valueName: "DEST"))
    var dir: [String] = []
    @Option(parsing: .upToNextOption, help: ArgumentHelp("Create symlink DEST pointing to TARGET.", valueName: "TARGET DEST"))
    var symlink: [String] = []
    @Option(parsing: .upToNextOption, help: ArgumentHelp("Create file DEST with the contents read from descriptor FD (see --perms).", valueName: "FD DEST"))
    var file: [String] = []
    @Option(help: ArgumentHelp("Make DEST read-only, recursively.", valueName: "DEST"))
    var remountRo: [String] = []
    @Option(parsing: .upToNextOption, help: ArgumentHelp("Change PATH's mode to OCTAL.", valueName: "OCTAL PATH"))
    var chmod: [String] = []
    @Option(help: ArgumentHelp("The next --tmpfs's size in bytes (K, M, G suffixes).", valueName: "BYTES"))
    var size: [String] = []
    @Option(help: ArgumentHelp("The next --tmpfs, --dir or --file's mode.", valueName: "OCTAL"))
    var perms: [String] = []
    @Option(help: ArgumentHelp("Add a lower layer for the next overlay (repeatable; first is lowest).", valueName: "SRC"))
    var overlaySrc: [String] = []
    @Option(help: ArgumentHelp("Overlay the --overlay-src layers at DEST; writes go to a tmpfs and vanish at exit.", valueName: "DEST"))
    var tmpOverlay: [String] = []
    @Option(help: ArgumentHelp("Overlay the --overlay-src layers at DEST, read-only.", valueName: "DEST"))
    var roOverlay: [String] = []
    @Option(parsing: .upToNextOption, help: ArgumentHelp("Overlay the --overlay-src layers at DEST; writes persist in RWSRC (WORKDIR: an empty dir on the same filesystem).", valueName: "RWSRC WORKDIR DEST"))
    var overlay: [String] = []
}
