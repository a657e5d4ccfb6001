import Glibc

/// Who is spawning: the effective ids the maps and checks are made for.
public struct Caller: Sendable, Equatable {
    public var uid: UInt32
    public var gid: UInt32

    public init(uid: UInt32, gid: UInt32) {
        self.uid = uid
        self.gid = gid
    }

    /// The calling process's effective uid and gid.
    public static var current: Caller {
        Caller(uid: geteuid(), gid: getegid())
    }

    public var isRoot: Bool { uid == 0 }

    /// The passwd name of `uid`, if it has one.
    public var userName: String? {
        getpwuid(uid).flatMap { $0.pointee.pw_name.map { String(cString: $0) } }
    }

    /// The name, or "uid N", for messages.
    var displayName: String { userName ?? "uid \(uid)" }
}
