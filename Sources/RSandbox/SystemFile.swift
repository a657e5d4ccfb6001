import Glibc

/// An errno from a failed file operation.
struct SystemError: Error {
    var errno: Int32
}

/// Small-file I/O on top of Glibc (the library does not use Foundation).
enum SystemFile {
    /// The whole file, or nil when it cannot be read.
    static func read(_ path: String, limit: Int = 1 << 20) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < limit {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The space-separated words of a one-line file (cgroup.controllers), empty when unreadable.
    static func words(_ path: String) -> [String] {
        (read(path) ?? "").trimmingNewline.split(separator: " ").map(String.init)
    }

    /// Writes `text` with one write(2), as procfs files such as uid_map require.
    static func write(_ path: String, _ text: String) throws(SystemError) {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError(errno: errno) }
        defer { close(fd) }
        var text = text
        let n = text.withUTF8 { Glibc.write(fd, $0.baseAddress, $0.count) }
        if n < 0 { throw SystemError(errno: errno) }
        if n != text.utf8.count { throw SystemError(errno: EIO) }
    }
}
