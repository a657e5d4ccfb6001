import Glibc

/// Writes a child's setgroups, uid_map and gid_map from the parent (single-id maps need no
/// helper: an unprivileged process may map its own euid and egid once setgroups is "deny").
struct IDMapWriter {
    let pid: pid_t

    /// Single-id maps need setgroups denied first; root writing ranges leaves it allowed.
    func write(uid: [IDMap], gid: [IDMap], denySetgroups: Bool) throws(SandboxError) {
        let dir = "/proc/\(pid)"
        if denySetgroups { try writeOnce(dir + "/setgroups", "deny") }
        try writeOnce(dir + "/uid_map", uid.map(\.line).joined())
        try writeOnce(dir + "/gid_map", gid.map(\.line).joined())
    }

    private func writeOnce(_ path: String, _ text: String) throws(SandboxError) {
        do {
            try SystemFile.write(path, text)
        } catch {
            throw SandboxError(stage: .idmap, errno: error.errno, item: "\(path) \(quoted(text.trimmingNewline))",
                               reason: errorString(error.errno),
                               hint: error.errno == EPERM
                                   ? "the kernel refused the map; `rsandbox doctor` shows whether user namespaces are allowed"
                                   : nil)
        }
    }
}

extension String {
    var trimmingNewline: String {
        hasSuffix("\n") ? String(dropLast()) : self
    }
}
