/// A network interface as the kernel lists it.
public struct Link: Sendable, Equatable {
    public var index: Int32
    public var name: String
    /// The link kind ("bridge", "veth", …); nil for a plain device such as lo.
    public var kind: String?
    /// IFF_UP: administratively up.
    public var isUp: Bool
    /// The index of the bridge (or other master) it is enslaved to; 0 when none.
    public var masterIndex: Int32
    public var mtu: UInt32
    /// The hardware address as "aa:bb:cc:dd:ee:ff"; empty when it has none.
    public var macAddress: String

    public init(index: Int32, name: String, kind: String?, isUp: Bool, masterIndex: Int32, mtu: UInt32, macAddress: String) {
        self.index = index
        self.name = name
        self.kind = kind
        self.isUp = isUp
        self.masterIndex = masterIndex
        self.mtu = mtu
        self.macAddress = macAddress
    }
}

/// A link appearing, changing or going away, as a netlink notification reports it.
public struct LinkEvent: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// RTM_NEWLINK: created, or changed (up/down, renamed, enslaved).
        case new
        /// RTM_DELLINK: deleted, or moved to another namespace (or its namespace died).
        case deleted
    }

    public var kind: Kind
    public var index: Int32
    public var name: String
    public var isUp: Bool

    public init(kind: Kind, index: Int32, name: String, isUp: Bool) {
        self.kind = kind
        self.index = index
        self.name = name
        self.isUp = isUp
    }
}
