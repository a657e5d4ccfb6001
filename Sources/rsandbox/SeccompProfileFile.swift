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
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SandboxError(stage: .spec, errno: errno, item: item, reason: "cannot read: \(errorString(errno))")
            }
            if n == 0 { break }
            bytes += chunk[0..<n]
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
