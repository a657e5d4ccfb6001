/// One line of a uid_map or gid_map: `count` ids from `inside` map to `outside` in the parent.
public struct IDMap: Sendable, Equatable, Codable {
    public var inside: UInt32
    public var outside: UInt32
    public var count: UInt32

    public init(inside: UInt32, outside: UInt32, count: UInt32 = 1) {
        self.inside = inside
        self.outside = outside
        self.count = count
    }

    /// The text the kernel takes: "inside outside count\n".
    public var line: String { "\(inside) \(outside) \(count)\n" }
}
