import Glibc

/// One block device's line in io.max: bytes and operations per second, each optional
/// (unset means no limit). The device is named by its node; its number is what the kernel reads.
public struct IOMax: Codable, Sendable, Equatable {
    /// The device node as the user named it (for messages).
    public var device: String
    public var major: UInt32
    public var minor: UInt32
    public var readBytesPerSecond: UInt64?
    public var writeBytesPerSecond: UInt64?
    public var readIOPS: UInt64?
    public var writeIOPS: UInt64?

    public init(device: String, major: UInt32, minor: UInt32, readBytesPerSecond: UInt64? = nil,
                writeBytesPerSecond: UInt64? = nil, readIOPS: UInt64? = nil, writeIOPS: UInt64? = nil) {
        self.device = device
        self.major = major
        self.minor = minor
        self.readBytesPerSecond = readBytesPerSecond
        self.writeBytesPerSecond = writeBytesPerSecond
        self.readIOPS = readIOPS
        self.writeIOPS = writeIOPS
    }

    /// Looks the device's number up: `device` must be a block device node.
    public init(device: String, readBytesPerSecond: UInt64? = nil, writeBytesPerSecond: UInt64? = nil,
                readIOPS: UInt64? = nil, writeIOPS: UInt64? = nil) throws(SandboxError) {
        var st = stat()
        guard stat(device, &st) == 0 else { throw .system(.spec, errno, item: "io-max \(device)") }
        guard st.st_mode & S_IFMT == S_IFBLK else {
            throw .spec("io-max \(device)", "not a block device (io.max limits a disk, e.g. /dev/sda)")
        }
        let (major, minor) = Self.split(UInt64(st.st_rdev))
        // The io controller works on whole disks: the kernel refuses a partition's number (ENODEV).
        if access("/sys/dev/block/\(major):\(minor)/partition", F_OK) == 0 {
            throw .spec("io-max \(device)", "a partition; io.max limits whole disks, give the disk it is on")
        }
        self.init(device: device, major: major, minor: minor,
                  readBytesPerSecond: readBytesPerSecond, writeBytesPerSecond: writeBytesPerSecond,
                  readIOPS: readIOPS, writeIOPS: writeIOPS)
    }

    /// glibc's gnu_dev_major/gnu_dev_minor (macros Swift does not import).
    static func split(_ dev: UInt64) -> (UInt32, UInt32) {
        (UInt32(truncatingIfNeeded: ((dev >> 8) & 0xfff) | ((dev >> 32) & ~0xfff)),
         UInt32(truncatingIfNeeded: (dev & 0xff) | ((dev >> 12) & ~0xff)))
    }

    /// `MAJ:MIN rbps=… wbps=… riops=… wiops=…`, only the keys that are set.
    var line: String {
        var l = "\(major):\(minor)"
        for (key, value) in [("rbps", readBytesPerSecond), ("wbps", writeBytesPerSecond),
                             ("riops", readIOPS), ("wiops", writeIOPS)] {
            if let value { l += " \(key)=\(value)" }
        }
        return l
    }

    func validate() throws(SandboxError) {
        let values = [readBytesPerSecond, writeBytesPerSecond, readIOPS, writeIOPS]
        if values.allSatisfy({ $0 == nil }) {
            throw .spec("io-max \(device)", "no limit given (rbps, wbps, riops or wiops)")
        }
        if values.contains(0) {
            throw .spec("io-max \(device)", "a limit of 0 would stop the device; the least is 1")
        }
    }
}
