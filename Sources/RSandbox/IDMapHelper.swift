import CRSandbox
import Glibc

/// Runs rsandbox-idmap (file capabilities) to write range maps for a child, between clone3
/// and the release. Its refusal becomes a SandboxError at stage idmap with its own words.
struct IDMapHelper {
    let path: String

    /// Where the helper is looked for when the spec names none.
    static let directories = ["/usr/local/libexec/rsandbox", "/usr/libexec/rsandbox"]

    /// The helper next to this executable, else in the install directories.
    static func locate() -> String? {
        let dirs = [HostProbe.executableDirectory()].compactMap { $0 } + directories
        return dirs.map { $0 + "/rsandbox-idmap" }.first { access($0, X_OK) == 0 }
    }

    static func notInstalled() -> SandboxError {
        SandboxError(stage: .idmap, errno: ENOENT, item: "rsandbox-idmap",
                     reason: "the helper for subordinate ranges is not installed",
                     hint: "sudo scripts/install-helpers (docs/idmap.md); `rsandbox doctor` checks it")
    }

    func write(pid: pid_t, uid: [IDMap], gid: [IDMap]) throws(SandboxError) {
        try run(.uid, pid: pid, lines: uid)
        try run(.gid, pid: pid, lines: gid)
    }

    private func run(_ kind: SubordinateIDs.Kind, pid: pid_t, lines: [IDMap]) throws(SandboxError) {
        var args = [path, kind.rawValue, String(pid)]
        for l in lines { args += [String(l.inside), String(l.outside), String(l.count)] }
        var cArgs = args.map { strdup($0) }
        cArgs.append(nil)
        defer { for p in cArgs { free(p) } }
        var err = [CChar](repeating: 0, count: 1024)
        let status = rs_run_helper(path, &cArgs, &err, UInt(err.count))
        let item = "\(kind.rawValue)_map of pid \(pid)"
        if status < 0 {
            throw .system(.idmap, -status, item: item + " (running \(path))",
                          hint: "is rsandbox-idmap installed and executable? `rsandbox doctor` checks it")
        }
        if status != 0 {
            var text = String(cString: err).trimmingNewline
            if text.hasPrefix("rsandbox-idmap: ") { text.removeFirst("rsandbox-idmap: ".count) }
            if let nl = text.firstIndex(of: "\n") { text = String(text[..<nl]) }
            throw SandboxError(stage: .idmap, errno: 0, item: item,
                               reason: text.isEmpty ? "rsandbox-idmap failed (status \(status))" : text,
                               hint: "`rsandbox doctor` lists your ranges and checks the helper's capabilities")
        }
    }
}
