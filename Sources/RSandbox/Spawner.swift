import CRSandbox
import Glibc

/// Turns a Plan into a running sandbox: clone3, maps, release, and the child's report.
struct Spawner {
    let plan: Plan

    /// The rsandbox-idmap to run, when the plan needs one.
    var helper: String? = nil

    /// Resource limits: a leaf in the delegated subtree, the child born in it.
    var limits: CgroupLimits? = nil

    /// A NIC for the child's network namespace, attached before the child runs anything.
    var network: NetworkAttachment? = nil

    func spawn(timeout: Duration?) throws(SandboxError) -> Sandbox {
        let filtered = plan.seccomp != .unconfined
        let (policy, nested, caps) = (plan.seccomp, plan.nestedUserNamespaces, plan.capabilities)
        let filter = FilterBuild({
            Result { () throws(SandboxError) in
                try SeccompFilter.program(policy, nestedUserNamespaces: nested, capabilities: caps)
            }
        }, background: filtered && !SeccompFilter.isBuilt(policy, nestedUserNamespaces: nested, capabilities: caps))
        // Found before anything is cloned: a missing helper is a clear error, never a fallback.
        var helperPath: String? = nil
        if plan.needsHelper {
            guard let found = helper ?? IDMapHelper.locate() else { throw IDMapHelper.notInstalled() }
            helperPath = found
        }
        var leaf: Cgroup2.Leaf? = nil
        var cgroupFD: Int32 = -1
        if let limits, !limits.isEmpty {
            let cg = try Cgroup2.prepareDelegated(for: limits.controllers)
            let l = try cg.makeLeaf(limits: limits)
            cgroupFD = l.open()
            if cgroupFD < 0 {
                let err = errno
                l.remove()
                throw .system(.cgroup, err, item: l.path)
            }
            leaf = l
        }
        defer { if cgroupFD >= 0 { close(cgroupFD) } }
        let arena = PlanArena(plan, cgroupFD: cgroupFD)
        var child = rs_child(pid: 0, pidfd: -1, sync_fd: -1, report_fd: -1, status_fd: -1)
        var raw = arena.raw
        let r = withExtendedLifetime(arena) { rs_spawn(&raw, &child) }
        if r < 0 {
            leaf?.remove()
            throw cloneError(-r)
        }
        // From here on a failure ends the child and gives back the leaf and the NIC, in one place.
        var attachment: NetworkConnection? = nil
        do throws(SandboxError) {
            if !plan.uidMaps.isEmpty {
                if let helperPath {
                    try IDMapHelper(path: helperPath).write(pid: child.pid, uid: plan.uidMaps, gid: plan.gidMaps)
                } else {
                    try IDMapWriter(pid: child.pid).write(uid: plan.uidMaps, gid: plan.gidMaps, denySetgroups: plan.denySetgroups)
                }
            }
            // The command runs only once its NIC is configured: netd answers after eth0 is up.
            if let network {
                attachment = try NetworkConnection.attach(network, pid: child.pid)
            }
            let released = rs_release(&child, filtered ? 1 : 0)
            if released < 0 { throw .system(.sync, -released, item: "pid \(child.pid)") }
            if filtered {
                // Built on its own thread since the start (FilterBuild), while this one made the
                // plan, cloned, wrote the maps, and the child set up its mounts.
                do throws(SandboxError) {
                    let program = try filter.program() ?? []
                    let sent = program.withUnsafeBytes { rs_send_filter(&child, $0.baseAddress, UInt32($0.count)) }
                    // EPIPE: the child failed its set-up and left; its report (below) says why.
                    if sent < 0 && sent != -EPIPE { throw SandboxError.system(.seccomp, -sent, item: "seccomp filter") }
                } catch {
                    _ = rs_send_filter(&child, nil, 0)
                    throw error
                }
            }
            var report = rs_report()
            let got = rs_read_report(child.report_fd, &report)
            close(child.report_fd)
            child.report_fd = -1
            if got < 0 { throw .system(.sync, -got, item: "report pipe") }
            if got > 0 { throw SandboxError(report: report, plan: plan) }
        } catch {
            abort(&child)
            leaf?.remove()
            attachment?.end()
            throw error
        }
        return Sandbox(child: child, plan: plan, timeout: timeout, leaf: leaf, network: attachment)
    }

    private func cloneError(_ err: Int32) -> SandboxError {
        let names = namespaceNames()
        var hint: String? = nil
        switch err {
        case EPERM, EACCES, ENOSPC, EUSERS:
            hint = "this host does not let you create these namespaces; run `rsandbox doctor`"
        case EINVAL:
            hint = "the kernel refused this combination of namespaces; run `rsandbox doctor`"
        case ENOSYS:
            hint = "clone3 needs Linux 5.3 or newer"
        default:
            break
        }
        return .system(.clone, err, item: "namespaces \(names)", hint: hint)
    }

    private func namespaceNames() -> String {
        let bits: [(UInt64, String)] = [(RS_CLONE_NEWUSER, "user"), (RS_CLONE_NEWPID, "pid"), (RS_CLONE_NEWNS, "mount"),
                                       (RS_CLONE_NEWNET, "net"), (RS_CLONE_NEWIPC, "ipc"), (RS_CLONE_NEWUTS, "uts"),
                                       (RS_CLONE_NEWCGROUP, "cgroup")]
        let on = bits.filter { plan.cloneFlags & $0.0 != 0 }.map(\.1)
        return on.isEmpty ? "none" : on.joined(separator: ",")
    }

    /// Ends a child that will not run: closing the sync pipe makes it exit; kill covers the rest.
    private func abort(_ child: inout rs_child) {
        if child.sync_fd >= 0 { close(child.sync_fd); child.sync_fd = -1 }
        _ = rs_pidfd_send_signal(child.pidfd, SIGKILL)
        var status: Int32 = 0
        _ = rs_pidfd_wait(child.pidfd, WEXITED, &status)
        for fd in [child.pidfd, child.report_fd, child.status_fd] where fd >= 0 {
            close(fd)
        }
        child.pidfd = -1
        child.report_fd = -1
        child.status_fd = -1
    }
}
