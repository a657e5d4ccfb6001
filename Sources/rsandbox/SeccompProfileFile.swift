import FoundationEssentials
import Glibc
import RSandbox

/// `--seccomp FILE`: an OCI/podman/docker JSON seccomp profile, decoded here (the library has no
/// Foundation). Read and decode errors name the file.
enum SeccompProfileFile {
    static func load(_ path: String) throws(SandboxError) -> SeccompProfile {
        let item = "seccomp \"\(path)\""
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            throw SandboxError(stage: .spec, errno: errno, item: item, reason: "cannot open: \(errorString(errno))")
        }
        defer { close(fd) }
        let (bytes, err) = DescriptorContents.read(fd)
        if err != 0 {
            throw SandboxError(stage: .spec, errno: err, item: item, reason: "cannot read: \(errorString(err))")
        }
        do {
            return try JSONDecoder().decode(SeccompProfile.self, from: Data(bytes))
        } catch {
            throw SandboxError(stage: .spec, item: item, reason: "not an OCI seccomp profile: \(describe(error))")
        }
    }

    /// One line: what is wrong and where ("syscalls[2].action: missing").
    static func describe(_ error: Error) -> String {
        guard let e = error as? DecodingError else { return "invalid JSON" }
        func path(_ c: DecodingError.Context) -> String {
            let p = c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined()
            return p.hasPrefix(".") ? String(p.dropFirst()) : p
        }
        switch e {
        case .keyNotFound(let key, let c):
            let at = path(c)
            return "\(at.isEmpty ? "" : at + ".")\(key.stringValue): missing"
        case .typeMismatch(_, let c), .valueNotFound(_, let c):
            return "\(path(c)): \(c.debugDescription)"
        case .dataCorrupted(let c):
            return c.codingPath.isEmpty ? "invalid JSON" : "\(path(c)): \(c.debugDescription)"
        @unknown default:
            return "invalid JSON"
        }
    }
}
