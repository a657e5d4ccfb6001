import Glibc

/// Everything a descriptor holds, read to EOF (--file FD, --seccomp FILE).
enum DescriptorContents {
    /// The bytes, and 0 or the errno of the read that failed.
    static func read(_ fd: Int32) -> (bytes: [UInt8], errno: Int32) {
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return (data, errno)
            }
            if n == 0 { return (data, 0) }
            data += chunk[0..<n]
        }
    }
}
