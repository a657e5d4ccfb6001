import Glibc
import RSandbox

/// Limits on a systemd host without a delegated cgroup: run again inside a transient scope with
/// Delegate=yes, exactly what `systemd-run --user --scope -p Delegate=yes rsandbox …` does. The
/// scope's process is this one (systemd-run execs us in it), so signals and the exit status pass
/// through unchanged. We exec systemd-run rather than speak D-Bus through libsystemd, which has no
/// static library to link into the static executable (docs/limits.md).
enum SystemdScope {
    static let marker = "RSANDBOX_SYSTEMD_SCOPE"

    /// Returns when the spec has no limits or the current cgroup can hold them; otherwise execs
    /// into a scope when a systemd user manager is reachable, else throws the cgroup error. The
    /// spec is validated first, so bad values are refused before any cgroup or scope work.
    static func ensure(_ spec: SandboxSpec) throws(SandboxError) {
        guard let limits = spec.limits, !limits.isEmpty else { return }
        try spec.validate()
        do {
            try Sandbox.prepareCgroup(for: limits)
        } catch {
            guard getenv(marker) == nil, HostProbe.systemdUserManager() != nil, let systemdRun = HostProbe.systemdRunPath() else {
                throw error
            }
            setenv(marker, "1", 1)
            // Our own path now: /proc/self/exe would name systemd-run once it runs.
            let exe = HostProbe.executablePath() ?? CommandLine.arguments[0]
            let args: [String] = [systemdRun, "--user", "--scope", "--quiet", "--collect", "-p", "Delegate=yes", "--",
                                  exe] + Array(CommandLine.arguments.dropFirst())
            var cArgs: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) }
            cArgs.append(nil)
            execv(systemdRun, &cArgs)
            let err = errno
            for p in cArgs { free(p) }
            throw SandboxError(stage: .cgroup, errno: err, item: systemdRun,
                               reason: "cannot run it for a delegated scope: \(errorString(err))", hint: error.hint)
        }
    }
}
