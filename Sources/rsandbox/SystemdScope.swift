import Glibc
import RSandbox

/// Limits on a systemd host without a delegated cgroup: run again inside a transient scope with
/// Delegate=yes, exactly what `systemd-run --user --scope -p Delegate=yes rsandbox …` does. The
/// scope's process is this one (systemd-run execs us in it), so signals and the exit status pass
/// through unchanged. We exec systemd-run rather than speak D-Bus through libsystemd, which has no
/// static library to link into the static executable (docs/limits.md).
enum SystemdScope {
    static let marker = "RSANDBOX_SYSTEMD_SCOPE"

    static func systemdRunPath() -> String? {
        let candidates: [String] = ["/usr/bin/systemd-run", "/bin/systemd-run"]
        return candidates.first { access($0, X_OK) == 0 }
    }

    /// Returns when the current cgroup can hold the limits (or the limits are nil); otherwise
    /// execs into a scope when a systemd user manager is reachable, else throws the cgroup error.
    static func ensure(_ limits: CgroupLimits?) throws(SandboxError) {
        guard let limits, !limits.isEmpty else { return }
        do {
            try Sandbox.prepareCgroup(for: limits)
        } catch {
            guard getenv(marker) == nil, HostProbe.systemdUserManager() != nil, let systemdRun = systemdRunPath() else {
                throw error
            }
            setenv(marker, "1", 1)
            // Our own path now: /proc/self/exe would name systemd-run once it runs.
            var buf = [CChar](repeating: 0, count: 4096)
            let n = readlink("/proc/self/exe", &buf, buf.count - 1)
            let exe = n > 0 ? String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
            let args: [String] = [systemdRun, "--user", "--scope", "--quiet", "--collect", "-p", "Delegate=yes", "--",
                                  exe] + Array(CommandLine.arguments.dropFirst())
            var cArgs: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) }
            cArgs.append(nil)
            execv(systemdRun, &cArgs)
            let err = errno
            throw SandboxError(stage: .cgroup, errno: err, item: systemdRun,
                               reason: "cannot run it for a delegated scope: \(errorString(err))", hint: error.hint)
        }
    }
}
